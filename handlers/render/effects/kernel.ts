/**
 * Convolution with sharp, shared by blur and convolution.
 *
 * sharp's `convolve` wants a kernel of at least 3×3 and an integer scale, so a thumbor kernel
 * (any odd size, already normalised here) is padded with zero rows/columns around its centre,
 * which does not change the result, and passed with scale 1.
 */
import type { RawImage } from "../common/raw.js";
import { fromRaw, materialise } from "../common/raw.js";

/** Convolves one frame with a `columns`-wide kernel (row-major, odd width and height). */
export async function convolveRaw(frame: RawImage, kernel: number[], columns: number): Promise<RawImage> {
  const rows = kernel.length / columns;
  const padX = columns < 3 ? (3 - columns) / 2 : 0;
  const padY = rows < 3 ? (3 - rows) / 2 : 0;
  const width = columns + 2 * padX;
  const height = rows + 2 * padY;
  const padded = new Array<number>(width * height).fill(0);
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < columns; x++) padded[(y + padY) * width + x + padX] = kernel[y * columns + x];
  }
  return materialise(fromRaw(frame).convolve({ width, height, kernel: padded, scale: 1, offset: 0 }));
}
