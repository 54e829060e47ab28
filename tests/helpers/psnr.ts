import type { ExecutionContext } from "ava";

/**
 * Peak signal-to-noise ratio between two 8-bit images of the same layout, in dB
 * (Infinity when identical). 48.1 dB is the value for an error of exactly one level on every
 * sample, so "≥ 48 dB" means "on average no worse than off by one everywhere".
 */
export function psnr(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`psnr: ${a.length} vs ${b.length} samples`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    sum += d * d;
  }
  if (sum === 0) return Infinity;
  return 10 * Math.log10((255 * 255) / (sum / a.length));
}

/** Largest absolute difference between two sample arrays. */
export function maxAbsDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`maxAbsDiff: ${a.length} vs ${b.length} samples`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/** Asserts that an effect's pixels are within `maxLevels` of the reference everywhere and `minDb` on average (logged). */
export function assertClose(t: ExecutionContext, got: { data: Uint8Array }, want: Uint8Array, maxLevels: number, minDb: number): void {
  const db = psnr(got.data, want);
  const worst = maxAbsDiff(got.data, want);
  t.log(`PSNR ${db.toFixed(2)} dB, worst sample ${worst} level(s)`);
  t.true(worst <= maxLevels, `worst sample differs by ${worst} levels`);
  t.true(db >= minDb, `PSNR ${db} dB`);
}
