/**
 * equalize(): thumbor (`_equalize.c`) equalises each colour channel's histogram on its own:
 * c' = trunc((cdf(c) - cdfMin) / (pixels - cdfMin) * 255), where cdf is the cumulative count.
 * Two quirks are reproduced: cdfMin is looked up in one scan that stops at the first grey level
 * where **any** channel has pixels (a channel whose darkest level is brighter keeps cdfMin = 0),
 * and a channel with a single level (0 / 0 in thumbor's float maths, which x86 turns into 0)
 * becomes 0.
 *
 * Here: the same lookup tables, applied to the raw pixels (sharp's `normalise` stretches
 * levels linearly and `clahe` equalises locally; neither is histogram equalisation).
 * Parity: exact.
 */
import { applyChannelTables, perFrame } from "../common/raw.js";

export const equalize = perFrame((raw) => {
  const n = raw.channels;
  const area = raw.width * raw.height;
  const hist = [new Float64Array(256), new Float64Array(256), new Float64Array(256)];
  for (let i = 0; i < raw.data.length; i += n) {
    hist[0][raw.data[i]]++;
    hist[1][raw.data[i + 1]]++;
    hist[2][raw.data[i + 2]]++;
  }
  const cdf = hist.map((h) => {
    const c = new Float64Array(256);
    for (let v = 0, sum = 0; v < 256; v++) {
      sum += h[v];
      if (h[v] > 0) c[v] = sum;
    }
    return c;
  });
  const minCdf: number[] = [0, 0, 0];
  // One scan that stops after the first level where any channel has pixels (thumbor's quirk).
  for (let v = 0, found = false; v < 256 && !found; v++) {
    for (let ch = 0; ch < 3; ch++) if (minCdf[ch] === 0 && cdf[ch][v] !== 0) minCdf[ch] = cdf[ch][v];
    found = minCdf.some((m) => m !== 0);
  }
  const tables = cdf.map((c, ch) => {
    const t = new Uint8Array(256);
    const span = area - minCdf[ch];
    for (let v = 0; v < 256; v++) {
      const level = Math.fround(Math.fround((c[v] - minCdf[ch]) / span) * 255);
      // A NaN (single-level channel) or out-of-range value is what C's float-to-uchar cast leaves as 0 on x86.
      t[v] = Number.isFinite(level) && level >= 0 && level < 256 ? Math.trunc(level) : 0;
    }
    return t;
  });
  return applyChannelTables(raw, tables[0], tables[1], tables[2]);
});
