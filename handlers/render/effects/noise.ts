/**
 * noise(amount[, seed]): thumbor (`_noise.c`) adds one random offset per pixel to R, G and B
 * alike: (rand() % amount) - (amount >> 1), clamped to 0..255, where rand() is the C library's
 * generator, seeded with `srand(seed)` when seed > 0.
 *
 * Here: the same formula with glibc's rand() reimplemented (its additive-feedback generator,
 * checked against glibc's own output in the tests), so for a seed > 0 the result is exactly what
 * thumbor on Linux/glibc produces. Difference: without a seed (or with seed 0) thumbor continues
 * the process-wide rand() stream, so its output changes from request to request; a cached variant
 * must be stable, so here it always starts from glibc's initial state (that of srand(1)), i.e.
 * what thumbor gives on the first such request after it starts. Builds of thumbor whose filters
 * are the Rust rewrite (`_noise/src/lib.rs`) draw from Rust's seeded StdRng instead of glibc: the
 * same uniform offsets, a different pattern, which is not reproduced here.
 */
import { integerArg } from "../common/filter-args.js";
import { perFrame, withData } from "../common/raw.js";

/**
 * glibc's rand() (the TYPE_3 additive feedback generator behind random()/srand()).
 * State r[i] = r[i-3] + r[i-31] (mod 2³²) seeded by a Park–Miller sequence; the first 310
 * values are discarded; each output is the sum shifted right by one.
 */
export class GlibcRandom {
  private readonly r = new Int32Array(34);
  private i = 0;

  constructor(seed: number) {
    const r = this.r;
    let word = seed | 0;
    if (word === 0) word = 1;
    r[0] = word;
    for (let k = 1; k < 31; k++) {
      // 16807 * word mod (2³¹ - 1) without overflow (Schrage's method), as glibc computes it.
      const hi = Math.trunc(word / 127773);
      const lo = word % 127773;
      word = 16807 * lo - 2836 * hi;
      if (word < 0) word += 2147483647;
      r[k] = word;
    }
    // The ring keeps the last 34 values; values 31..33 repeat 0..2.
    for (let k = 31; k < 34; k++) r[k] = r[k - 31];
    this.i = 0;
    for (let k = 0; k < 310; k++) this.step();
  }

  private step(): number {
    const r = this.r;
    // Slot i holds the value 34 places back; i+3 and i+31 (mod 34) hold those 31 and 3 places back.
    const v = (r[(this.i + 3) % 34] + r[(this.i + 31) % 34]) | 0;
    r[this.i] = v;
    this.i = (this.i + 1) % 34;
    return v;
  }

  /** Next value of rand(): 0 .. 2³¹-1. */
  next(): number {
    return this.step() >>> 1;
  }
}

export const noise = perFrame((raw, args) => {
  // thumbor's C keeps the amount and the seed in ints: an amount that wraps to ≤ 0 adds nothing,
  // only a positive int32 seed reseeds.
  const amount = integerArg("noise", args, 0) | 0;
  const seed = integerArg("noise", args, 1) | 0;
  if (amount <= 0) return raw;
  const rand = new GlibcRandom(seed > 0 ? seed : 1);
  const half = amount >> 1;
  const src = raw.data;
  const out = Buffer.from(src);
  for (let i = 0; i < src.length; i += raw.channels) {
    const offset = (rand.next() % amount) - half;
    for (let c = 0; c < 3; c++) {
      const v = src[i + c] + offset;
      out[i + c] = v > 255 ? 255 : v < 0 ? 0 : v;
    }
  }
  return withData(raw, out);
});
