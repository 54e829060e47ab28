/**
 * `edge-resizer verify` (cli/verify.ts): two local edges with different settings stand for the old
 * thumbor and the new edge; verify reports exactly the URLs whose answers differ, writes JSON and
 * an HTML report that a real browser opens with both images side by side.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import test from "ava";
import { captureIo } from "../helpers/cli.js";
import sharp from "sharp";
import { judge, runVerify, DEFAULT_THRESHOLDS, type VerifyEntry } from "../../cli/verify.js";
import { psnr, ssim } from "../../cli/image-compare.js";
import type { Answer } from "../../cli/requests.js";
import { DEFAULT_SETTINGS } from "../../handlers/core/settings.js";
import { startLocalEdge, type LocalEdgeServer } from "../../local/server.js";
import { launchChromium } from "../helpers/chromium.js";

const dir = mkdtempSync(join(tmpdir(), "verify-"));
let oldEdge: LocalEdgeServer;
let newEdge: LocalEdgeServer;

test.before(async () => {
  [oldEdge, newEdge] = await Promise.all([
    startLocalEdge({ port: 0, dataDir: join(dir, "old"), log: () => {} }),
    // The new side's settings differ in two ways: a lower default quality, a smaller maximum width.
    startLocalEdge({
      port: 0,
      dataDir: join(dir, "new"),
      settings: { ...DEFAULT_SETTINGS, defaultQuality: 30, maxWidth: 1000 },
      log: () => {},
    }),
  ]);
});

test.after.always(async () => {
  await Promise.all([oldEdge?.close(), newEdge?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

const answer = (status: number, body: Buffer, type = "image/png"): Answer => ({
  status,
  headers: new Headers({ "content-type": type }),
  body,
});

test("judge: the same refusal is identical, a refusal where thumbor served is broken, a body that does not decode is broken", async (t) => {
  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#336699" } })
    .png()
    .toBuffer();
  const notFound = answer(404, Buffer.from("404"), "text/plain");
  t.is((await judge("/a", notFound, notFound, DEFAULT_THRESHOLDS)).verdict, "identical");
  t.is((await judge("/a", answer(200, png), answer(400, Buffer.from("400 too wide"), "text/plain"), DEFAULT_THRESHOLDS)).verdict, "broken");
  t.is((await judge("/a", answer(200, png), { error: "ECONNREFUSED" }, DEFAULT_THRESHOLDS)).verdict, "broken");
  t.is((await judge("/a", answer(200, png), answer(200, Buffer.from("not an image")), DEFAULT_THRESHOLDS)).verdict, "broken");
  t.is((await judge("/a", answer(404, Buffer.from("")), answer(200, png), DEFAULT_THRESHOLDS)).verdict, "different");
  const webp = await sharp(png).webp({ lossless: true }).toBuffer();
  const same = await judge("/a", answer(200, png), answer(200, webp, "image/webp"), DEFAULT_THRESHOLDS);
  t.is(same.verdict, "different", "another format is different even with the same pixels");
  t.regex(same.reason, /format png → webp/);
  const bigger = await sharp(png).resize(9, 8).png().toBuffer();
  t.regex((await judge("/a", answer(200, png), answer(200, bigger), DEFAULT_THRESHOLDS)).reason, /size 8x8 → 9x8/);
});

test("PSNR and SSIM: infinite and 1 for equal pixels, lower as they drift", (t) => {
  const a = new Uint8Array(64).map((_, i) => (i * 4) % 256);
  t.is(psnr(a, a), Infinity);
  t.is(ssim(a, a, 8, 8), 1);
  const b = a.map((v) => Math.min(255, v + 2));
  const c = a.map((v) => Math.min(255, v + 40));
  t.true(psnr(a, b) > 40);
  t.true(psnr(a, c) < psnr(a, b));
  t.true(ssim(a, c, 8, 8) < ssim(a, b, 8, 8));
});

test.serial("two edges with different settings: exactly the URLs that differ are reported, the report opens in a browser", async (t) => {
  const paths = {
    // Default quality: 80 on the old side, 30 on the new.
    lowerQuality: "/unsafe/300x200/samples/elephants.jpg",
    lowerQualityFitIn: "/unsafe/fit-in/200x200/samples/two-wings.jpg",
    // An explicit quality does not depend on the default: the same picture.
    sameQuality: "/unsafe/300x200/filters:quality(80)/samples/elephants.jpg",
    sameQualityPng: "/unsafe/120x0/filters:quality(80)/samples/paletted-transparent.png",
    // Wider than the new side's maxWidth: the edge refuses what thumbor served.
    tooWide: "/unsafe/1200x0/filters:quality(80)/samples/rain-drops.jpg",
    // Both answer 404.
    missing: "/unsafe/100x100/samples/no-such.jpg",
  };
  const log = join(dir, "access.log");
  // An nginx log with each URL twice: verify asks once per distinct URL.
  const lines = Object.values(paths).flatMap((p) => [
    `203.0.113.9 - - [07/Dec/2026:10:00:00 +0000] "GET ${p} HTTP/1.1" 200 1234 "-" "Mozilla/5.0"`,
    `203.0.113.9 - - [07/Dec/2026:10:00:01 +0000] "GET ${p}?v=2 HTTP/1.1" 200 1234 "-" "Mozilla/5.0"`,
  ]);
  writeFileSync(log, `${lines.join("\n")}\n`);
  const out = join(dir, "report");
  const { out: printed, io } = captureIo();
  const code = await runVerify([log, "--old", oldEdge.url, "--new", `${newEdge.url}/`, "--out", out, "--concurrency", "2"], io);
  t.is(code, 1, printed.stderr);
  const report = JSON.parse(readFileSync(join(out, "verify.json"), "utf8")) as { entries: VerifyEntry[]; totals: Record<string, number> };
  t.is(report.entries.length, 6);
  const verdicts = Object.fromEntries(report.entries.map((e) => [e.path, e.verdict]));
  t.is(verdicts[paths.tooWide], "broken");
  t.is(verdicts[paths.sameQuality], "identical");
  t.is(verdicts[paths.sameQualityPng], "identical");
  t.is(verdicts[paths.missing], "identical");
  t.not(verdicts[paths.lowerQuality], "identical");
  t.not(verdicts[paths.lowerQualityFitIn], "identical");
  const reported = report.entries.filter((e) => e.verdict !== "identical").map((e) => e.path);
  t.deepEqual(reported.sort(), [paths.lowerQuality, paths.lowerQualityFitIn, paths.tooWide].sort());
  t.is(report.entries[0]!.path, paths.tooWide, "worst first");
  const lower = report.entries.find((e) => e.path === paths.lowerQuality)!;
  t.is(lower.comparison?.new.format, "webp", "the same Accept on both sides: both negotiated WebP");
  t.true(lower.new.bytes < lower.old.bytes, "quality 30 is smaller");
  t.regex(printed.stdout, /^3 identical, \d close, \d different, 1 broken/);

  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 2000 } });
  await page.goto(pathToFileURL(join(out, "verify.html")).href);
  t.is(await page.locator("#cases tbody tr").count(), 3);
  t.is(await page.locator("#cases tbody tr").first().getAttribute("data-path"), paths.tooWide);
  const row = page.locator(`#cases tr[data-path="${paths.lowerQuality}"]`);
  t.is(await row.locator("img").count(), 2, "both answers side by side");
  const widths = await row.locator("img").evaluateAll((imgs) => imgs.map((i) => (i as HTMLImageElement).naturalWidth));
  t.deepEqual(widths, [300, 300], "both images decode in the browser");
});

test("usage errors exit 2 with the usage line; --fail-on broken lets merely different answers pass", async (t) => {
  const bad = captureIo();
  t.is(await runVerify(["x.log", "--old", "ftp://x"], bad.io), 2);
  t.regex(bad.out.stderr, /--old must be an http\(s\):\/\/ URL.*usage: edge-resizer verify/);
  const log = join(dir, "one.log");
  writeFileSync(log, "/unsafe/300x200/samples/elephants.jpg\n");
  const lenient = captureIo();
  const args = [log, "--old", oldEdge.url, "--new", newEdge.url, "--out", join(dir, "lenient"), "--fail-on", "broken"];
  t.is(await runVerify(args, lenient.io), 0, lenient.out.stdout);
});
