/**
 * JPEG files for the marker reader and DC-only tests: progressive ones sharp writes, and the
 * variants sharp cannot write (restart markers, arithmetic coding) patched or made by hand.
 */
import sharp, { type JpegOptions } from "sharp";

/** A progressive JPEG of a smooth photo-like gradient with detail, `width` x `height`. */
export async function progressiveJpeg(width: number, height: number, options: JpegOptions = {}, grey = false): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = (x * 255) / width;
      data[i + 1] = (y * 255) / height;
      data[i + 2] = ((x * 7) ^ (y * 13)) & 255; // high-frequency detail: AC coefficients in every band
    }
  }
  const image = sharp(data, { raw: { width, height, channels: 3 } });
  return (grey ? image.toColourspace("b-w") : image).jpeg({ quality: 90, ...options, progressive: true }).toBuffer();
}

/**
 * The same file with a DRI segment (restart interval 4) before its first scan. Its data holds no
 * RSTn marker, so libjpeg would stop at the first one it expects: a file for the readers only.
 */
export function withRestartInterval(jpeg: Buffer): Buffer {
  const sos = jpeg.indexOf(Buffer.from([0xff, 0xda]));
  return Buffer.concat([jpeg.subarray(0, sos), Buffer.from([0xff, 0xdd, 0x00, 0x04, 0x00, 0x04]), jpeg.subarray(sos)]);
}

/** A hand-made 8x8 greyscale JPEG header and one scan: an SOF9 frame, an SOF0 frame with a DAC segment, or SOF0 alone. */
export function arithmeticHeader(kind: "sof" | "dac" | "none"): Buffer {
  const sof = [0xff, kind === "sof" ? 0xc9 : 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x08, 0x00, 0x08, 0x01, 0x01, 0x11, 0x00];
  const dac = kind === "dac" ? [0xff, 0xcc, 0x00, 0x04, 0x00, 0x10] : [];
  const sos = [0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00];
  return Buffer.from([0xff, 0xd8, ...dac, ...sof, ...sos, 0x00, 0xff, 0xd9]);
}
