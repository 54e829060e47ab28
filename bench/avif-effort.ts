/**
 * The AVIF effort trade-off behind the pipeline's AVIF_EFFORT: encode time, file size and PSNR
 * against the resized source for WebP effort 4 and AVIF efforts 0-2, at quality 80, on the
 * photos resized to 800 and 1600 px. Encodes only (the resized pixels are made once per case),
 * in this process; CPU time, median of a few encodes.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { psnr } from "../tests/helpers/psnr.js";
import { PHOTOS, PHOTOS_DIR } from "./origin-response.js";
import type { Section, Table } from "./report.js";
import { formatNumber, median } from "./stats.js";
import type { BenchContext } from "./types.js";

const ENCODERS: [string, (s: sharp.Sharp) => sharp.Sharp][] = [
  ["WebP e4", (s) => s.webp({ quality: 80, effort: 4 })],
  ["AVIF e0", (s) => s.avif({ quality: 80, effort: 0 })],
  ["AVIF e1", (s) => s.avif({ quality: 80, effort: 1 })],
  ["AVIF e2", (s) => s.avif({ quality: 80, effort: 2 })],
];

export async function runAvifEffortBench(ctx: BenchContext): Promise<Section> {
  const section: Section = {
    title: "AVIF effort: time, size and quality",
    text: [
      "Why the pipeline encodes AVIF at effort 0. Each photo resized once to the width (sharp, RGB), then encoded at quality 80; " +
        "CPU ms is the median of 3 encodes (encode only, no decode or resize), PSNR compares the decoded file with the resized source " +
        "(higher is closer). Cells: CPU ms / KiB / dB.",
    ],
    tables: [],
    notes: [],
  };
  const photos = PHOTOS.filter((p) => !p.file.endsWith("_5640x3172.jpg") && existsSync(join(PHOTOS_DIR, p.file)));
  if (photos.length === 0) {
    section.notes!.push(`SKIPPED: no photos in ${PHOTOS_DIR}.`);
    return section;
  }
  const table: Table = { columns: ["photo", "width", ...ENCODERS.map(([n]) => n)], rows: [] };
  for (const photo of photos) {
    for (const width of ctx.quick ? [800] : [800, 1600]) {
      const resized = await sharp(readFileSync(join(PHOTOS_DIR, photo.file)))
        .resize(width)
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      const source = () => sharp(resized.data, { raw: { width: resized.info.width, height: resized.info.height, channels: 3 } });
      const cells: string[] = [];
      for (const [, encode] of ENCODERS) {
        const cpu: number[] = [];
        let out = Buffer.alloc(0);
        for (let i = 0; i < 3; i++) {
          const c0 = process.cpuUsage();
          out = await encode(source()).toBuffer();
          const c = process.cpuUsage(c0);
          cpu.push((c.user + c.system) / 1000);
        }
        const decoded = await sharp(out).removeAlpha().raw().toBuffer();
        cells.push(`${formatNumber(median(cpu))} / ${(out.byteLength / 1024).toFixed(0)} / ${psnr(resized.data, decoded).toFixed(2)}`);
      }
      table.rows.push([photo.label, String(width), ...cells]);
      ctx.log(`  AVIF effort, ${photo.file} ${width}: ${cells.join(" | ")}`);
    }
  }
  section.tables.push(table);
  return section;
}
