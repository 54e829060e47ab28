/**
 * `npm run bench -- --only encoders`: the encoder choices of handlers/render/encode.ts measured
 * side by side on the same resized pixels: JPEG `quantisationTable` 0 (libjpeg's, today) against 3
 * (ImageMagick's, mozjpeg's default), progressive (today, thumbor's PROGRESSIVE_JPEG) against
 * baseline JPEG, and WebP effort 0 to 4 (today 2). Size, encode CPU, PSNR against a float-Lanczos
 * reference of the full-size original and against the encoder's input, and whether the decoded
 * pixels differ from today's: a choice that changes them changes what an existing variant key
 * holds, so it would need a key change.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import sharp, { type JpegOptions, type WebpOptions } from "sharp";
import { stillEncoderOptions } from "../handlers/render/encode.js";
import { psnr } from "../tests/helpers/psnr.js";
import { floatLanczos, type Pixels } from "./float-lanczos.js";
import { PHOTOS_DIR } from "./origin-response.js";
import type { Section, Table } from "./report.js";
import { formatNumber, median } from "./stats.js";
import type { BenchContext, BenchResult } from "./types.js";

const QUALITY = 80;

interface EncoderChoice {
  label: string;
  format: "jpeg" | "webp";
  options: JpegOptions | WebpOptions;
  /** The choice today's render makes for this format (the one the others are compared with). */
  today?: boolean;
}

const jpegToday = stillEncoderOptions("jpeg", QUALITY) as JpegOptions;
const webpToday = stillEncoderOptions("webp", QUALITY) as WebpOptions;

export const ENCODER_CHOICES: EncoderChoice[] = [
  { label: "JPEG progressive, quantisationTable 0", format: "jpeg", options: jpegToday, today: true },
  { label: "JPEG progressive, quantisationTable 3", format: "jpeg", options: { ...jpegToday, quantisationTable: 3 } },
  { label: "JPEG baseline, quantisationTable 0", format: "jpeg", options: { ...jpegToday, progressive: false } },
  ...[0, 1, 2, 3, 4].map((effort): EncoderChoice => ({
    label: `WebP effort ${effort}`,
    format: "webp",
    options: { ...webpToday, effort },
    today: effort === webpToday.effort,
  })),
];

const PHOTOS = [
  { file: "RainDrops.jpg", label: "RainDrops 1920x1200 → 800x500" },
  { file: "TwoWings.jpg", label: "TwoWings 2560x1600 → 800x500" },
  { file: "Elephants_5640x3172_baseline.jpg", label: "Elephants 5640x3172 baseline → 800x450" },
];

async function decodeRgb(image: sharp.Sharp): Promise<Pixels> {
  const { data, info } = await image.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

interface Encoded {
  cpuMs: number;
  data: Buffer;
  decoded: Uint8Array;
}

async function encode(source: Pixels, choice: EncoderChoice, runs: number): Promise<Encoded> {
  const raw = { width: source.width, height: source.height, channels: source.channels as 3 };
  const once = () => sharp(source.data, { raw }).toFormat(choice.format, choice.options).toBuffer();
  await once();
  const cpu: number[] = [];
  let data = Buffer.alloc(0);
  for (let i = 0; i < runs; i++) {
    const c0 = cpuNow();
    data = await once();
    cpu.push(cpuNow() - c0);
  }
  return { cpuMs: median(cpu), data, decoded: (await decodeRgb(sharp(data))).data };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

export async function runEncoderBench(ctx: BenchContext): Promise<BenchResult> {
  sharp.concurrency(1);
  const runs = ctx.quick ? 3 : 7;
  const section: Section = {
    title: "Encoder choices: JPEG quantisation table, progressive or baseline, WebP effort",
    text: [
      `Each photo resized once by sharp (its shrink-on-load and Lanczos-3, as the render resizes), then the same pixels encoded at quality ${QUALITY} ` +
        `with each choice; CPU ms is the median of ${runs} encodes (encode only, one libvips thread). **vs reference**: PSNR of the decoded ` +
        "file against a float Lanczos-3 reduction of the full-size original (bench/float-lanczos.ts), the same reference for every choice; " +
        "**vs input**: against the pixels the encoder was given (the encoder's own loss). **pixels vs today's**: whether the decoded " +
        "pixels equal those of today's choice for the format (marked *today*); a choice that changes them changes what an existing " +
        "variant key holds, so adopting it would be a key change.",
    ],
    tables: [],
    notes: [],
  };
  const photos = PHOTOS.filter((p) => existsSync(join(PHOTOS_DIR, p.file)));
  for (const p of PHOTOS) if (!photos.includes(p)) section.notes!.push(`SKIPPED: ${p.file} not in ${PHOTOS_DIR}.`);
  const table: Table = {
    columns: ["photo", "choice", "KiB", "encode CPU ms", "PSNR vs reference dB", "PSNR vs input dB", "pixels vs today's"],
    rows: [],
  };
  for (const photo of ctx.quick ? photos.slice(0, 1) : photos) {
    const original = readFileSync(join(PHOTOS_DIR, photo.file));
    const full = await decodeRgb(sharp(original));
    const width = 800;
    const height = Math.round((full.height * width) / full.width);
    const input = await decodeRgb(sharp(original).resize(width, height, { fit: "fill" }));
    const reference = floatLanczos(full, width, height).data;
    const today = new Map<string, Uint8Array>();
    const encoded: [EncoderChoice, Encoded][] = [];
    for (const choice of ENCODER_CHOICES) {
      const e = await encode(input, choice, runs);
      if (choice.today) today.set(choice.format, e.decoded);
      encoded.push([choice, e]);
    }
    for (const [choice, e] of encoded) {
      const base = today.get(choice.format)!;
      const same = sameBytes(e.decoded, base);
      const row = [
        photo.label,
        `${choice.label}${choice.today ? " (today)" : ""}`,
        (e.data.byteLength / 1024).toFixed(1),
        formatNumber(e.cpuMs),
        psnr(reference, e.decoded).toFixed(2),
        psnr(input.data, e.decoded).toFixed(2),
        choice.today ? "–" : same ? "same" : `differ (${psnr(base, e.decoded).toFixed(1)} dB apart)`,
      ];
      table.rows.push(row);
      ctx.log(`  ${row.join(" | ")}`);
    }
  }
  section.tables.push(table);
  return { section, budgets: [] };
}
