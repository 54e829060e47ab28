import test from "ava";
import { execFile } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import {
  APPROXIMATE_FEATURES,
  auditExitCode,
  auditLines,
  classifyThumborUrl,
  extractThumborUrls,
  formatReport,
  LogReader,
  reportToJson,
  type AuditReport,
  type UrlEntry,
} from "../../cli/audit.js";
import { isGzip, openLines } from "../../cli/input.js";
import { createProgressBar, PROGRESS_MIN_BYTES, renderProgress } from "../../cli/progress.js";
import { IMPLEMENTED_FILTERS } from "../../handlers/core/filter-registry.js";
import { DEFAULT_SETTINGS, loadSettingsFile, validateSettings } from "../../handlers/core/settings.js";

const execFileP = promisify(execFile);
const ROOT = join(__dirname, "..", "..");
const FIXTURES = join(__dirname, "..", "fixtures", "audit");
const BIN = join(ROOT, "bin", "edge-resizer.cjs");
const SETTINGS_FILE = join(FIXTURES, "settings.json");
const settings = loadSettingsFile(SETTINGS_FILE);
const KEY = "audit-fixture-key";

/** thumbor's signer, written out from the spec (urlsafe base64 of HMAC-SHA1, padding kept). */
function sign(key: string, signedPart: string): string {
  return createHmac("sha1", Buffer.from(key, "utf8")).update(signedPart).digest("base64").replace(/\+/g, "-").replace(/\//g, "_");
}
/** A signed thumbor path for `signedPart` under the fixture key. */
const signed = (signedPart: string): string => `/${sign(KEY, signedPart)}/${signedPart}`;
/** A path carrying the signature of another path: what a tampered URL looks like. */
const tampered = (signedFor: string, sent: string): string => `/${sign(KEY, signedFor)}/${sent}`;

const GOOD_SIGNED = signed("200x150/images/cat.jpg");
const TAMPERED = tampered("200x150/images/cat.jpg", "400x300/images/cat.jpg");

interface Expected {
  status: UrlEntry["status"];
  count: number;
  features?: string[];
  httpStatus?: number;
  reason?: RegExp;
}

/** The known answers for tests/fixtures/audit/access.log under tests/fixtures/audit/settings.json. */
const ACCESS_LOG_ANSWERS: Record<string, Expected> = {
  "/unsafe/300x200/images/cat.jpg": { status: "identical", count: 4 }, // GET x2, GET ?utm_source=..., HEAD (POST ignored)
  [GOOD_SIGNED]: { status: "identical", count: 3 },
  "/unsafe/fit-in/400x400/filters:quality(70)/images/dog.png": { status: "identical", count: 2 },
  "/unsafe/-300x0/filters:brightness(10):contrast(5)/images/cat.jpg": { status: "identical", count: 1 },
  "/unsafe/trim/10x20:300x400/images/cat.jpg": { status: "identical", count: 1 },
  "/unsafe/300x200/filters:nosuchfilter(1)/images/cat.jpg": { status: "identical", count: 1 }, // thumbor skips unknown filters too
  "/unsafe/300x200/smart/images/people.jpg": { status: "approximate", count: 3, features: ["smart"] },
  "/unsafe/300x200/https://images.example.com/photos/a.jpg": { status: "approximate", count: 2, features: ["absolute-url"] },
  "/unsafe/200x200/filters:grayscale():fill(blur)/images/cat.png": { status: "approximate", count: 1, features: ["fill(blur)"] },
  "/unsafe/debug/100x100/images/cat.jpg": { status: "approximate", count: 1, features: ["debug"] },
  "/unsafe/100x100/filters:format(webp)/images/anim.gif": { status: "approximate", count: 1, features: ["gif-source"] },
  "/unsafe/5000x100/images/cat.jpg": { status: "broken", count: 2, httpStatus: 400, reason: /width 5000 exceeds the maximum 4096/ },
  [TAMPERED]: { status: "broken", count: 1, httpStatus: 403, reason: /bad signature/ },
  "/unsafe/300x200/filters:red_eye()/images/cat.jpg": { status: "broken", count: 1, httpStatus: 400, reason: /red_eye/ },
  "/unsafe/300x200/http://evil.example.org/a.jpg": { status: "broken", count: 1, httpStatus: 400, reason: /evil\.example\.org|host/ },
};

function assertAnswers(t: import("ava").ExecutionContext, report: AuditReport, answers: Record<string, Expected>): void {
  t.deepEqual(report.urls.map((u) => u.url).sort(), Object.keys(answers).sort(), "the distinct URLs found");
  for (const u of report.urls) {
    const want = answers[u.url]!;
    t.is(u.status, want.status, `status of ${u.url} (${u.reason ?? u.features.join(",")})`);
    t.is(u.count, want.count, `count of ${u.url}`);
    t.deepEqual(u.features, want.features ?? [], `features of ${u.url}`);
    if (want.status === "broken") {
      t.is(u.httpStatus, want.httpStatus, `HTTP status of ${u.url}`);
      t.regex(u.reason ?? "", want.reason!, `reason of ${u.url}`);
      t.is(u.variantKey, undefined);
    } else {
      t.regex(u.variantKey ?? "", /^variants\//, `variant key of ${u.url}`);
    }
  }
}

function readFixtureLines(name: string): string[] {
  return readFileSync(join(FIXTURES, name), "utf8").replace(/\n$/, "").split("\n");
}

test("the fixtures' signed URLs are the ones computed here: one signs its path, the other carries another path's signature", (t) => {
  const log = readFileSync(join(FIXTURES, "access.log"), "utf8");
  t.true(log.includes(`"GET ${GOOD_SIGNED} HTTP/1.1"`));
  t.true(log.includes(`"GET ${TAMPERED} HTTP/1.1"`));
  t.not(sign(KEY, "400x300/images/cat.jpg"), sign(KEY, "200x150/images/cat.jpg"));
  t.is(settings.thumbor.securityKey, KEY);
  // The broken red_eye line relies on red_eye not being implemented (it needs face detection).
  t.false(IMPLEMENTED_FILTERS.has("red_eye"), "red_eye is implemented now: pick another unsupported filter for the fixture");
});

test("nginx combined log: every distinct URL gets its known status, count, features and reason", (t) => {
  const report = auditLines(readFixtureLines("access.log"), settings);
  assertAnswers(t, report, ACCESS_LOG_ANSWERS);
});

test("nginx combined log: totals per status and per feature, ignored lines counted", (t) => {
  const { totals, urls } = auditLines(readFixtureLines("access.log"), settings);
  t.is(totals.lines, 31);
  t.is(totals.distinctUrls, 15);
  t.is(totals.requests, 25);
  t.is(totals.ignored, 6); // /favicon.ico x2, /healthcheck, /, ?d= on an original, a POST
  t.deepEqual(totals.statuses, {
    broken: { urls: 4, requests: 5 },
    approximate: { urls: 5, requests: 8 },
    identical: { urls: 6, requests: 12 },
  });
  t.deepEqual(totals.features, {
    smart: { urls: 1, requests: 3 },
    debug: { urls: 1, requests: 1 },
    "absolute-url": { urls: 1, requests: 2 },
    "gif-source": { urls: 1, requests: 1 },
    "fill(blur)": { urls: 1, requests: 1 },
  });
  // Sorted broken first, then approximate, then identical; most requested first within each.
  t.deepEqual(
    urls.map((u) => u.status),
    [...Array(4).fill("broken"), ...Array(5).fill("approximate"), ...Array(6).fill("identical")],
  );
  t.is(urls[0]!.url, "/unsafe/5000x100/images/cat.jpg");
  t.is(urls[4]!.url, "/unsafe/300x200/smart/images/people.jpg");
  t.is(urls[9]!.url, "/unsafe/300x200/images/cat.jpg");
});

test("the same log under the default settings: no key, no stripHosts", (t) => {
  const report = auditLines(readFixtureLines("access.log"), DEFAULT_SETTINGS);
  const byUrl = new Map(report.urls.map((u) => [u.url, u]));
  const good = byUrl.get(GOOD_SIGNED)!;
  t.is(good.status, "broken");
  t.is(good.httpStatus, 403);
  t.regex(good.reason!, /no thumbor\.securityKey/);
  const absolute = byUrl.get("/unsafe/300x200/https://images.example.com/photos/a.jpg")!;
  t.is(absolute.status, "broken");
  t.is(absolute.httpStatus, 400);
  t.is(byUrl.get("/unsafe/300x200/images/cat.jpg")!.status, "identical");
});

test("unsafe URLs switched off: every /unsafe/ URL breaks with the handler's reason, signed ones still pass", (t) => {
  const strict = validateSettings({ thumbor: { allowUnsafe: false, securityKey: KEY } });
  const unsafe = classifyThumborUrl("/unsafe/300x200/images/cat.jpg", strict)!;
  t.is(unsafe.status, "broken");
  t.is(unsafe.httpStatus, 403);
  t.regex(unsafe.reason!, /unsafe URLs are disabled/);
  t.is(classifyThumborUrl(GOOD_SIGNED, strict)!.status, "identical");
});

test("a retired key still verifies (rotation), and a URL signed with an unknown key breaks", (t) => {
  const rotated = validateSettings({ thumbor: { securityKey: "new-key", retiredSecurityKeys: [KEY] } });
  t.is(classifyThumborUrl(GOOD_SIGNED, rotated)!.status, "identical");
  const other = validateSettings({ thumbor: { securityKey: "new-key" } });
  const verdict = classifyThumborUrl(GOOD_SIGNED, other)!;
  t.is(verdict.status, "broken");
  t.regex(verdict.reason!, /bad signature/);
});

test("strict filters: an unknown filter breaks instead of being skipped", (t) => {
  const path = "/unsafe/300x200/filters:nosuchfilter(1)/images/cat.jpg";
  t.is(classifyThumborUrl(path, settings)!.status, "identical");
  const strict = validateSettings({ thumbor: { strictFilters: true } });
  const verdict = classifyThumborUrl(path, strict)!;
  t.is(verdict.status, "broken");
  t.is(verdict.httpStatus, 400);
  t.regex(verdict.reason!, /nosuchfilter/);
});

test("feature rules: noise only without a seed, rgb not on JPEG, fill(blur) but not fill(red), format(heif)", (t) => {
  const features = (path: string): string[] => {
    const v = classifyThumborUrl(path, settings)!;
    t.not(v.status, "broken", `${path}: ${v.reason}`);
    return v.features;
  };
  t.deepEqual(features("/unsafe/filters:noise(10)/a.jpg"), ["noise"]);
  t.deepEqual(features("/unsafe/filters:noise(10,0)/a.jpg"), ["noise"]);
  t.deepEqual(features("/unsafe/filters:noise(10,42)/a.jpg"), []);
  t.deepEqual(features("/unsafe/filters:rgb(10,0,0)/a.png"), ["rgb"]);
  t.deepEqual(features("/unsafe/filters:rgb(10,0,0)/a.jpg"), []);
  t.deepEqual(features("/unsafe/300x200/filters:fill(blur)/a.jpg"), ["fill(blur)"]);
  // blur: exact while taps × output pixels stay within effects/blur.ts' budget (60 million).
  t.deepEqual(features("/unsafe/440x440/filters:blur(150)/a.jpg"), []); // 301 × 193,600 = 58.3 M
  t.deepEqual(features("/unsafe/450x450/filters:blur(150)/a.jpg"), ["blur(large)"]); // 301 × 202,500 = 61 M
  t.deepEqual(features("/unsafe/fit-in/1600x1600/filters:blur(10)/a.jpg"), []); // 21 × 2.56 M = 53.8 M
  t.deepEqual(features("/unsafe/300x0/filters:blur(30)/a.jpg"), ["blur(large)"]); // height unknown: 61 × 300 × 4096 = 75 M
  t.deepEqual(features("/unsafe/300x0/filters:blur(10)/a.jpg"), []); // 21 × 300 × 4096 = 25.8 M
  t.deepEqual(features("/unsafe/filters:blur(1)/a.jpg"), []); // the original's size, at most 4096²: 3 × 16.8 M = 50.3 M
  t.deepEqual(features("/unsafe/filters:blur(2)/a.jpg"), ["blur(large)"]); // 5 × 16.8 M = 83.9 M
  t.deepEqual(features("/unsafe/adaptive-fit-in/400x300/filters:blur(150)/a.jpg"), []); // 301 × 120,000 = 36 M, sides swapped or not
  t.deepEqual(features("/unsafe/full-fit-in/100x100/filters:blur(50)/a.jpg"), ["blur(large)"]); // full-fit-in grows past the box
  t.deepEqual(features("/unsafe/300x200/filters:fill(red)/a.jpg"), []);
  t.deepEqual(features("/unsafe/300x200/filters:format(heif)/a.jpg"), ["format(heif)"]);
  t.deepEqual(features("/unsafe/300x200/filters:format(png)/a.jpg"), []);
  // A GIF original with only pre-load filters is served as thumbor serves it.
  t.deepEqual(features("/unsafe/300x200/filters:focal(1x1:20x20)/a.gif"), []);
  t.deepEqual(features("/unsafe/filters:round_corner(20,255,255,255)/a.jpg"), []);
  t.deepEqual(features("/unsafe/filters:rotate(90)/a.png"), []);
  t.deepEqual(features("/unsafe/filters:watermark(logos/w.png,10,10,50)/a.jpg"), []);
  t.deepEqual(features("/unsafe/filters:watermark(https://images.example.com/w.png,10,10,50)/a.jpg"), ["absolute-url"]);
  t.deepEqual(features("/unsafe/filters:watermark(https%3A%2F%2Fimages.example.com%2Fw.png,-10,center,0)/a.jpg"), ["absolute-url"]);
  // extract_focal differs from thumbor 7.8 only when it finds a nested manual crop.
  t.deepEqual(features("/unsafe/300x200/filters:extract_focal()/thumbor.example.com/unsafe/100x100:200x200/images/cat.jpg"), [
    "extract_focal",
  ]);
  t.deepEqual(features("/unsafe/300x200/filters:extract_focal():focal(1x1:5x5)/images/cat.jpg"), []);
  // smart with fit-in does nothing in thumbor, nor here (the plan drops it).
  t.deepEqual(features("/unsafe/fit-in/300x200/smart/a.jpg"), []);
});

test("a watermark or frame the render could not map to a bucket key is broken, with the render's reason", (t) => {
  const verdict = classifyThumborUrl("/unsafe/filters:watermark(http://cdn.example.net/w.png,10,10,50)/a.jpg", settings)!;
  t.is(verdict.status, "broken");
  t.is(verdict.httpStatus, 400);
  t.is(verdict.reason, "watermark: absolute image URLs are not served: cdn.example.net is not in thumbor.stripHosts");
  t.is(classifyThumborUrl("/unsafe/filters:watermark(logos/../../w.png,10,10,50)/a.jpg", settings)!.status, "broken");
  const frame = classifyThumborUrl("/unsafe/300x200/filters:frame(http://cdn.example.net/f.png)/a.jpg", settings)!;
  t.is(frame.status, "broken");
  t.is(frame.reason, "frame: absolute image URLs are not served: cdn.example.net is not in thumbor.stripHosts");
  t.deepEqual(classifyThumborUrl("/unsafe/300x200/filters:frame(https://images.example.com/f.png)/a.jpg", settings)!.features, [
    "absolute-url",
  ]);
  t.deepEqual(classifyThumborUrl("/unsafe/300x200/filters:frame(frames/f.png)/a.jpg", settings)!.features, []);
});

test("originals the render refuses, judged from the extension: HEIC always, SVG unless allowSvg", (t) => {
  const heic = classifyThumborUrl("/unsafe/300x200/photos/IMG_0001.HEIC", settings)!;
  t.is(heic.status, "broken");
  t.is(heic.httpStatus, 400);
  t.regex(heic.reason!, /HEIC/);
  const svg = classifyThumborUrl("/unsafe/300x200/logo.svg", settings)!;
  t.is(svg.status, "broken");
  t.is(svg.httpStatus, 415);
  t.is(classifyThumborUrl("/unsafe/300x200/logo.svg", validateSettings({ allowSvg: true }))!.status, "identical");
  t.is(classifyThumborUrl("/unsafe/300x200/photo.avif", settings)!.status, "identical");
});

test("non-thumbor paths are not classified", (t) => {
  for (const path of [
    "/",
    "/favicon.ico",
    "/healthcheck",
    "/images/cat.jpg",
    "/variants/images/cat.jpg/300x200,q80.webp",
    "/300x200/a.jpg",
  ]) {
    t.is(classifyThumborUrl(path, settings), null, path);
  }
});

test("every approximate feature has a reason and a distinct name", (t) => {
  const names = APPROXIMATE_FEATURES.map((f) => f.feature);
  t.is(new Set(names).size, names.length);
  for (const f of APPROXIMATE_FEATURES) t.true(f.reason.length > 20, f.feature);
});

test("extractThumborUrls: URL lists, nginx, ALB and CloudFront lines", (t) => {
  t.deepEqual(extractThumborUrls("https://img.example.com/unsafe/300x200/a.jpg"), ["/unsafe/300x200/a.jpg"]);
  t.deepEqual(extractThumborUrls("http://img.example.com:8888/unsafe/300x200/a.jpg?x=1#top"), ["/unsafe/300x200/a.jpg"]);
  t.deepEqual(extractThumborUrls("  /unsafe/300x200/a.jpg  "), ["/unsafe/300x200/a.jpg"]);
  t.deepEqual(extractThumborUrls("unsafe/300x200/a.jpg"), ["/unsafe/300x200/a.jpg"]); // thumbor's leading "/" is optional
  // Nothing is normalised: ".." and "//" change what thumbor parses, and encoded bytes stay encoded.
  t.deepEqual(extractThumborUrls("https://h/unsafe/300x200/http://a.com/../b%20c.jpg"), ["/unsafe/300x200/http://a.com/../b%20c.jpg"]);
  t.deepEqual(extractThumborUrls("/unsafe//a.jpg"), ["/unsafe//a.jpg"]);
  t.deepEqual(
    extractThumborUrls('192.0.2.1 - - [25/Nov/2026:10:00:00 +0000] "GET /unsafe/300x200/a.jpg?v=1 HTTP/1.1" 200 5 "-" "curl/8"'),
    ["/unsafe/300x200/a.jpg"],
  );
  // nginx writes raw bytes as \xHH: they become the percent-encoding a client would have sent.
  t.deepEqual(extractThumborUrls('1.2.3.4 - - [x] "GET /unsafe/caf\\xC3\\xA9.jpg HTTP/1.1" 200 5 "-" "-"'), ["/unsafe/caf%C3%A9.jpg"]);
  t.deepEqual(extractThumborUrls('1.2.3.4 - - [x] "POST /unsafe/a.jpg HTTP/1.1" 200 5 "-" "-"'), []);
  t.deepEqual(
    extractThumborUrls(
      'https 2026-11-25T10:00:00Z app/x/1 1.2.3.4:1 5.6.7.8:80 0 0 0 200 200 1 2 "GET https://img.example.com:443/unsafe/a.jpg HTTP/1.1" "ua" - -',
    ),
    ["/unsafe/a.jpg"],
  );
  t.deepEqual(extractThumborUrls('https 2026 app/x/1 1.2.3.4:1 - -1 -1 -1 400 - 0 0 "- - - " "-" - -'), []);
  t.deepEqual(extractThumborUrls(""), []);
  t.deepEqual(extractThumborUrls("#Version: 1.0"), []);
  t.deepEqual(extractThumborUrls("not a url at all"), []);
});

test("LogReader: CloudFront columns come from the #Fields: header", (t) => {
  const reader = new LogReader();
  t.deepEqual(reader.read("#Fields: cs-uri-stem cs-method date"), []);
  t.deepEqual(
    reader.read("/unsafe/1x1/a.jpg\tGET\t2026-11-25").map((r) => r.path),
    ["/unsafe/1x1/a.jpg"],
  );
  t.deepEqual(reader.read("/unsafe/1x1/a.jpg\tDELETE\t2026-11-25"), []);
  // Without a header, CloudFront's documented order applies (cs-method 6th, cs-uri-stem 8th).
  const bare = new LogReader();
  t.deepEqual(
    bare.read("2026-11-25\t10:00:00\tFRA\t1\t1.2.3.4\tGET\th.cloudfront.net\t/unsafe/2x2/b.jpg\t200").map((r) => r.path),
    ["/unsafe/2x2/b.jpg"],
  );
});

const CLOUDFRONT_ANSWERS: Record<string, Expected> = {
  "/unsafe/300x200/images/cat.jpg": { status: "identical", count: 3 }, // GET, GET with a query, HEAD (OPTIONS ignored)
  [GOOD_SIGNED]: { status: "identical", count: 2 },
  "/unsafe/300x200/smart/images/people.jpg": { status: "approximate", count: 1, features: ["smart"] },
  "/unsafe/9000x9000/images/cat.jpg": { status: "broken", count: 1, httpStatus: 400, reason: /width 9000 exceeds/ },
};

test("gzipped CloudFront log (named without .gz): detected by its magic bytes and streamed", async (t) => {
  const file = join(FIXTURES, "cloudfront.log");
  t.true(isGzip(readFileSync(file).subarray(0, 2)));
  const source = await openLines(file);
  t.true(source.gzipped);
  const lines: string[] = [];
  for await (const line of source.lines) lines.push(line);
  t.is(source.bytesRead(), source.size);
  t.true(lines[1]!.startsWith("#Fields: date time"));
  const report = auditLines(lines, settings);
  assertAnswers(t, report, CLOUDFRONT_ANSWERS);
  t.is(report.totals.ignored, 2); // /favicon.ico and the OPTIONS request
});

test("concatenated gzip members (rotated logs joined with cat) are all read", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "audit-"));
  const file = join(dir, "joined.log");
  writeFileSync(file, Buffer.concat([gzipSync("/unsafe/1x1/a.jpg\n"), gzipSync("/unsafe/2x2/b.jpg\n")]));
  const source = await openLines(file);
  const lines: string[] = [];
  for await (const line of source.lines) lines.push(line);
  t.deepEqual(lines, ["/unsafe/1x1/a.jpg", "/unsafe/2x2/b.jpg"]);
});

test("a plain file named .gz is read as plain text", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "audit-"));
  const file = join(dir, "urls.gz");
  writeFileSync(file, "/unsafe/300x200/a.jpg\r\n/unsafe/300x200/a.jpg\r\n");
  const source = await openLines(file);
  t.false(source.gzipped);
  const lines: string[] = [];
  for await (const line of source.lines) lines.push(line);
  t.deepEqual(lines, ["/unsafe/300x200/a.jpg", "/unsafe/300x200/a.jpg"]);
});

const ALB_ANSWERS: Record<string, Expected> = {
  "/unsafe/300x200/images/cat.jpg": { status: "identical", count: 2 },
  "/unsafe/fit-in/400x400/filters:quality(70)/images/dog.png": { status: "identical", count: 1 },
  [TAMPERED]: { status: "broken", count: 1, httpStatus: 403, reason: /bad signature/ },
  "/unsafe/300x200/filters:noise(10)/images/cat.jpg": { status: "approximate", count: 1, features: ["noise"] }, // no seed
};

test("ALB log: absolute request targets with the port, a malformed request, a health check", (t) => {
  const report = auditLines(readFixtureLines("alb.log"), settings);
  assertAnswers(t, report, ALB_ANSWERS);
  t.is(report.totals.ignored, 2);
});

test("--json document: per-URL entries and totals", (t) => {
  const report = auditLines(readFixtureLines("access.log"), settings);
  const doc = JSON.parse(JSON.stringify(reportToJson(report))) as { urls: Record<string, unknown>[]; totals: AuditReport["totals"] };
  t.deepEqual(Object.keys(doc).sort(), ["totals", "urls"]);
  t.is(doc.urls.length, 15);
  t.deepEqual(doc.urls[0], {
    url: "/unsafe/5000x100/images/cat.jpg",
    status: "broken",
    count: 2,
    features: [],
    reason: "width 5000 exceeds the maximum 4096",
    httpStatus: 400,
  });
  const smart = doc.urls.find((u) => u.url === "/unsafe/300x200/smart/images/people.jpg")!;
  t.deepEqual(Object.keys(smart).sort(), ["count", "features", "status", "url", "variantKey"]);
  t.deepEqual(doc.totals, report.totals);
  t.false(JSON.stringify(doc).includes(KEY), "the security key never appears in the report");
});

test("human report: a table broken first, then totals per status and per feature", (t) => {
  const text = formatReport(auditLines(readFixtureLines("access.log"), settings));
  const lines = text.split("\n");
  t.regex(lines[0]!, /^STATUS\s+COUNT\s+URL\s+DETAILS$/);
  t.regex(lines[1]!, /^broken\s+2\s+\/unsafe\/5000x100\/images\/cat\.jpg\s+400 width 5000 exceeds the maximum 4096$/);
  t.true(lines.some((l) => /^approximate\s+1\s+\S+grayscale\(\)\S+\s+fill\(blur\)$/.test(l)));
  t.true(text.includes("15 distinct thumbor URLs in 25 requests; 6 other requests ignored"));
  t.regex(text, /\n {2}broken\s+4 URLs\s+5 requests\n {2}approximate\s+5 URLs\s+8 requests\n {2}identical\s+6 URLs\s+12 requests\n/);
  t.regex(text, /\n {2}smart\s+1 URL\s+3 requests {2}thumbor's face/);
});

test("smart is approximate with thumbor.smartCrop attention (the default) and identical with alignment, thumbor's default", (t) => {
  const url = "/unsafe/300x200/smart/images/people.jpg";
  const attention = classifyThumborUrl(url, DEFAULT_SETTINGS)!;
  t.is(attention.status, "approximate");
  t.deepEqual(attention.features, ["smart"]);
  const aligned = validateSettings({ thumbor: { smartCrop: "alignment" } });
  const verdict = classifyThumborUrl(url, aligned)!;
  t.is(verdict.status, "identical");
  t.deepEqual(verdict.features ?? [], []);
});

test("exit status: 1 with any broken URL, with --strict also when approximate", (t) => {
  const onlyApproximate = auditLines(["/unsafe/300x200/smart/a.jpg", "/unsafe/300x200/a.jpg"], settings);
  t.is(auditExitCode(onlyApproximate), 0);
  t.is(auditExitCode(onlyApproximate, true), 1);
  t.is(auditExitCode(auditLines(["/unsafe/300x200/a.jpg"], settings), true), 0);
  t.is(auditExitCode(auditLines(["/unsafe/5000x1/a.jpg"], settings)), 1);
  t.is(auditExitCode(auditLines([], settings)), 0);
});

test("progress bar: only on a TTY and for inputs of a few MB, redrawn at most every 100 ms", (t) => {
  const writes: string[] = [];
  const tty = { isTTY: true, write: (s: string) => writes.push(s) };
  createProgressBar({ isTTY: false, write: (s: string) => writes.push(s) }, 10 * PROGRESS_MIN_BYTES).update(1);
  createProgressBar(tty, PROGRESS_MIN_BYTES - 1).update(1);
  t.deepEqual(writes, []);
  let now = 0;
  const bar = createProgressBar(tty, 200 * 1024 * 1024, () => now);
  bar.update(50 * 1024 * 1024);
  now = 50;
  bar.update(60 * 1024 * 1024); // too soon: not drawn
  now = 150;
  bar.update(100 * 1024 * 1024);
  bar.done();
  t.is(writes.length, 3);
  t.is(writes[0], `\r${renderProgress(50 * 1024 * 1024, 200 * 1024 * 1024)}`);
  t.regex(writes[1]!, /\[#{15}\.{15}\]  50%  100\.0 MB \/ 200\.0 MB$/);
  t.regex(writes[2]!, /^\r +\r$/);
});

// ---- the command itself, as a user runs it ----

async function runCli(args: string[], stdin?: Buffer): Promise<{ code: number; stdout: string; stderr: string }> {
  const run = execFileP(process.execPath, [BIN, ...args], { cwd: ROOT });
  run.child.stdin!.end(stdin);
  try {
    const { stdout, stderr } = await run;
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test("CLI: a gzipped log on standard input (-)", async (t) => {
  const { code, stdout } = await runCli(["audit", "-", "--settings", SETTINGS_FILE], gzipSync(readFileSync(join(FIXTURES, "access.log"))));
  t.is(code, 1);
  t.true(stdout.includes("15 distinct thumbor URLs in 25 requests; 6 other requests ignored; 31 lines read."));
});

test("CLI: an empty file reports no thumbor URLs and exits 0", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "audit-"));
  writeFileSync(join(dir, "empty.log"), "");
  const { code, stdout, stderr } = await runCli(["audit", join(dir, "empty.log")]);
  t.is(code, 0);
  t.is(stdout, "No thumbor URLs found (0 lines read, 0 ignored).\n");
  t.is(stderr, "");
});

test("CLI: the nginx log with broken URLs exits 1 and prints the table", async (t) => {
  const { code, stdout, stderr } = await runCli(["audit", join(FIXTURES, "access.log"), "--settings", SETTINGS_FILE]);
  t.is(code, 1);
  t.is(stderr, "");
  t.regex(stdout, /^STATUS/);
  t.true(stdout.includes("15 distinct thumbor URLs in 25 requests"));
});

test("CLI: --json on the gzipped CloudFront log", async (t) => {
  const { code, stdout } = await runCli(["audit", "--json", join(FIXTURES, "cloudfront.log"), "--settings", SETTINGS_FILE]);
  t.is(code, 1);
  const doc = JSON.parse(stdout) as { urls: { url: string; status: string; count: number }[]; totals: AuditReport["totals"] };
  t.deepEqual(
    doc.urls.map((u) => [u.url, u.status, u.count]),
    [
      ["/unsafe/9000x9000/images/cat.jpg", "broken", 1],
      ["/unsafe/300x200/smart/images/people.jpg", "approximate", 1],
      ["/unsafe/300x200/images/cat.jpg", "identical", 3],
      [GOOD_SIGNED, "identical", 2],
    ],
  );
  t.is(doc.totals.ignored, 2);
});

test("CLI: exit 0 when nothing breaks, 1 with --strict when something is approximate", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "audit-"));
  const file = join(dir, "urls.txt.gz");
  writeFileSync(file, gzipSync("https://img.example.com/unsafe/300x200/smart/a.jpg\n/unsafe/300x200/a.jpg\n/favicon.ico\n"));
  const plain = await runCli(["audit", file]);
  t.is(plain.code, 0);
  t.regex(plain.stdout, /approximate\s+1\s+\/unsafe\/300x200\/smart\/a\.jpg\s+smart/);
  const strict = await runCli(["audit", file, "--strict"]);
  t.is(strict.code, 1);
  t.is(strict.stdout, plain.stdout);
});

test("CLI: usage errors exit 2 with a one-line message", async (t) => {
  // [arguments, message, whether the usage line is shown (argument errors, not input errors)]
  const cases: [string[], RegExp, boolean][] = [
    [[], /missing command \(usage: edge-resizer <command> \[options\]/, false],
    [["resize", "x"], /unknown command "resize" \(usage: edge-resizer <command> \[options\]; commands: audit, migrate-config/, false],
    [["audit"], /needs a file/, true],
    [["audit", "a", "b"], /one file/, true],
    [["audit", join(FIXTURES, "access.log"), "--frobnicate"], /unknown option '--frobnicate'/, true],
    [["audit", join(FIXTURES, "access.log"), "--settings"], /--settings/, true],
    [["audit", join(FIXTURES, "no-such.log")], /cannot read .*no-such\.log: no such file/, false],
    [["audit", FIXTURES], /is a directory/, false],
    [["audit", join(FIXTURES, "access.log"), "--settings", join(FIXTURES, "access.log")], /not valid JSON/, false],
  ];
  for (const [args, message, usage] of cases) {
    const { code, stdout, stderr } = await runCli(args);
    t.is(code, 2, args.join(" "));
    t.is(stdout, "", args.join(" "));
    t.regex(stderr, /^edge-resizer: [^\n]+\n$/, args.join(" "));
    t.regex(stderr, message, args.join(" "));
    t.is(stderr.includes("(usage: edge-resizer audit <file|->"), usage, args.join(" "));
  }
});

test("CLI: a corrupt gzip file is an input error (exit 2), not a crash", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "audit-"));
  const file = join(dir, "broken.log");
  writeFileSync(file, gzipSync("/unsafe/300x200/a.jpg\n".repeat(1000)).subarray(0, 40));
  const { code, stderr } = await runCli(["audit", file]);
  t.is(code, 2);
  t.regex(stderr, /^edge-resizer: cannot read .*broken\.log \(gzip\): /);
});
