/**
 * JPEG files for the marker reader and DC-only tests: progressive ones sharp writes, and the
 * variants sharp cannot write (restart markers, arithmetic coding) patched or made by hand.
 */
import sharp, { type JpegOptions } from "sharp";
import { emptyScanData } from "../../handlers/render/jpeg/dc-only.js";
import { blockCount, readJpegLayout } from "../../handlers/render/jpeg/markers.js";

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

/**
 * A progressive JPEG whose first component (luma) has no AC coefficient from 1 to 9: its AC scans
 * replaced by one scan of coefficients 10 to 63 that codes none (dc-only.ts's empty-scan data,
 * tested byte by byte on its own, with its table: EOBn coded in 4 bits as n), so that libjpeg keeps
 * smoothing its DC coefficients. Built from the frame and the other scans of `jpeg`.
 */
export function withLumaAcFrom10(jpeg: Buffer): Buffer {
  const layout = readJpegLayout(jpeg)!;
  const luma = layout.scans.filter((scan) => scan.ss > 0 && scan.components[0] === 0);
  const first = luma[0]!;
  const destination = first.acDestinations[0]!;
  const eobTable = [0xff, 0xc4, 0x00, 0x22, 0x10 | destination, 0, 0, 0, 15, ...new Array<number>(12).fill(0)];
  const eobSymbols = Array.from({ length: 15 }, (_, n) => n << 4);
  const header = Buffer.from(jpeg.subarray(first.start, first.dataStart));
  header.set([10, 63, 0], header.length - 3);
  const pieces: Buffer[] = [
    jpeg.subarray(0, first.start),
    Buffer.from([...eobTable, ...eobSymbols]),
    header,
    emptyScanData(blockCount(layout, 0)),
  ];
  let copied = first.dataEnd;
  for (const scan of luma.slice(1)) {
    pieces.push(jpeg.subarray(copied, scan.start));
    copied = scan.dataEnd;
  }
  pieces.push(jpeg.subarray(copied));
  // sharp's progressive scans each define their own table just before them: the replaced one is not needed after.
  return Buffer.concat(pieces);
}
