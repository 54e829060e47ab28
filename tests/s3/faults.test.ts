/**
 * S3 faults under origin-response. Each test puts its own fault-injecting proxy
 * (tests/helpers/fault-proxy.ts) in front of one embedded s3rver and aims an S3 client with the
 * handlers' own S3 client, with its retry and timeout configuration (S3_CLIENT_LIMITS), at it. Then:
 *   - transient errors are retried and recovered;
 *   - S3 staying down, hanging, or cutting answers short gives a 503 with the short error cache
 *     lifetime, after a bounded number of attempts, well inside Lambda@Edge's 30 s;
 *   - nothing partial or corrupt is ever stored: after every test the whole bucket is listed and
 *     every variant is decoded with sharp and checked against the size its key asks for;
 *   - originals are never written (their ETags are compared at the end).
 */
import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { CloudFrontRequest, CloudFrontResultResponse } from "aws-lambda";
import { createOriginResponseHandler } from "../../handlers/origin-response.js";
import { validateSettings } from "../../handlers/core/settings.js";
import { parseVariantKey, variantKeyToUri } from "../../handlers/core/variant-key.js";
import { S3HttpClient, S3_CLIENT_LIMITS } from "../../handlers/s3/client.js";
import { newRequestId, originResponseEvent, s3ErrorAnswer, type Distribution } from "../../local/events.js";
import { LOCAL_REGION, S3RVER_CREDENTIALS, createS3Client, startEmbeddedS3, type EmbeddedS3 } from "../../local/s3.js";
import { FaultProxy, type Fault } from "../helpers/fault-proxy.js";
import { checked } from "../helpers/edge-contract.js";

/** Lambda@Edge's limit for an origin-facing function: the handler must have answered by then. */
const LAMBDA_EDGE_ORIGIN_TIMEOUT_MS = 30_000;

const BUCKET = "originals";
const distribution: Distribution = { domainName: "d1.cloudfront.net", distributionId: "E1", bucket: BUCKET, region: LOCAL_REGION };
// These count and fault the original's reads; with intermediates on, an eligible miss first reads
// the original's intermediate too (tests/handlers/origin-response-intermediate.test.ts).
const settings = validateSettings({ intermediate: "off" });

let s3: EmbeddedS3;
let direct: S3Client;
let dataDir: string;
const originalEtags = new Map<string, string>();
const proxies: FaultProxy[] = [];
const clients: S3HttpClient[] = [];

test.before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "faults-"));
  s3 = await startEmbeddedS3(dataDir, BUCKET);
  direct = createS3Client({ endpoint: s3.endpoint, region: LOCAL_REGION, credentials: S3RVER_CREDENTIALS });
  // A photo-like original of a few hundred kB, so that a cut-off answer really is cut off.
  const noise = await sharp({
    create: { width: 1200, height: 800, channels: 3, background: "#808080", noise: { type: "gaussian", mean: 128, sigma: 40 } },
  })
    .jpeg({ quality: 90 })
    .toBuffer();
  for (let i = 0; i < 19; i++)
    await direct.send(new PutObjectCommand({ Bucket: BUCKET, Key: `photos/p${i}.jpg`, Body: noise, ContentType: "image/jpeg" }));
  for (const o of await list("")) originalEtags.set(o.key, o.etag);
});

test.after.always(async () => {
  for (const p of proxies) await p.close();
  for (const c of clients) c.destroy();
  direct?.destroy();
  await s3?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function list(prefix: string): Promise<{ key: string; etag: string; size: number }[]> {
  const out = await direct.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => ({ key: o.Key!, etag: o.ETag!, size: o.Size ?? 0 }));
}

/** A proxy of its own in front of s3rver, and the handlers' S3 client configuration aimed at it. */
async function faultyS3(): Promise<{
  proxy: FaultProxy;
  handler: (key: string) => Promise<{ out: CloudFrontResultResponse; ms: number }>;
}> {
  const proxy = await FaultProxy.start(s3.endpoint);
  proxies.push(proxy);
  const client = new S3HttpClient({ region: LOCAL_REGION, endpoint: proxy.url, credentials: S3RVER_CREDENTIALS });
  clients.push(client);
  const originResponse = checked(createOriginResponseHandler(settings, { s3Client: () => client }));
  const handler = async (key: string) => {
    const request: CloudFrontRequest = { clientIp: "192.0.2.1", method: "GET", uri: variantKeyToUri(key), querystring: "", headers: {} };
    const started = performance.now();
    const out = await originResponse(originResponseEvent(request, s3ErrorAnswer(404), distribution, newRequestId()));
    return { out, ms: performance.now() - started };
  };
  return { proxy, handler };
}

/** What the handler logs (storage failures, with console.error), kept out of the test output. */
const errorLines: string[] = [];
const consoleError = console.error;
test.before(() => {
  console.error = (...args: unknown[]) => void errorLines.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
});
test.after.always(() => {
  console.error = consoleError;
});

function assertServiceUnavailable(t: import("ava").ExecutionContext, out: CloudFrontResultResponse, ms: number, what: string) {
  t.is(out.status, "503", `${what}: ${out.status} ${out.body ?? ""}`);
  t.is(out.headers?.["cache-control"]?.[0]?.value, settings.errorCacheControl, `${what}: short error lifetime`);
  t.true(
    ms < LAMBDA_EDGE_ORIGIN_TIMEOUT_MS,
    `${what}: answered after ${Math.round(ms)} ms, Lambda@Edge stops at ${LAMBDA_EDGE_ORIGIN_TIMEOUT_MS}`,
  );
}

const decodedBody = (out: CloudFrontResultResponse) => Buffer.from(out.body ?? "", "base64");

test("a transient 500/503 on the original's GET is retried and the variant is made", async (t) => {
  const { proxy, handler } = await faultyS3();
  proxy.inject({ kind: "status", status: 500 }, { method: "GET", times: 1 });
  proxy.inject({ kind: "status", status: 503 }, { method: "GET", times: 1 });
  const { out } = await handler("variants/photos/p0.jpg/300x200,q80.jpg");
  t.is(out.status, "200");
  t.like(await sharp(decodedBody(out)).metadata(), { width: 300, height: 200, format: "jpeg" });
  t.is(proxy.requests("GET").length, 3, "two failed attempts, then the one that worked");
  t.is(proxy.requests("PUT").length, 1);
});

test("a transient failure of the variant's PUT is retried and the variant is stored once", async (t) => {
  const { proxy, handler } = await faultyS3();
  proxy.inject({ kind: "status", status: 503 }, { method: "PUT", times: 1 });
  const { out } = await handler("variants/photos/p1.jpg/200x200,q80.webp");
  t.is(out.status, "200");
  t.is(proxy.requests("PUT").length, 2);
  t.is((await list("variants/photos/p1.jpg/")).length, 1);
});

test("a PUT whose answer is lost after S3 stored it is retried; the stored object is whole", async (t) => {
  const { proxy, handler } = await faultyS3();
  proxy.inject({ kind: "drop", afterBytes: 0 }, { method: "PUT", times: 1 });
  const { out } = await handler("variants/photos/p2.jpg/320x0,q80.png");
  t.is(out.status, "200");
  t.true(proxy.requests("PUT").length >= 2, "the lost answer made the client try again");
  const stored = await direct.send(new GetObjectCommand({ Bucket: BUCKET, Key: "variants/photos/p2.jpg/320x0,q80.png" }));
  t.true(Buffer.from(await stored.Body!.transformToByteArray()).equals(decodedBody(out)));
});

test("S3 answering 500 to everything: 503 with the short lifetime after a bounded number of attempts, nothing stored", async (t) => {
  const { proxy, handler } = await faultyS3();
  proxy.inject({ kind: "status", status: 500 }, { times: Infinity });
  const { out, ms } = await handler("variants/photos/p3.jpg/300x200,q80.jpg");
  assertServiceUnavailable(t, out, ms, "S3 down");
  t.is(proxy.requests("GET").length, S3_CLIENT_LIMITS.maxAttempts, "every attempt of one GET, no more");
  t.is(proxy.requests("PUT").length, 0);
  t.deepEqual(await list("variants/photos/p3.jpg/"), []);
});

test("a PUT that keeps failing: 503, not a 500, and no object under the key", async (t) => {
  const { proxy, handler } = await faultyS3();
  proxy.inject({ kind: "status", status: 500 }, { method: "PUT", times: Infinity });
  const { out, ms } = await handler("variants/photos/p4.jpg/300x200,q80.jpg");
  assertServiceUnavailable(t, out, ms, "PUT failing");
  t.is(proxy.requests("PUT").length, S3_CLIENT_LIMITS.maxAttempts);
  t.deepEqual(await list("variants/photos/p4.jpg/"), []);
});

test("slow S3 answers (1.5 s each) still make the variant", async (t) => {
  const { proxy, handler } = await faultyS3();
  proxy.inject({ kind: "delay", ms: 1500 }, { times: 2 });
  const { out } = await handler("variants/photos/p5.jpg/100x100,q80.jpg");
  t.is(out.status, "200");
  t.is(proxy.requests().filter((r) => r.fault === "delay").length, 2);
});

for (const [name, fault, method] of [
  ["S3 hanging on the GET", { kind: "hang" }, "GET"],
  ["S3 hanging on the PUT", { kind: "hang" }, "PUT"],
  ["the original's body stalling after 10 kB", { kind: "stall", afterBytes: 10_000 }, "GET"],
] as Array<[string, Fault, string]>) {
  test(`${name}: the handler answers 503 itself, inside Lambda@Edge's 30 s`, async (t) => {
    const { proxy, handler } = await faultyS3();
    proxy.inject(fault, { method, times: Infinity });
    const key = `variants/photos/p${method === "PUT" ? 6 : fault.kind === "hang" ? 7 : 8}.jpg/300x200,q80.jpg`;
    try {
      // A hung promise must fail the test, not the whole run: race it against the Lambda limit.
      const result = await Promise.race([
        handler(key),
        new Promise<never>((_, fail) =>
          setTimeout(() => fail(new Error("still running at Lambda@Edge's 30 s limit")), LAMBDA_EDGE_ORIGIN_TIMEOUT_MS + 2_000).unref(),
        ),
      ]);
      assertServiceUnavailable(t, result.out, result.ms, name);
      t.true(proxy.requests(method).length <= S3_CLIENT_LIMITS.maxAttempts * 2, `${proxy.requests(method).length} attempts`);
    } finally {
      proxy.clear();
    }
    t.deepEqual(await list(key), []);
  });
}

test("the original's connection dropped mid-body once: the GET is made again and the variant is made from the whole image", async (t) => {
  const { proxy, handler } = await faultyS3();
  proxy.inject({ kind: "drop", afterBytes: 20_000 }, { method: "GET", times: 1 });
  const { out } = await handler("variants/photos/p9.jpg/300x200,q80.jpg");
  t.is(out.status, "200");
  t.is(proxy.requests("GET").length, 2);
  t.is((await list("variants/photos/p9.jpg/")).length, 1);
  // Made from the whole original: identical to the same variant made without any fault.
  const clean = await (await faultyS3()).handler("variants/photos/p10.jpg/300x200,q80.jpg");
  t.true(decodedBody(out).equals(decodedBody(clean.out)), "p9 and p10 are the same original");
});

test("dropped connections on every GET: 503 after bounded attempts, nothing stored", async (t) => {
  const { proxy, handler } = await faultyS3();
  proxy.inject({ kind: "drop", afterBytes: 5_000 }, { method: "GET", times: Infinity });
  const { out, ms } = await handler("variants/photos/p11.jpg/300x200,q80.jpg");
  assertServiceUnavailable(t, out, ms, "dropped GETs");
  t.true(proxy.requests("GET").length <= 2 * S3_CLIENT_LIMITS.maxAttempts, `${proxy.requests("GET").length} GETs`);
  t.deepEqual(await list("variants/photos/p11.jpg/"), []);
});

test("an original cut short inside a well-framed answer (Content-Length rewritten to match) is read again; the variant is made from the whole image", async (t) => {
  const { proxy, handler } = await faultyS3();
  proxy.inject({ kind: "tamper", truncateTo: 60_000 }, { method: "GET", times: 1 });
  const { out } = await handler("variants/photos/p12.jpg/300x200,q80.jpg");
  t.is(out.status, "200");
  t.is(proxy.requests("GET").length, 2, "the cut body was not rendered: it was read again");
  const clean = await (await faultyS3()).handler("variants/photos/p13.jpg/300x200,q80.jpg");
  t.true(decodedBody(out).equals(decodedBody(clean.out)), "p12 and p13 are the same original");
});

for (const [name, fault, n] of [
  ["cut short inside a well-framed answer", { kind: "tamper", truncateTo: 60_000 }, 14],
  ["with one byte flipped", { kind: "tamper", flipByteAt: 30_000 }, 15],
] as Array<[string, Fault, number]>) {
  test(`an original ${name} on every read: 503 after ${S3_CLIENT_LIMITS.maxAttempts} reads, nothing rendered or stored`, async (t) => {
    const { proxy, handler } = await faultyS3();
    proxy.inject(fault, { method: "GET", times: Infinity });
    const key = `variants/photos/p${n}.jpg/300x200,q80.jpg`;
    const { out, ms } = await handler(key);
    assertServiceUnavailable(t, out, ms, name);
    t.is(proxy.requests("GET").length, S3_CLIENT_LIMITS.maxAttempts);
    t.is(proxy.requests("PUT").length, 0);
    t.deepEqual(await list(key), []);
  });
}

for (const [name, headers, n] of [
  ["SSE-KMS", { "x-amz-server-side-encryption": "aws:kms" }, 16],
  ["SSE-C", { "x-amz-server-side-encryption-customer-algorithm": "AES256" }, 17],
  ["multipart", { etag: '"0123456789abcdef0123456789abcdef-3"' }, 18],
] as Array<[string, Record<string, string>, number]>) {
  test(`a ${name} original, whose ETag is not its MD5, renders: its ETag is not taken for a checksum`, async (t) => {
    const { proxy, handler } = await faultyS3();
    // S3 gives such objects an opaque ETag, which may look like 32 hex digits.
    proxy.inject(
      { kind: "tamper", headers: { etag: '"0123456789abcdef0123456789abcdef"', ...headers } },
      { method: "GET", times: Infinity },
    );
    const { out } = await handler(`variants/photos/p${n}.jpg/300x200,q80.jpg`);
    t.is(out.status, "200", out.body);
    t.is(proxy.requests("GET").length, 1);
  });
}

test.after("storage failures are logged as one line with the key and S3's error name, nothing more", (t) => {
  t.true(errorLines.length > 0, "the failures were logged");
  for (const line of errorLines)
    t.regex(line, /^origin-response: storage unavailable \{"key":"variants\/photos\/p\d+\.jpg\/[^"]+","error":"(GET|PUT)[^"]*"\}$/);
});

test.after("every stored variant decodes whole at the size its key asks for, and no original was written", async (t) => {
  const all = await list("");
  for (const [key, etag] of originalEtags) t.is(all.find((o) => o.key === key)?.etag, etag, `${key} unchanged`);
  const variants = all.filter((o) => !originalEtags.has(o.key));
  t.true(variants.length >= 5, `${variants.length} variants stored`);
  for (const v of variants) {
    t.true(v.key.startsWith(`${settings.variantPrefix}/`), v.key);
    const body = Buffer.from(await (await direct.send(new GetObjectCommand({ Bucket: BUCKET, Key: v.key }))).Body!.transformToByteArray());
    t.is(body.length, v.size, `${v.key}: stored size`);
    const plan = parseVariantKey(v.key, settings);
    // Decoding the pixels (not only the header) fails on a truncated file.
    const { info } = await sharp(body, { failOn: "truncated" }).raw().toBuffer({ resolveWithObject: true });
    if (typeof plan.width === "number" && plan.width > 0) t.is(info.width, plan.width, v.key);
    if (typeof plan.height === "number" && plan.height > 0) t.is(info.height, plan.height, v.key);
  }
});
