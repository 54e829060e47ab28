/**
 * The local edge end to end: real HTTP on loopback, the real handlers, a real embedded s3rver
 * in a temporary folder. Plus the cache's CloudFront rules on their own (lifetimes, LRU bytes,
 * collapsing), and `npm start`'s one-line start-up errors and clean Ctrl-C.
 */
import test from "ava";
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import sharp from "sharp";
import { createViewerRequestHandler } from "../../handlers/viewer-request.js";
import { createRequestPlanner } from "../../handlers/url/request-plan.js";
import { DEFAULT_SETTINGS } from "../../handlers/core/settings.js";
import { EdgeCache, cacheLifetime, type EdgeResponse } from "../../local/cloudfront-cache.js";
import { viewerRequestEvent } from "../../local/events.js";
import { startLocalEdge, type LocalEdgeServer } from "../../local/server.js";

const REPO = resolve(__dirname, "..", "..");
const ACCEPT = "image/avif;q=0,image/webp,image/*,*/*;q=0.8";
const settings = DEFAULT_SETTINGS;
const dataDir = mkdtempSync(join(tmpdir(), "local-edge-"));
const quiet = () => {};
let edge: LocalEdgeServer;

test.before(async () => {
  edge = await startLocalEdge({ port: 0, dataDir, log: quiet });
});

test.after.always(async () => {
  await edge?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function get(path: string, init: RequestInit = {}): Promise<{ res: Response; body: Buffer }> {
  const res = await fetch(edge.url + path, {
    ...init,
    headers: { accept: ACCEPT, ...(init.headers as Record<string, string> | undefined) },
  });
  return { res, body: Buffer.from(await res.arrayBuffer()) };
}

async function listKeys(prefix: string): Promise<string[]> {
  const out = await edge.s3.client.send(new ListObjectsV2Command({ Bucket: edge.s3.bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

/** The canonical key the handlers' own planner gives a viewer URL (the oracle for "stored under"). */
function canonicalKey(uri: string, querystring: string): string {
  const route = createRequestPlanner(settings).plan(uri, querystring, ACCEPT);
  if (route.kind !== "variant") throw new Error(`${uri} is not a variant URL`);
  return route.key;
}

test.serial("the first start uploads the sample originals", async (t) => {
  t.is(edge.uploads[0]!.uploaded, 5);
  t.deepEqual(await listKeys("samples/"), [
    "samples/elephants-exif-rotated.jpg",
    "samples/elephants.jpg",
    "samples/paletted-transparent.png",
    "samples/rain-drops.jpg",
    "samples/two-wings.jpg",
  ]);
});

test.serial("?d= and thumbor URLs give the same bytes; the second is a CloudFront hit", async (t) => {
  const before = edge.stats;
  const first = await get("/samples/elephants.jpg?d=300x200");
  t.is(first.res.status, 200);
  t.is(first.res.headers.get("x-cache"), "Miss from cloudfront");
  t.is(first.res.headers.get("content-type"), "image/webp");
  const meta = await sharp(first.body).metadata();
  t.like(meta, { format: "webp", width: 300, height: 200 });

  const second = await get("/unsafe/300x200/samples/elephants.jpg");
  t.is(second.res.status, 200);
  t.is(second.res.headers.get("x-cache"), "Hit from cloudfront");
  t.true(second.body.equals(first.body));
  t.regex(second.res.headers.get("age") ?? "", /^\d+$/);
  t.is(edge.stats.renders - before.renders, 1);
});

test.serial("the variant is stored in S3 under its canonical key, with its Cache-Control", async (t) => {
  const key = canonicalKey("/samples/elephants.jpg", "d=300x200");
  t.deepEqual(await listKeys("variants/samples/elephants.jpg/"), [key]);
  const stored = await edge.s3.client.send(new GetObjectCommand({ Bucket: edge.s3.bucket, Key: key }));
  const { body } = await get("/samples/elephants.jpg?d=300x200");
  t.true(Buffer.from(await stored.Body!.transformToByteArray()).equals(body));
  t.is(stored.CacheControl, settings.cacheControl);
  t.is(stored.ContentType, "image/webp");
});

test.serial("HEAD answers the headers of GET without a body", async (t) => {
  const { body } = await get("/samples/elephants.jpg?d=300x200");
  const head = await get("/samples/elephants.jpg?d=300x200", { method: "HEAD" });
  t.is(head.res.status, 200);
  t.is(head.res.headers.get("content-length"), String(body.length));
  t.is(head.res.headers.get("cache-control"), settings.cacheControl);
  t.is(head.body.length, 0);
});

test.serial("50 concurrent requests for a new variant make exactly one resize and one S3 PUT", async (t) => {
  const before = edge.stats;
  const path = "/unsafe/123x77/samples/two-wings.jpg";
  const answers = await Promise.all(Array.from({ length: 50 }, () => get(path)));
  t.true(answers.every((a) => a.res.status === 200));
  t.true(answers.every((a) => a.body.equals(answers[0]!.body)));
  t.like(await sharp(answers[0]!.body).metadata(), { width: 123, height: 77 });
  t.is(answers.filter((a) => a.res.headers.get("x-cache") === "Miss from cloudfront").length, 1);
  t.is(edge.stats.renders - before.renders, 1);
  t.is(edge.stats.s3Puts - before.s3Puts, 1);
  t.is(edge.stats.originFetches - before.originFetches, 1);
});

test.serial("a variant over Lambda@Edge's inline cap: 302 no-store back to the viewer URL, then S3's copy, cached", async (t) => {
  const before = edge.stats;
  const path = "/unsafe/2000x1250/filters:format(png)/samples/rain-drops.jpg";
  const first = await get(path, { redirect: "manual" });
  t.is(first.res.status, 302);
  t.is(first.res.headers.get("location"), path);
  t.is(first.res.headers.get("cache-control"), "no-store");
  t.is(edge.stats.s3Puts - before.s3Puts, 1);
  const second = await get(path, { redirect: "manual" });
  t.is(second.res.status, 200);
  t.is(second.res.headers.get("x-cache"), "Miss from cloudfront"); // the 302 was not cached
  t.is(second.res.headers.get("server"), "AmazonS3");
  t.true(second.body.length > 1024 * 1024);
  t.like(await sharp(second.body).metadata(), { format: "png", width: 2000, height: 1250 });
  const third = await get(path, { redirect: "manual" });
  t.is(third.res.headers.get("x-cache"), "Hit from cloudfront");
  t.true(third.body.equals(second.body));
  t.is(edge.stats.renders - before.renders, 0); // no inline 200 was generated
  t.is(edge.stats.s3Puts - before.s3Puts, 1);
});

test.serial("originals pass through untouched, and a missing one is S3's 404", async (t) => {
  const { res, body } = await get("/samples/paletted-transparent.png");
  t.is(res.status, 200);
  t.is(res.headers.get("content-type"), "image/png");
  t.is(body.length, 13120);
  const missing = await get("/samples/no-such-file.png");
  t.is(missing.res.status, 404);
});

test.serial("bad URLs get the viewer-request handler's own 4xx, never cached", async (t) => {
  const handler = createViewerRequestHandler(settings);
  for (const path of [
    "/samples/elephants.jpg?d=abc",
    "/unsafe/99999x200/samples/elephants.jpg",
    "/AAAAAAAAAAAAAAAAAAAAAAAAAAA=/300x200/samples/elephants.jpg",
    "/unsafe/300x200/samples/..%2Fsecret.jpg",
  ]) {
    const expected = await handler(
      viewerRequestEvent(
        { method: "GET", url: path, rawHeaders: ["Accept", ACCEPT], clientIp: "127.0.0.1" },
        { domainName: "localhost", distributionId: "TEST", bucket: "b", region: "us-east-1" },
        "test",
      ),
    );
    t.true("status" in expected, `${path} is refused by the handler itself`);
    const want = expected as { status: string; body?: string };
    t.regex(want.status, /^4\d\d$/, path);
    const { res, body } = await get(path);
    t.is(res.status, Number(want.status), path);
    t.is(body.toString(), want.body ?? "", path);
    t.is(res.headers.get("x-cache"), "LambdaGeneratedResponse from cloudfront", path);
    t.is(res.headers.get("cache-control"), settings.errorCacheControl, path);
  }
});

test.serial("a variant of a missing original is origin-response's 404, cached for its short lifetime", async (t) => {
  const first = await get("/unsafe/300x200/samples/not-there.jpg");
  t.is(first.res.status, 404);
  t.is(first.res.headers.get("cache-control"), settings.errorCacheControl);
  t.is(first.res.headers.get("x-cache"), "Miss from cloudfront");
  const again = await get("/unsafe/300x200/samples/not-there.jpg");
  t.is(again.res.status, 404);
  t.is(again.res.headers.get("x-cache"), "Hit from cloudfront");
  t.deepEqual(await listKeys("variants/samples/not-there.jpg/"), []);
});

test.serial("paths S3 would answer 403/404 get that, never a 5xx: empty segments and segments over 255 bytes", async (t) => {
  const long = "a".repeat(300);
  for (const path of [
    "//samples/elephants.jpg",
    "/samples//elephants.jpg",
    "/samples/elephants.jpg/",
    `/samples/${long}.jpg`,
    `/${long}/x.jpg`,
  ]) {
    const { res } = await get(path);
    t.is(res.status, 404, path);
  }
  // A variant of an original that no store can hold: origin-response's own 404 from S3's answer.
  const variant = await get(`/samples/${long}.jpg?d=100x100`);
  t.true(variant.res.status === 404 || variant.res.status === 400, `${variant.res.status}`);
  t.is(edge.stats.lambdaErrors, 0);
});

test.serial("a variant with a very long option string is made and stored, not a 5xx", async (t) => {
  // A curve of 30 points: its key's option segment is about 480 bytes, over what s3rver or MinIO can store.
  const points = Array.from({ length: 30 }, (_, i) => `(${i * 8},${255 - i * 8})`).join("");
  const path = `/unsafe/120x80/filters:curve([${points}],[],[],[])/samples/elephants.jpg`;
  const key = canonicalKey(path, "");
  t.true(key.length > 400);
  const { res, body } = await get(path);
  t.is(res.status, 200, body.toString().slice(0, 200));
  t.deepEqual(await listKeys(key), [key], "stored under its canonical key");
  t.is(edge.stats.lambdaErrors, 0);
});

test.serial("the explain endpoint shows the canonical key or the refusal", async (t) => {
  const { res, body } = await get(
    `/_edge/explain?url=${encodeURIComponent("https://img.example.com/unsafe/300x200/samples/elephants.jpg")}&accept=${encodeURIComponent(ACCEPT)}`,
  );
  t.is(res.status, 200);
  const explained = JSON.parse(body.toString());
  t.is(explained.key, canonicalKey("/unsafe/300x200/samples/elephants.jpg", ""));
  t.is(explained.variant, true);
  t.like(explained.plan, { source: "samples/elephants.jpg", width: 300, height: 200 });
  const refused = JSON.parse(
    (await get(`/_edge/explain?url=${encodeURIComponent("/samples/elephants.jpg?d=99999x99999")}`)).body.toString(),
  );
  t.is(refused.refused.status, 400);
  t.true(refused.refused.reason.length > 0);
});

test.serial("only GET and HEAD reach the handlers", async (t) => {
  const { res } = await get("/samples/elephants.jpg?d=300x200", { method: "POST", body: "x" });
  t.is(res.status, 403);
});

test.serial("a restart over the same data folder serves the variant from S3 without resizing again", async (t) => {
  const { body: before } = await get("/samples/elephants.jpg?d=300x200");
  await edge.close();
  edge = await startLocalEdge({ port: 0, dataDir, log: quiet });
  t.like(edge.uploads[0], { uploaded: 0, unchanged: 5 });
  const { res, body } = await get("/unsafe/300x200/samples/elephants.jpg");
  t.is(res.status, 200);
  t.is(res.headers.get("x-cache"), "Miss from cloudfront");
  t.true(body.equals(before));
  t.like(edge.stats, { renders: 0, s3Puts: 0, originFetches: 1 });
});

test.serial("originals given at start are uploaded and served", async (t) => {
  const folder = mkdtempSync(join(tmpdir(), "local-edge-originals-"));
  mkdirSync(join(folder, "team"));
  copyFileSync(join(REPO, "local/samples/two-wings.jpg"), join(folder, "team/wings.jpg"));
  const other = await startLocalEdge({
    port: 0,
    dataDir: join(dataDir, "with-originals"),
    uploadSamples: false,
    originals: folder,
    log: quiet,
  });
  try {
    t.like(other.uploads[0], { uploaded: 1, keys: ["team/wings.jpg"] });
    const res = await fetch(`${other.url}/team/wings.jpg?d=64x40`, { headers: { accept: ACCEPT } });
    t.is(res.status, 200);
    t.like(await sharp(Buffer.from(await res.arrayBuffer())).metadata(), { width: 64, height: 40 });
  } finally {
    await other.close();
    rmSync(folder, { recursive: true, force: true });
  }
});

test.serial("a port in use is a StartupError naming the port", async (t) => {
  const err = await t.throwsAsync(startLocalEdge({ port: Number(new URL(edge.url).port), dataDir: join(dataDir, "other"), log: quiet }));
  t.is(err!.message, `port ${new URL(edge.url).port} is in use; set PORT`);
});

// ---- npm start as a process: one-line errors, clean Ctrl-C ----

function startProcess(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import=tsx", join(REPO, "local/main.ts")], {
    cwd: REPO,
    env: {
      ...process.env,
      RESIZER_SETTINGS: "",
      RESIZER_ORIGINALS: "",
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const exit = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
  return { child, exit, out: () => stdout, err: () => stderr };
}

test.serial("npm start: a port in use is one line and exit code 1", async (t) => {
  const port = new URL(edge.url).port;
  const p = startProcess({ PORT: port, S3_ENDPOINT: edge.s3.endpoint!, S3_BUCKET: edge.s3.bucket });
  t.is(await p.exit, 1);
  t.is(p.err(), `port ${port} is in use; set PORT\n`);
});

test.serial("npm start: an unreachable S3 endpoint is one line and exit code 1", async (t) => {
  const dead = await freePort();
  const p = startProcess({ PORT: "0", S3_ENDPOINT: `http://127.0.0.1:${dead}`, S3_BUCKET: "b" });
  t.is(await p.exit, 1);
  t.is(p.err(), `cannot reach bucket "b" at http://127.0.0.1:${dead}: ECONNREFUSED\n`);
});

test.serial("npm start: an invalid RESIZER_SETTINGS is one line naming the problem", async (t) => {
  const file = join(dataDir, "settings.json");
  writeFileSync(file, JSON.stringify({ maxWidth: "wide" }));
  const p = startProcess({ PORT: "0", RESIZER_SETTINGS: file, S3_ENDPOINT: edge.s3.endpoint!, S3_BUCKET: edge.s3.bucket });
  t.is(await p.exit, 1);
  t.is(p.err(), `${file}: maxWidth must be an integer from 1 to 16383, got "wide"\n`);
});

test.serial("npm start: prints its URL, serves, and stops cleanly on SIGINT", async (t) => {
  const p = startProcess({ PORT: "0", S3_ENDPOINT: edge.s3.endpoint!, S3_BUCKET: edge.s3.bucket });
  try {
    const url = (await waitForOutput(p, /(http:\/\/127\.0\.0\.1:\d+)/))[1]!;
    const res = await fetch(`${url}/samples/elephants.jpg?d=300x200`, { headers: { accept: ACCEPT } });
    t.is(res.status, 200);
    await waitForOutput(p, /GET \/samples\/elephants\.jpg\?d=300x200 200 image\/webp \d+ B Miss \d+ ms/);
    p.child.kill("SIGINT");
    t.is(await p.exit, 0);
    t.regex(p.out(), /SIGINT: shutting down/);
    t.is(p.err(), "");
  } finally {
    if (p.child.exitCode === null) p.child.kill("SIGKILL");
  }
});

/** Resolves with the match once the process's stdout matches `pattern`; rejects if it exits first or takes over 30 s. */
function waitForOutput(p: ReturnType<typeof startProcess>, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((done, fail) => {
    const started = Date.now();
    const timer = setInterval(() => {
      const m = pattern.exec(p.out());
      if (m) {
        clearInterval(timer);
        done(m);
      } else if (p.child.exitCode !== null || Date.now() - started > 30_000) {
        clearInterval(timer);
        fail(new Error(`no ${pattern} in the output of npm start: ${p.out()} ${p.err()}`));
      }
    }, 50);
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const port = (server.address() as { port: number }).port;
  await new Promise((done) => server.close(done));
  return port;
}

// ---- the cache's CloudFront rules, without HTTP ----

test("lifetimes follow Cache-Control the way CloudFront reads it", (t) => {
  t.is(cacheLifetime(200, "public, max-age=31536000, immutable"), 31_536_000);
  t.is(cacheLifetime(200, "max-age=60, s-maxage=5"), 5);
  t.is(cacheLifetime(200, undefined), 86_400);
  t.is(cacheLifetime(200, "max-age=999999999"), 31_536_000);
  t.is(cacheLifetime(200, "no-store"), 0);
  t.is(cacheLifetime(200, "no-cache"), 0);
  t.is(cacheLifetime(200, "private, max-age=60"), 0);
  t.is(cacheLifetime(302, "no-store"), 0);
  t.is(cacheLifetime(404, undefined), 10);
  t.is(cacheLifetime(400, "public, max-age=3"), 3);
  t.is(cacheLifetime(416, "max-age=60"), 0);
});

function answer(body: string, cacheControl: string, status = 200): EdgeResponse {
  return { status, headers: new Map([["cache-control", [cacheControl]]]), body: Buffer.from(body) };
}

test("entries expire after their lifetime", async (t) => {
  let now = 1_000_000;
  const cache = new EdgeCache(10_000, undefined, () => now);
  let trips = 0;
  const origin = async () => (trips++, answer("x", "max-age=10", 404));
  t.is((await cache.get("/k", origin)).outcome, "Miss");
  now += 9_000;
  const hit = await cache.get("/k", origin);
  t.is(hit.outcome, "Hit");
  t.is(hit.age, 9);
  now += 1_000;
  t.is((await cache.get("/k", origin)).outcome, "Miss");
  t.is(trips, 2);
});

test("the byte budget evicts the least recently used entries", async (t) => {
  const body = "b".repeat(400);
  const cache = new EdgeCache(1_000);
  const origin = (name: string) => async () => answer(`${name}${body}`, "max-age=60");
  await cache.get("/a", origin("a"));
  await cache.get("/b", origin("b"));
  await cache.get("/a", origin("a")); // /a is now the most recently used
  await cache.get("/c", origin("c")); // over budget: /b goes
  t.is((await cache.get("/a", origin("a"))).outcome, "Hit");
  t.is((await cache.get("/c", origin("c"))).outcome, "Hit");
  t.is(cache.stats.evictions, 1);
  t.true(cache.stats.bytes <= 1_000);
  t.is((await cache.get("/b", origin("b"))).outcome, "Miss");
  t.is((await new EdgeCache(100).get("/big", origin("big"))).outcome, "Miss");
});

test("concurrent misses share one trip; after a no-store answer the waiters make their own", async (t) => {
  const cache = new EdgeCache(10_000);
  let trips = 0;
  const slow = (cc: string) => async () => {
    trips++;
    await new Promise((r) => setTimeout(r, 30));
    return answer("v", cc);
  };
  const cached = await Promise.all(Array.from({ length: 10 }, () => cache.get("/c", slow("max-age=60"))));
  t.is(trips, 1);
  t.deepEqual(cached.map((r) => r.outcome).sort(), ["Hit", "Hit", "Hit", "Hit", "Hit", "Hit", "Hit", "Hit", "Hit", "Miss"]);
  trips = 0;
  const uncached = await Promise.all(Array.from({ length: 5 }, () => cache.get("/n", slow("no-store"))));
  t.is(trips, 5);
  t.true(uncached.every((r) => r.outcome === "Miss"));
});

test("a handler result that breaks a CloudFront rule answers 502 with CloudFront's reason, as a deploy would", async (t) => {
  const brokenDir = mkdtempSync(join(tmpdir(), "local-edge-broken-"));
  const lines: string[] = [];
  const broken = await startLocalEdge({
    port: 0,
    dataDir: brokenDir,
    uploadSamples: false,
    log: (line) => lines.push(line),
    handlers: (real) => ({
      // The old defect: a brand-new response object, which drops S3's Transfer-Encoding and Via.
      originResponse: async () => ({
        status: "200",
        statusDescription: "OK",
        headers: { "content-type": [{ key: "Content-Type", value: "text/plain" }] },
        body: "made",
        bodyEncoding: "text",
      }),
      // A viewer-request that rewrites Host, read-only on that event.
      viewerRequest: async (event) => {
        const out = await real.viewerRequest(event);
        if (event.Records[0]!.cf.request.uri.startsWith("/host/"))
          event.Records[0]!.cf.request.headers.host = [{ key: "Host", value: "elsewhere.example" }];
        return out;
      },
    }),
  });
  try {
    const variant = await fetch(`${broken.url}/unsafe/100x100/samples/elephants.jpg`);
    t.is(variant.status, 502);
    const text = await variant.text();
    t.regex(text, /The Lambda function result failed validation: origin-response: the function deleted read-only header Transfer-Encoding/);
    t.regex(text, /deleted read-only header Via/);
    const host = await fetch(`${broken.url}/host/a.jpg`);
    t.is(host.status, 502);
    t.regex(await host.text(), /viewer-request: the function changed read-only header Host/);
    t.is(host.headers.get("x-cache"), "LambdaValidationError from cloudfront");
    t.is(broken.stats.lambdaErrors, 2);
    t.true(lines.some((l) => l.includes("refused as CloudFront would (502)")));
  } finally {
    await broken.close();
    rmSync(brokenDir, { recursive: true, force: true });
  }
});
