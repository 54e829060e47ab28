/**
 * Records tests/fixtures/variant-keys-before-restructure.json. Run once (`npx tsx tests/helpers/record-variant-keys.ts`),
 * before the issue-11 restructuring; afterwards the fixture is the reference and must not be re-recorded to
 * make a test pass. It gathers the URL vectors and plans each under the fixed combinations.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { computeResults, writeFixture } from "./variant-key-fixture.js";
const root = join(__dirname, "..");
const urls: string[] = [];
const add = (u: string) => {
  if (!urls.includes(u)) urls.push(u);
};
const tv = JSON.parse(readFileSync(`${root}/fixtures/thumbor-vectors/thumbor_vectors.json`, "utf8"));
for (const v of tv)
  if (typeof v.url === "string" && v.url !== "" && v.kind !== "parse-segment") add(v.url.startsWith("/") ? v.url : `/${v.url}`);
const lt = JSON.parse(readFileSync(`${root}/fixtures/libthumbor-vectors.json`, "utf8"));
for (const v of lt.vectors) {
  if (v.signed) add(v.signed);
  if (v.unsafe) add(`/${v.unsafe}`);
}
const fv = JSON.parse(readFileSync(`${root}/fixtures/thumbor-vectors/thumbor_filter_vectors.json`, "utf8"));
for (const v of fv.filter_strings) add(`/unsafe/300x200/filters:${v.filters}/a.jpg`);
for (const f of readdirSync(root)) {
  if (!f.endsWith(".ts")) continue;
  const text = readFileSync(`${root}/${f}`, "utf8");
  for (const m of text.matchAll(/(["'])(\/(?:unsafe\/|[A-Za-z0-9_-]{27}=\/)[^"'\s${}\\]*|\/[^"'\s${}\\]*\?d=[^"'\s${}\\]*)\1/g)) add(m[2]);
}
// One call of every built-in filter (and a few spellings), so each filter's grammar is pinned.
const calls = [
  "autojpg()",
  "autojpg(false)",
  "background_color(ff0000)",
  "background_color(auto)",
  "blur(5)",
  "blur(5,2.5)",
  "brightness(-20)",
  "colorize(10,20,30,'ff0000')",
  "contrast(15)",
  "convolution(1;2;1;2;4;2;1;2;1,3,false)",
  "convolution(-1;-1;-1;-1;8;-1;-1;-1;-1,3)",
  "cover()",
  "curve([(0,0),(255,255)],[(0,50),(16,51),(32,69),(58,85),(92,120),(120,150),(255,255)],[(0,0),(255,255)],[(0,0),(255,255)])",
  "equalize()",
  "extract_focal()",
  "fill(red)",
  "fill(blur,true)",
  "fill(transparent)",
  "fill(00FF00,1)",
  "focal(10x20:30x40)",
  "format(jpg)",
  "format(JPEG)",
  "format(png)",
  "format(webp)",
  "format(avif)",
  "format(gif)",
  "format(heic)",
  "format(bmp)",
  "frame(frames/f.png)",
  "gifv()",
  "gifv(webm)",
  "grayscale()",
  "max_age(60)",
  "max_bytes(5000)",
  "no_upscale()",
  "noise(10)",
  "noise(10,42)",
  "proportion(0.5)",
  "quality(0)",
  "quality(100)",
  "quality(500)",
  "red_eye()",
  "rgb(10,-10,0)",
  "rotate(90)",
  "rotate(-450)",
  "round_corner(20,255,255,255)",
  "round_corner(20|10,0,0,0,true)",
  "saturation(1.5)",
  "sharpen(1.5,0.5,true)",
  "stretch()",
  "strip_exif()",
  "strip_icc()",
  "upscale()",
  "watermark(logos/w.png,10,10,50)",
  "watermark(logos/w.png,-0,center,0,20,none)",
  "watermark('a,b.png',10p,repeat,50,none,30)",
  "nosuchfilter(1)",
  "blur(0)",
  "blur(a)",
  "brightness(1):contrast(2):saturation(3):rgb(1,2,3):noise(1):equalize():grayscale():blur(1):sharpen(1,1,true):convolution(1,1):rotate(90):fill(red):quality(50)",
  "blur(1):blur(2):blur(3):blur(4)",
];
for (const c of calls) add(`/unsafe/300x200/filters:${c}/images/cat.jpg`);
for (const s of ["300x200", "300", "0x200", "0x0", "99999x1", "300x200x1", ""]) add(`/images/cat.png?d=${s}`);
for (const c of ["", "fit-in/", "full-fit-in/", "adaptive-fit-in/", "adaptive-full-fit-in/", "meta/", "trim/", "trim:bottom-right:20/"])
  add(`/unsafe/${c}-300x-200/left/top/images/cat.webp`);
writeFixture({
  about:
    "Variant keys (or 'original', or '<status>: <reason>') produced by the code at main 8394b09, before the issue-11 restructuring, for every URL vector: thumbor_vectors.json, libthumbor-vectors.json, the filter strings of thumbor_filter_vectors.json, every thumbor and ?d= URL literal of tests/*.ts, and one call of each built-in filter. Combinations: see tests/helpers/variant-key-fixture.ts (COMBINATIONS). Never re-record to make a test pass.",
  cases: computeResults(urls),
});
console.log(urls.length);
