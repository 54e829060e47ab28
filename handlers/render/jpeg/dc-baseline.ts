/**
 * A progressive JPEG's DC coefficients written again as a baseline (sequential) JPEG with no AC
 * coefficient: at 1/8 libjpeg decodes it to the same pixels as the whole file, in one pass.
 *
 * Why not the progressive DC-only rewrite (dc-only.ts) alone: libjpeg decodes a progressive file
 * into a buffer of every coefficient of the image (128 bytes per block, 72 MB for an 18 MP photo),
 * zeroed and touched page by page on every decode; a sequential file is decoded MCU by MCU with
 * no such buffer. The DC coefficients are read here from the DC scans (T.81 G.1.2.1: a first scan
 * with its point transform, then one bit per block per refinement) and each block is written as
 * its DC difference and an end of block (T.81 F.1.2).
 *
 * Same pixels at 1/8 because libjpeg's 1x1 IDCT reads the DC coefficient alone, and its block
 * smoothing, the only other thing that could change a progressive file's DC, does so only for a
 * component none of whose first nine AC coefficients has had a scan: such files, and files with
 * a component not decoded from DC alone (4:2:0 chroma), are left to dc-only.ts. Any doubt (a code
 * that is not in its table, data that ends early, a quantisation table defined again between
 * scans, DC scans that do not each code every component in one order) gives null, never a guess.
 * Pure: no sharp.
 */
import { BitWriter } from "./bit-writer.js";
import { blockCount, huffmanSegment, mcuCount, type HuffmanTable, type JpegLayout, type Scan } from "./markers.js";

const DHT = 0xc4;
const SOF0 = 0xc0;
const SOF2 = 0xc2;
const SOS = 0xda;
const EOI = [0xff, 0xd9];

/** T.81 Table K.3 (luminance DC differences): every category of 8-bit samples, 0 to 11, codes of at most 9 bits. */
const DC_TABLE: HuffmanTable = {
  counts: [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0],
  symbols: Uint8Array.from({ length: 12 }, (_, i) => i),
};
/** One AC symbol, end of block (0x00), in one bit: 0. */
const AC_TABLE: HuffmanTable = { counts: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], symbols: Uint8Array.of(0) };
const LARGEST_CATEGORY = 11;
/** The bytes past a scan's data that its last reads may look ahead into (16 bits, and a byte of a partial refill). */
const LOOKAHEAD_BYTES = 3;

/** The data is not what a conforming encoder writes: the caller answers null. */
class NotSure extends Error {}

/**
 * The baseline file, or null (the module's comment). The caller (dc-only.ts) has checked that
 * libjpeg decodes every component at 1/8 from its DC coefficient alone, without DC smoothing.
 */
export function dcBaselineJpeg(jpeg: Uint8Array, layout: JpegLayout): Buffer | null {
  if (layout.laterQuantTables) return null;
  const dcScans = layout.scans.filter((scan) => scan.ss === 0);
  const order = dcScans[0]?.components ?? [];
  const inOrder = (scan: Scan) =>
    scan.se === 0 && scan.components.length === layout.components.length && scan.components.every((c, i) => c === order[i]);
  if (!dcScans.every(inOrder) || dcScans[0]!.ah !== 0 || dcScans.slice(1).some((scan) => scan.ah === 0)) return null;
  try {
    const data = transcode(jpeg, layout, dcScans);
    return Buffer.concat([
      headerSegments(jpeg, layout),
      huffmanSegment(0, 0, DC_TABLE),
      huffmanSegment(1, 0, AC_TABLE),
      scanHeader(layout, order),
      data,
      Buffer.from(EOI),
    ]);
  } catch (err) {
    if (err instanceof NotSure) return null;
    throw err;
  }
}

/**
 * Every block's DC coefficient, from the first DC scan and its refinements, written as the
 * baseline scan's difference and end of block. Every DC scan codes every component in the same
 * order, so its blocks come in the same order as in the scan written here: MCU by MCU, each
 * component's h x v blocks in turn; one component alone, block by block (T.81 A.2).
 */
function transcode(jpeg: Uint8Array, layout: JpegLayout, dcScans: Scan[]): Buffer {
  const [first, ...refinements] = dcScans as [Scan, ...Scan[]];
  const slots = first.components.flatMap((c, k) => new Array<number>(layout.components[c]!.h * layout.components[c]!.v).fill(k));
  const blocks = first.components.length > 1 ? slots.length * mcuCount(layout) : blockCount(layout, first.components[0]!);
  const decoders = first.dcTables.map((table) => {
    if (!table) throw new NotSure();
    return new HuffmanDecoder(table);
  });
  const firstBits = new BitReader(jpeg, first.dataStart, first.dataEnd);
  const refinementBits = refinements.map((scan) => new BitReader(jpeg, scan.dataStart, scan.dataEnd));
  const refinementValues = refinements.map((scan) => 1 << scan.al);
  const shift = first.al;
  const codes = huffmanCodes(DC_TABLE);
  // A few bits a block; a frame whose data is short stops the reader long before the writer grows.
  const out = new BitWriter(blocks);
  const read = new Int32Array(slots.length);
  const written = new Int32Array(slots.length);
  for (let block = 0, slot = 0; block < blocks; block++, slot = slot + 1 === slots.length ? 0 : slot + 1) {
    const k = slots[slot]!;
    const category = decoders[k]!.decode(firstBits);
    if (category > 0) read[k] += extend(firstBits.read(category), category);
    let value = read[k]! << shift;
    for (let r = 0; r < refinementBits.length; r++) if (refinementBits[r]!.read(1) === 1) value |= refinementValues[r]!;
    const diff = value - written[k]!;
    written[k] = value;
    const size = diff === 0 ? 0 : 32 - Math.clz32(diff < 0 ? -diff : diff);
    if (size > LARGEST_CATEGORY) throw new NotSure();
    // The difference's code and bits (T.81 F.1.2.1), then the end of block (AC_TABLE's 0): at most 9 + 11 + 1 bits.
    const code = codes[size]!;
    out.write(((code >> 5) << (size + 1)) | ((diff < 0 ? diff + (1 << size) - 1 : diff) << 1), (code & 31) + size + 1);
  }
  firstBits.checkWithinData();
  for (const bits of refinementBits) bits.checkWithinData();
  return out.finish();
}

/** T.81 F.2.2.1 EXTEND: the difference a category's bits stand for. */
function extend(value: number, category: number): number {
  return value < 1 << (category - 1) ? value - (1 << category) + 1 : value;
}

/** Each symbol's code, shifted left 5, with its length in the low 5 bits (T.81 C.2). */
function huffmanCodes(table: HuffmanTable): Int32Array {
  const codes = new Int32Array(256);
  let code = 0;
  let index = 0;
  for (let length = 1; length <= 16; length++, code <<= 1) {
    for (let k = 0; k < table.counts[length - 1]!; k++, code++) codes[table.symbols[index++]!] = (code << 5) | length;
  }
  return codes;
}

/** The SOI and every segment before the first scan, but the Huffman tables (replaced) and SOF2 (made SOF0). */
function headerSegments(jpeg: Uint8Array, layout: JpegLayout): Buffer {
  const kept: Uint8Array[] = [jpeg.subarray(0, 2)];
  const end = layout.scans[0]!.start;
  for (let pos = 2; pos < end;) {
    if (jpeg[pos] !== 0xff) throw new NotSure();
    if (jpeg[pos + 1] === 0xff) {
      pos++; // a fill byte
      continue;
    }
    const marker = jpeg[pos + 1]!;
    const segment = jpeg.subarray(pos, pos + 2 + ((jpeg[pos + 2]! << 8) | jpeg[pos + 3]!));
    if (marker === SOF2) kept.push(Uint8Array.of(0xff, SOF0), segment.subarray(2));
    else if (marker !== DHT) kept.push(segment);
    pos += segment.length;
  }
  return Buffer.concat(kept);
}

/** One scan of the components in `order` (interleaved when there are several), all with tables 0, coefficients 0 to 63 (T.81 B.2.3). */
function scanHeader(layout: JpegLayout, order: readonly number[]): Buffer {
  const count = order.length;
  return Buffer.from([0xff, SOS, 0, 6 + 2 * count, count, ...order.flatMap((c) => [layout.components[c]!.id, 0x00]), 0, 63, 0]);
}

/** Reads entropy-coded data most significant bit first, 0xFF00 read as 0xFF (T.81 F.2.2.5); past the data it reads 0-bits and counts them. */
class BitReader {
  private buffer = 0;
  private count = 0;
  private padded = 0;

  constructor(
    private readonly data: Uint8Array,
    private pos: number,
    private readonly end: number,
  ) {}

  /** The next 16 bits, not read yet. */
  peek16(): number {
    while (this.count < 16) {
      let byte = 0;
      if (this.pos < this.end) {
        byte = this.data[this.pos++]!;
        if (byte === 0xff) this.pos++; // its stuffed 0x00
      } else if (++this.padded > LOOKAHEAD_BYTES) throw new NotSure(); // data shorter than its frame says: stop now, not after every block
      this.buffer = ((this.buffer << 8) | byte) & 0xffffff;
      this.count += 8;
    }
    return (this.buffer >>> (this.count - 16)) & 0xffff;
  }

  skip(n: number): void {
    this.count -= n;
  }

  /** The next `n` bits (1 to 16). */
  read(n: number): number {
    const value = this.peek16() >>> (16 - n);
    this.count -= n;
    return value;
  }

  /** Throws when a read went past the scan's data: libjpeg would have warned and decoded zeros there. */
  checkWithinData(): void {
    if (this.padded * 8 > this.count) throw new NotSure();
  }
}

/** Canonical Huffman decoding (T.81 C.2, F.2.2.3): a 9-bit lookahead table, then length by length for longer codes. */
class HuffmanDecoder {
  private readonly fast = new Int32Array(512).fill(-1);
  private readonly maxCode = new Int32Array(17).fill(-1);
  private readonly offset = new Int32Array(17);

  constructor(private readonly table: HuffmanTable) {
    let code = 0;
    let index = 0;
    for (let length = 1; length <= 16; length++, code <<= 1) {
      const n = table.counts[length - 1]!;
      this.offset[length] = index - code;
      for (let k = 0; k < n; k++, code++, index++) {
        if (length <= 9) this.fast.fill((length << 8) | table.symbols[index]!, code << (9 - length), (code + 1) << (9 - length));
      }
      if (n > 0) this.maxCode[length] = code - 1;
    }
  }

  decode(bits: BitReader): number {
    const ahead = bits.peek16();
    const hit = this.fast[ahead >>> 7]!;
    if (hit >= 0) {
      bits.skip(hit >> 8);
      return checked(hit & 0xff);
    }
    for (let length = 10; length <= 16; length++) {
      const code = ahead >>> (16 - length);
      if (code <= this.maxCode[length]!) {
        bits.skip(length);
        return checked(this.table.symbols[this.offset[length]! + code]!);
      }
    }
    throw new NotSure();
  }
}

/** A DC category of 8-bit samples is at most 11. */
function checked(category: number): number {
  if (category > LARGEST_CATEGORY) throw new NotSure();
  return category;
}
