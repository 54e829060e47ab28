/**
 * A float Lanczos-3 reduction, the quality reference of the bench: the full-size decoded original
 * resampled in double precision with no rounding between the passes (Pillow's tap placement:
 * centre (x + 0.5)·scale, support 3·scale, weights normalised), rounded once at the end. Slow
 * (plain JavaScript) and meant to be: it is nobody's fast path, so it favours no encoder or decoder.
 */

export interface Pixels {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

function lanczos3(x: number): number {
  if (x === 0) return 1;
  if (x <= -3 || x >= 3) return 0;
  const px = Math.PI * x;
  return (3 * Math.sin(px) * Math.sin(px / 3)) / (px * px);
}

/** For each output index: the first input index and the normalised weights. */
function taps(inSize: number, outSize: number): { first: number[]; weights: Float64Array[] } {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 3 * filterScale;
  const first: number[] = [];
  const weights: Float64Array[] = [];
  for (let x = 0; x < outSize; x++) {
    const centre = (x + 0.5) * scale;
    const from = Math.max(0, Math.trunc(centre - support + 0.5));
    const to = Math.min(inSize, Math.trunc(centre + support + 0.5));
    const w = new Float64Array(to - from);
    let sum = 0;
    for (let i = from; i < to; i++) sum += w[i - from] = lanczos3((i - centre + 0.5) / filterScale);
    for (let i = 0; i < w.length; i++) w[i]! /= sum;
    first.push(from);
    weights.push(w);
  }
  return { first, weights };
}

/** `src` resampled to `width` x `height` (no alpha handling: the bench's photos are RGB). */
export function floatLanczos(src: Pixels, width: number, height: number): Pixels {
  const { channels: ch } = src;
  const h = taps(src.width, width);
  const mid = new Float64Array(width * src.height * ch);
  for (let y = 0; y < src.height; y++) {
    const row = y * src.width * ch;
    for (let x = 0; x < width; x++) {
      const w = h.weights[x]!;
      const base = row + h.first[x]! * ch;
      for (let c = 0; c < ch; c++) {
        let acc = 0;
        for (let i = 0; i < w.length; i++) acc += w[i]! * src.data[base + i * ch + c]!;
        mid[(y * width + x) * ch + c] = acc;
      }
    }
  }
  const v = taps(src.height, height);
  const out = new Uint8Array(width * height * ch);
  for (let y = 0; y < height; y++) {
    const w = v.weights[y]!;
    const from = v.first[y]!;
    for (let x = 0; x < width * ch; x++) {
      let acc = 0;
      for (let i = 0; i < w.length; i++) acc += w[i]! * mid[(from + i) * width * ch + x]!;
      out[y * width * ch + x] = Math.min(255, Math.max(0, Math.round(acc)));
    }
  }
  return { data: out, width, height, channels: ch };
}
