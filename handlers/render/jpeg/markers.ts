/**
 * A JPEG's marker structure, read without decoding a pixel (ITU-T T.81, Annex B): the frame, the
 * Huffman tables, and every scan with where its entropy-coded data lies. Pure: no sharp, no I/O.
 * It answers null ("unsure") for anything it does not fully understand (a truncated file, a
 * second frame, lossless or hierarchical coding, a DNL height, an unknown marker), so that a
 * caller rewriting the file can fall back to the original instead of guessing.
 */

export interface HuffmanTable {
  /** How many codes have each length from 1 to 16 bits (BITS). */
  counts: readonly number[];
  /** The symbols in code order (HUFFVAL). */
  symbols: Uint8Array;
}

export interface FrameComponent {
  id: number;
  h: number;
  v: number;
}

export interface Scan {
  /** Offset of the SOS marker. */
  start: number;
  /** Offset of the first entropy-coded byte, just after the SOS header. */
  dataStart: number;
  /** Offset of the marker that ends the entropy-coded data. */
  dataEnd: number;
  /** The frame components coded in this scan, in scan order (indices into `JpegLayout.components`). */
  components: number[];
  /** The AC Huffman table destination (0-3) each of those components uses. */
  acDestinations: number[];
  /** The AC Huffman table defined at each of those destinations when the scan starts. */
  acTables: (HuffmanTable | undefined)[];
  /** The DC Huffman table each of those components uses, as defined when the scan starts. */
  dcTables: (HuffmanTable | undefined)[];
  /** Spectral selection: the first and last coefficient of the band (0 and 0 for a DC scan). */
  ss: number;
  se: number;
  /** Successive approximation: the previous and the current point transform (ah 0 for a first scan). */
  ah: number;
  al: number;
}

export interface JpegLayout {
  /** SOF2 or SOF10: the coefficients arrive in several scans. */
  progressive: boolean;
  /** SOF9/SOF10 or a DAC segment: arithmetic, not Huffman, entropy coding. */
  arithmetic: boolean;
  /** A DRI segment with a non-zero interval: the entropy-coded data holds RSTn markers. */
  restarts: boolean;
  /** Bits per sample. */
  precision: number;
  width: number;
  height: number;
  components: FrameComponent[];
  scans: Scan[];
  /** Offset of the EOI marker. */
  end: number;
  /** A DQT segment follows the first scan: a quantisation table may change between scans. */
  laterQuantTables: boolean;
}

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const DHT = 0xc4;
const DAC = 0xcc;
const DRI = 0xdd;
const DQT = 0xdb;
const COM = 0xfe;
/** The frame markers read here: baseline, extended and progressive, Huffman or arithmetic. */
const FRAMES: ReadonlyMap<number, { progressive: boolean; arithmetic: boolean }> = new Map([
  [0xc0, { progressive: false, arithmetic: false }],
  [0xc1, { progressive: false, arithmetic: false }],
  [0xc2, { progressive: true, arithmetic: false }],
  [0xc9, { progressive: false, arithmetic: true }],
  [0xca, { progressive: true, arithmetic: true }],
]);
const isApp = (marker: number) => marker >= 0xe0 && marker <= 0xef;
const isRst = (marker: number) => marker >= 0xd0 && marker <= 0xd7;

class Unsure extends Error {}

function check(condition: boolean): asserts condition {
  if (!condition) throw new Unsure();
}

/**
 * The file's layout, or null when it is not a JPEG this reader fully understands. `endAt`, the
 * offset of a marker, reads the bytes before it as a whole file, as if an EOI stood there: the
 * layout of a prefix that ends where a scan ends (jpeg/prefix.ts).
 */
export function readJpegLayout(jpeg: Uint8Array, endAt?: number): JpegLayout | null {
  try {
    return endAt === undefined ? walk(jpeg, false) : walk(jpeg.subarray(0, endAt), true);
  } catch (err) {
    if (err instanceof Unsure) return null;
    throw err;
  }
}

interface State {
  layout: Partial<JpegLayout> & { scans: Scan[]; arithmetic: boolean; restarts: boolean; laterQuantTables: boolean };
  /** The AC Huffman tables currently defined, by destination 0-3. */
  acTables: (HuffmanTable | undefined)[];
  /** The DC Huffman tables currently defined, by destination 0-3. */
  dcTables: (HuffmanTable | undefined)[];
}

/** `endsAsEoi`: the end of `jpeg` reads as an EOI marker (and ends the last scan's data). */
function walk(jpeg: Uint8Array, endsAsEoi: boolean): JpegLayout {
  check(jpeg.length >= 4 && jpeg[0] === 0xff && jpeg[1] === SOI);
  const state: State = { layout: { scans: [], arithmetic: false, restarts: false, laterQuantTables: false }, acTables: [], dcTables: [] };
  let pos = 2;
  for (;;) {
    if (endsAsEoi && pos === jpeg.length) return finished(state, pos);
    const { marker, at } = nextMarker(jpeg, pos);
    if (marker === EOI) return finished(state, at);
    check(at + 4 <= jpeg.length);
    const length = (jpeg[at + 2]! << 8) | jpeg[at + 3]!;
    check(length >= 2 && at + 2 + length <= jpeg.length);
    const body = jpeg.subarray(at + 4, at + 2 + length);
    pos = at + 2 + length;
    if (marker === SOS) pos = readScan(jpeg, state, body, at, pos, endsAsEoi);
    else readSegment(state, marker, body);
  }
}

/** The marker at `pos`, after any fill bytes (0xFF) before it. */
function nextMarker(jpeg: Uint8Array, pos: number): { marker: number; at: number } {
  check(jpeg[pos] === 0xff);
  while (jpeg[pos + 1] === 0xff) pos++;
  check(pos + 1 < jpeg.length);
  return { marker: jpeg[pos + 1]!, at: pos };
}

function finished(state: State, end: number): JpegLayout {
  const { layout } = state;
  check(layout.components !== undefined && layout.scans.length > 0);
  return { ...(layout as JpegLayout), end };
}

function readSegment(state: State, marker: number, body: Uint8Array): void {
  const frame = FRAMES.get(marker);
  if (frame) return readFrame(state, frame, body);
  if (marker === DHT) return readHuffmanTables(state, body);
  if (marker === DAC) {
    state.layout.arithmetic = true;
    return;
  }
  if (marker === DRI) {
    check(body.length === 2);
    if (((body[0]! << 8) | body[1]!) !== 0) state.layout.restarts = true;
    return;
  }
  if (marker === DQT && state.layout.scans.length > 0) state.layout.laterQuantTables = true;
  // Tables and metadata kept as they are; anything else (SOI again, RSTn, DNL, lossless or
  // hierarchical frames, reserved markers) is not understood here.
  check(marker === DQT || marker === COM || isApp(marker));
}

function readFrame(state: State, frame: { progressive: boolean; arithmetic: boolean }, body: Uint8Array): void {
  const { layout } = state;
  check(layout.components === undefined && body.length >= 6);
  const count = body[5]!;
  check(count >= 1 && body.length === 6 + 3 * count);
  const height = (body[1]! << 8) | body[2]!;
  const width = (body[3]! << 8) | body[4]!;
  // A zero height is given later by a DNL marker: not read here.
  check(height > 0 && width > 0);
  const components: FrameComponent[] = [];
  for (let i = 0; i < count; i++) {
    const sampling = body[6 + 3 * i + 1]!;
    const h = sampling >> 4;
    const v = sampling & 15;
    check(h >= 1 && h <= 4 && v >= 1 && v <= 4);
    components.push({ id: body[6 + 3 * i]!, h, v });
  }
  check(new Set(components.map((c) => c.id)).size === count);
  Object.assign(layout, { ...frame, arithmetic: layout.arithmetic || frame.arithmetic, precision: body[0]!, width, height, components });
}

function readHuffmanTables(state: State, body: Uint8Array): void {
  let pos = 0;
  while (pos < body.length) {
    check(pos + 17 <= body.length);
    const tableClass = body[pos]! >> 4;
    const destination = body[pos]! & 15;
    check(tableClass <= 1 && destination <= 3);
    const counts = Array.from(body.subarray(pos + 1, pos + 17));
    const total = counts.reduce((a, b) => a + b, 0);
    check(total <= 256 && pos + 17 + total <= body.length);
    const symbols = body.slice(pos + 17, pos + 17 + total);
    (tableClass === 1 ? state.acTables : state.dcTables)[destination] = { counts, symbols };
    pos += 17 + total;
  }
}

/** Reads an SOS header and skips its entropy-coded data; returns the offset of the marker after it. */
function readScan(jpeg: Uint8Array, state: State, body: Uint8Array, start: number, dataStart: number, endsAsEoi: boolean): number {
  const frameComponents = state.layout.components;
  check(frameComponents !== undefined && body.length >= 1);
  const count = body[0]!;
  check(count >= 1 && count <= 4 && body.length === 4 + 2 * count);
  const components: number[] = [];
  const acDestinations: number[] = [];
  const dcDestinations: number[] = [];
  for (let i = 0; i < count; i++) {
    const index = frameComponents.findIndex((c) => c.id === body[1 + 2 * i]);
    check(index >= 0 && !components.includes(index));
    components.push(index);
    acDestinations.push(body[2 + 2 * i]! & 15);
    dcDestinations.push(body[2 + 2 * i]! >> 4);
  }
  const acTables = acDestinations.map((d) => state.acTables[d]);
  const dcTables = dcDestinations.map((d) => state.dcTables[d]);
  const tail = 1 + 2 * count;
  const dataEnd = entropyDataEnd(jpeg, dataStart, endsAsEoi);
  state.layout.scans.push({
    start,
    dataStart,
    dataEnd,
    components,
    acDestinations,
    acTables,
    dcTables,
    ss: body[tail]!,
    se: body[tail + 1]!,
    ah: body[tail + 2]! >> 4,
    al: body[tail + 2]! & 15,
  });
  return dataEnd;
}

/** The offset of the first marker after `pos` that is neither a stuffed 0xFF00 nor an RSTn. */
function entropyDataEnd(jpeg: Uint8Array, pos: number, endsAsEoi: boolean): number {
  for (;;) {
    const ff = jpeg.indexOf(0xff, pos);
    if (ff < 0 && endsAsEoi) return jpeg.length;
    check(ff >= 0 && ff + 1 < jpeg.length); // no marker after the data: truncated
    const next = jpeg[ff + 1]!;
    if (next !== 0x00 && !isRst(next)) return ff;
    pos = ff + 2;
  }
}

/** The largest horizontal and vertical sampling factors of the frame's components. */
export function largestSampling(layout: JpegLayout): { hmax: number; vmax: number } {
  return { hmax: Math.max(...layout.components.map((c) => c.h)), vmax: Math.max(...layout.components.map((c) => c.v)) };
}

/** A non-interleaved scan covers the component's own blocks: ceil(X * h / (8 * hmax)) by ceil(Y * v / (8 * vmax)) (T.81 A.2.2). */
export function blockCount(layout: JpegLayout, component: number): number {
  const { h, v } = layout.components[component]!;
  const { hmax, vmax } = largestSampling(layout);
  return Math.ceil((layout.width * h) / (8 * hmax)) * Math.ceil((layout.height * v) / (8 * vmax));
}

/** An interleaved scan covers the frame in MCUs of 8 hmax x 8 vmax pixels, the last ones padded (T.81 A.2.3). */
export function mcuCount(layout: JpegLayout): number {
  const { hmax, vmax } = largestSampling(layout);
  return Math.ceil(layout.width / (8 * hmax)) * Math.ceil(layout.height / (8 * vmax));
}

/** A DHT segment defining one table (T.81 B.2.4.2): class 0 for DC, 1 for AC. */
export function huffmanSegment(tableClass: 0 | 1, destination: number, table: HuffmanTable): Buffer {
  const length = 2 + 1 + 16 + table.symbols.length;
  return Buffer.from([0xff, DHT, length >> 8, length & 0xff, (tableClass << 4) | destination, ...table.counts, ...table.symbols]);
}
