/**
 * A progressive JPEG reduced to what libjpeg reads when it decodes at 1/8: at that scale each 8x8
 * block becomes one pixel, computed from its DC coefficient alone, and a progressive file carries
 * every DC coefficient in its first scans. When every component is decoded from DC alone, the
 * DC coefficients are written again as a baseline file (jpeg/dc-baseline.ts), which libjpeg decodes
 * in one pass, without a buffer of the whole image's coefficients. Otherwise every marker segment
 * and every DC scan is kept as it is, and the AC scans of each component decoded from DC alone
 * become one scan whose data is runs of empty blocks ("end of band" for every block, T.81 G.1.2.2).
 *
 * A component's AC scans become one empty scan of coefficients 1 to 63, final (point transform
 * 0), in place of its first: at 1/8 libjpeg's IDCT reads the DC coefficient alone, and its block
 * smoothing changes that coefficient only when none of the first nine AC coefficients has had a
 * scan (jdcoefct.c, `change_dc`), which the one scan keeps as false as the whole file's scans do.
 * One scan, not an emptied copy of each: libjpeg visits every coefficient of every block in a
 * successive-approximation refinement scan, empty or not, so an 18 MP photo's three refinement
 * scans (libjpeg's own script) cost more than all its DC scans. A component whose AC scans do not
 * reach the first nine coefficients (DC smoothing stays on) keeps each of them, emptied, so that
 * smoothing sees the same coefficients. A subsampled chroma component (4:2:0) is not decoded
 * from DC alone: libjpeg scales its IDCT up instead of upsampling it afterwards, and that 2x2
 * IDCT reads AC coefficients, so its scans are kept whole. Pure: no sharp.
 */
import { BitWriter } from "./bit-writer.js";
import { dcBaselineJpeg } from "./dc-baseline.js";
import { blockCount, huffmanSegment, largestSampling, readJpegLayout, type HuffmanTable, type JpegLayout, type Scan } from "./markers.js";

/**
 * The end-of-band runs EOB0 to EOB14 (symbol n << 4 codes a run of 2^n to 2^(n+1) - 1 blocks,
 * the n low bits following it), each coded in 4 bits: code n for EOBn. An encoder's optimised
 * table holds only the runs its scan used (often EOB0 to EOB2, a symbol every few blocks), so each
 * emptied scan is coded with this one, defined just before it, and the original table is defined
 * again just after it for the scans that follow.
 */
const EOB_RUNS: HuffmanTable = {
  counts: [0, 0, 0, 15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  symbols: Uint8Array.from({ length: 15 }, (_, n) => n << 4),
};
const LONGEST_RUN = 2 ** 15 - 1;
const EOI = Buffer.from([0xff, 0xd9]);

/**
 * The same JPEG with only the coefficients libjpeg reads at 1/8 (a baseline file where it can be:
 * the module's comment), which decodes at 1/8 to the same pixels, or null when the file is not
 * one this rewrite is sure of (not progressive, restart markers, arithmetic coding, not 8-bit, a
 * layout the reader does not understand), or when it
 * would not be smaller: each emptied scan adds two table definitions, so a file of many tiny
 * scans could otherwise come out several times larger than the original. A layout read up to
 * the end of a prefix (readJpegLayout's `endAt`, jpeg/prefix.ts) gets the EOI the prefix lacks.
 */
export function dcOnlyJpeg(jpeg: Buffer, layout: JpegLayout | null = readJpegLayout(jpeg)): Buffer | null {
  if (!layout || !layout.progressive || layout.restarts || layout.arithmetic || layout.precision !== 8) return null;
  // At 1/8 such a file's pixels come from its DC coefficients alone, without libjpeg's DC smoothing.
  const dcAlone = layout.components.every((_, c) => decodedFromDcAlone(layout, c) && acScansReachFirstNine(layout, c));
  const baseline = dcAlone ? dcBaselineJpeg(jpeg, layout) : null;
  if (baseline) return baseline;
  const pieces: Buffer[] = [];
  const emptied = new Set<number>();
  let copied = 0;
  let length = 0;
  for (const scan of layout.scans) {
    // DC scans, and the scans of components whose decode at 1/8 reads AC coefficients, are copied as they are.
    if (scan.ss === 0 || !scan.components.every((c) => decodedFromDcAlone(layout, c))) continue;
    const original = scan.acTables[0];
    // AC scans code one component each (T.81 G.1.1.1.1); a scan without a table is not readable.
    if (scan.components.length !== 1 || !original) return null;
    const component = scan.components[0]!;
    const oneScan = acScansReachFirstNine(layout, component);
    const rewritten = [jpeg.subarray(copied, scan.start)];
    if (!oneScan || !emptied.has(component)) {
      const destination = scan.acDestinations[0]!;
      const header = oneScan ? wholeBandHeader(jpeg, scan) : jpeg.subarray(scan.start, scan.dataStart);
      rewritten.push(
        huffmanSegment(1, destination, EOB_RUNS),
        header,
        emptyScanData(blockCount(layout, component)),
        huffmanSegment(1, destination, original),
      );
      emptied.add(component);
    }
    length += rewritten.reduce((sum, piece) => sum + piece.length, 0);
    if (length >= jpeg.length) return null;
    pieces.push(...rewritten);
    copied = scan.dataEnd;
  }
  pieces.push(jpeg.subarray(copied));
  if (layout.end === jpeg.length) pieces.push(EOI);
  return length + jpeg.length - copied < jpeg.length ? Buffer.concat(pieces) : null;
}

/** libjpeg turns DC smoothing off for a component once any of its first nine AC coefficients has had a scan. */
const SMOOTHING_AC = 9;

/** Whether some AC scan of the component codes one of its first nine AC coefficients. */
function acScansReachFirstNine(layout: JpegLayout, component: number): boolean {
  return layout.scans.some((scan) => scan.ss > 0 && scan.ss <= SMOOTHING_AC && scan.components.includes(component));
}

/** The header of `scan` (one component) as a first scan of coefficients 1 to 63 at point transform 0 (T.81 B.2.3). */
function wholeBandHeader(jpeg: Buffer, scan: Scan): Buffer {
  const header = Buffer.from(jpeg.subarray(scan.start, scan.dataStart));
  header.set([1, 63, 0], header.length - 3);
  return header;
}

/**
 * Whether libjpeg decodes this component at 1/8 with a 1x1 IDCT (its DC coefficient alone). It
 * doubles a component's IDCT size, from 1 up to 8, while the component's sampling factors divide
 * the largest ones twice as many times over: for 4:2:0 chroma (1x1 against 2x2) it takes 2x2.
 */
export function decodedFromDcAlone(layout: JpegLayout, component: number): boolean {
  const { h, v } = layout.components[component]!;
  const { hmax, vmax } = largestSampling(layout);
  return hmax % (2 * h) !== 0 || vmax % (2 * v) !== 0;
}

/** An AC scan's entropy-coded data that delivers no coefficient: `blocks` blocks in end-of-band runs, coded with EOB_RUNS. */
export function emptyScanData(blocks: number): Buffer {
  const bits = new BitWriter();
  while (blocks > 0) {
    const run = Math.min(blocks, LONGEST_RUN);
    const n = Math.floor(Math.log2(run));
    bits.write(n, 4);
    bits.write(run - 2 ** n, n);
    blocks -= run;
  }
  return bits.finish();
}
