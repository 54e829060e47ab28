/**
 * How much of a progressive JPEG its decode at 1/8 reads: the shortest prefix, ending where a
 * scan ends, after which the rest of the file cannot change that decode, so that origin-response
 * can stop reading the original there. Pure: no sharp, no I/O.
 *
 * At 1/8 a component decoded from its DC coefficient alone (jpeg/dc-only.ts) gives each block
 * one pixel from that coefficient, which only two things decide: its final value (every DC scan
 * read, the point transform down to 0) and libjpeg's block smoothing, which changes the DC
 * coefficient of a component only while none of its first nine AC coefficients has had a scan
 * (jdcoefct.c, `change_dc`). A component decoded with a larger IDCT (4:2:0 chroma) reads AC
 * coefficients, so all of them must be final. Past such a prefix a file that follows T.81's
 * progression (G.1.1.1.2: each scan of a band lowers its point transform by one) holds only AC
 * scans of the components decoded from DC alone; libjpeg only warns about a file that breaks it,
 * whose picture then follows its conforming prefix.
 *
 * Where the DC scans end depends on the encoder's scan script: libjpeg's (what sharp writes)
 * refines the DC after most AC scans, about two thirds into the file; mozjpeg's codes the DC once,
 * first, but its 4:2:0 chroma is final only at the very end.
 */
import type { TransformPlan } from "../../core/plan.js";
import { decodedFromDcAlone } from "./dc-only.js";
import { readJpegLayout, type JpegLayout } from "./markers.js";

/** libjpeg's largest reduction: a decode at 1/8 needs the output at least 8 times smaller. */
const EIGHTH = 8;
/** Each reading walks the prefix from the start: an original whose first scan is not found after this many is not watched further. */
const MAX_WALKS = 16;
const SOS_MARKER = Buffer.from([0xff, 0xda]);

/** Where the bytes read so far stand: enough up to `end`, more needed, or the whole file (not a file the 1/8 decode can cut). */
export type PrefixVerdict = { end: number } | "more" | "whole";

/**
 * Watches an original as it arrives. `check` is called with every longer prefix of the same
 * bytes and resumes where it stopped. Each SOS marker is a candidate end (the scan before it ends
 * there); the layout is read from the start (markers.ts) only until the first scan is known, and
 * the later scan headers are replayed as they come, so a 16 MB original is not walked once per scan.
 */
export class DcPrefixWatch {
  private searchFrom = 2;
  private walks = 0;
  private layout: JpegLayout | null = null;
  private bits: number[][] = [];
  /** The SOS marker of the last scan seen, replayed once the next one shows where it ends. */
  private pending = -1;

  constructor(private readonly output: { width: number; height: number }) {}

  check(received: Buffer): PrefixVerdict {
    for (;;) {
      const at = received.indexOf(SOS_MARKER, this.searchFrom);
      if (at < 0) {
        this.searchFrom = Math.max(this.searchFrom, received.length - 1);
        return "more";
      }
      this.searchFrom = at + 2;
      const verdict = this.layout ? this.nextScan(received, at) : this.firstScans(received, at);
      if (verdict !== "more") return verdict;
    }
  }

  /** Before the layout is known: the first candidate whose prefix reads as a JPEG with scans gives the frame. */
  private firstScans(received: Buffer, at: number): PrefixVerdict {
    if (++this.walks > MAX_WALKS) return "whole";
    // Not a layout yet: the first SOS, or an SOS-looking pair inside a segment (an EXIF thumbnail).
    const layout = readJpegLayout(received, at);
    if (!layout || layout.scans.length === 0) return "more";
    if (!cuttable(layout) || !mayShrinkByEight(layout, this.output)) return "whole";
    this.layout = layout;
    this.bits = coefficientBits(layout);
    this.pending = at;
    return this.verified(at);
  }

  private nextScan(received: Buffer, at: number): PrefixVerdict {
    replayScanHeader(this.layout!, this.bits, received, this.pending);
    this.pending = at;
    return this.verified(at);
  }

  /**
   * The replay could be misled by an SOS-looking pair inside a segment between scans; the render
   * reads the prefix exactly (dcDecodeComplete) before it decodes from it, and asks for the
   * whole file when it does not hold.
   */
  private verified(at: number): PrefixVerdict {
    return bitsComplete(this.layout!, this.bits) ? { end: at } : "more";
  }
}

/**
 * A watch for a plan that may be rendered from a prefix, or null: only a resize of the whole
 * image to a given box (no manual crop, trim or meta document: the render's DC-only decode is
 * for a resize of the whole image, and trim reads the full-size pixels).
 */
export function dcPrefixWatch(plan: TransformPlan): DcPrefixWatch | null {
  const { width, height } = plan;
  // "orig" keeps a side at the original's size: no 1/8 decode.
  if (width === "orig" || height === "orig" || (width === 0 && height === 0)) return null;
  if (plan.meta || plan.trim || plan.crop) return null;
  return new DcPrefixWatch({ width: Math.abs(width), height: Math.abs(height) });
}

/** What dc-only.ts rewrites: progressive Huffman coding of 8-bit samples, no restart markers. */
function cuttable(layout: JpegLayout): boolean {
  return layout.progressive && !layout.arithmetic && !layout.restarts && layout.precision === 8;
}

/** The output fits 8 times into the original, in one of its two orientations (EXIF may turn it): a necessary condition only, the render decides. */
function mayShrinkByEight(layout: JpegLayout, output: { width: number; height: number }): boolean {
  const fits = (w: number, h: number) => w >= EIGHTH * output.width && h >= EIGHTH * output.height;
  return fits(layout.width, layout.height) || fits(layout.height, layout.width);
}

/**
 * Whether the scans of `layout` already give the decode at 1/8 of the whole file (the module's
 * comment): libjpeg's coefficient state (its `coef_bits`: the point transform each coefficient
 * of each component was last coded with, -1 before any) replayed over the scans.
 */
export function dcDecodeComplete(layout: JpegLayout): boolean {
  if (layout.scans.some((scan) => scan.se > 63 || scan.ss > scan.se)) return false;
  return bitsComplete(layout, coefficientBits(layout));
}

function coefficientBits(layout: JpegLayout): number[][] {
  const bits = layout.components.map(() => new Array<number>(64).fill(-1));
  for (const scan of layout.scans) for (const c of scan.components) bits[c]!.fill(scan.al, scan.ss, Math.min(scan.se, 63) + 1);
  return bits;
}

/** The scan header at the SOS marker `at` (T.81 B.2.3) replayed into `bits`; a header that does not fit the frame is left out. */
function replayScanHeader(layout: JpegLayout, bits: number[][], bytes: Buffer, at: number): void {
  const count = bytes[at + 4] ?? 0;
  const tail = at + 5 + 2 * count;
  if (count < 1 || count > 4 || tail + 2 >= bytes.length) return;
  const components = Array.from({ length: count }, (_, i) => layout.components.findIndex((c) => c.id === bytes[at + 5 + 2 * i]));
  const [ss, se, ahal] = [bytes[tail]!, bytes[tail + 1]!, bytes[tail + 2]!];
  if (components.includes(-1) || ss > se || se > 63) return;
  for (const c of components) bits[c]!.fill(ahal & 15, ss, se + 1);
}

function bitsComplete(layout: JpegLayout, bits: number[][]): boolean {
  return bits.every((coefficients, c) => {
    if (coefficients[0] !== 0) return false;
    if (!decodedFromDcAlone(layout, c)) return coefficients.every((al) => al === 0);
    return coefficients.slice(1, 10).some((al) => al !== -1);
  });
}
