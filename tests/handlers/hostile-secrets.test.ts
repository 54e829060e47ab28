/**
 * The thumbor security key never leaves the function, and signatures are compared
 * in constant time.
 *
 * - Every console method and both process streams are captured while requests fail in every way
 *   we know (bad, short, long, retired-key-for-another-path signatures; unsafe URLs; forged
 *   keys; S3 down; bad originals), while bad settings are loaded, and while the local edge serves
 *   them over HTTP with its own request log. Neither the current nor a retired key may appear
 *   in any log line, answer body or header.
 * - Constant time, checked by behaviour rather than by a clock: node's crypto.timingSafeEqual is
 *   wrapped (called through, not replaced) to record every comparison. Each verification makes
 *   one 28-byte/28-byte comparison per key, whatever the candidate (right, wrong at the first
 *   byte, wrong at the last byte, too short, too long) and even after a key matched.
 *
 * The bucket side (only the OAI reads; the functions' role cannot write originals) is the Pulumi
 * tests' part: tests/components/image-resizer.test.ts.
 */
import test from "ava";
import crypto from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { S3HttpClient } from "../../handlers/s3/client.js";
import type { CloudFrontRequest, CloudFrontResultResponse } from "aws-lambda";
import { createOriginResponseHandler } from "../../handlers/origin-response.js";
import { createViewerRequestHandler } from "../../handlers/viewer-request.js";
import { SettingsError, loadSettingsFile, validateSettings } from "../../handlers/core/settings.js";
import { signThumborPath, verifyThumborSignature } from "../../handlers/url/signature.js";
import { newRequestId, originResponseEvent, viewerRequestEvent, s3ErrorAnswer, type Distribution } from "../../local/events.js";
import { startLocalEdge } from "../../local/server.js";
import { checked } from "../helpers/edge-contract.js";

const KEY = "sEcReT-kEy-7f3a9c-do-not-log";
const RETIRED = "oLd-SeCrEt-42b1-rotated-out";
const SECRETS = [KEY, RETIRED];
const settings = validateSettings({
  sizes: ["300x200"],
  thumbor: { allowUnsafe: false, securityKey: KEY, retiredSecurityKeys: [RETIRED] },
});
const distribution: Distribution = { domainName: "d1.cloudfront.net", distributionId: "E1", bucket: "originals", region: "us-east-1" };

/** Everything written to the console or to stdout/stderr while `fn` runs. The tests of this file are serial: the capture is global. */
async function captured<T>(fn: () => Promise<T>): Promise<{ result: T; output: string }> {
  const chunks: string[] = [];
  const methods = ["log", "error", "warn", "info", "debug", "trace"] as const;
  const saved = methods.map((m) => console[m]);
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  for (const m of methods)
    console[m] = (...args: unknown[]) =>
      void chunks.push(
        args.map((a) => (typeof a === "string" ? a : a instanceof Error ? `${a.message}\n${a.stack}` : JSON.stringify(a))).join(" "),
      );
  process.stdout.write = ((c: string | Uint8Array) => (chunks.push(String(c)), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => (chunks.push(String(c)), true)) as typeof process.stderr.write;
  try {
    return { result: await fn(), output: chunks.join("\n") };
  } finally {
    methods.forEach((m, i) => (console[m] = saved[i]!));
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

/** No key, and no 10-character piece of one (V8's JSON errors quote excerpts), in `text`. */
function assertNoSecret(t: import("ava").ExecutionContext, text: string, where: string) {
  for (const secret of SECRETS) {
    const piece = Array.from({ length: secret.length - 9 }, (_, i) => secret.slice(i, i + 10)).find((p) => text.includes(p));
    t.is(piece, undefined, `${where} contains a piece of a security key`);
  }
}

const isResponse = (r: CloudFrontRequest | CloudFrontResultResponse): r is CloudFrontResultResponse => "status" in r;
const PATH = "300x200/smart/images/cat.jpg";

/** Failing (and one succeeding) viewer URLs under locked-down settings. */
function viewerUrls(): string[] {
  const good = signThumborPath(KEY, PATH);
  const other = signThumborPath(RETIRED, "10x10/images/cat.jpg");
  return [
    `/${good}/${PATH}`, // valid
    `/${signThumborPath(RETIRED, PATH)}/${PATH}`, // valid, retired key
    `/${other}/${PATH}`, // a retired key's signature of another path
    `/${good.slice(0, 27)}%3D/300x201/smart/images/cat.jpg`, // tampered path
    `/${"A".repeat(27)}=/${PATH}`,
    `/${good.replace(/^./, (c) => (c === "A" ? "B" : "A"))}/${PATH}`, // first byte wrong
    `/${good.slice(0, 26)}${good[26] === "A" ? "B" : "A"}=/${PATH}`, // last byte wrong
    `/${good.slice(0, 20)}/${PATH}`, // too short: not a signature segment at all
    `/${good}AAAA/${PATH}`, // too long
    `/unsafe/${PATH}`,
    `/unsafe/${KEY.length}x1/images/cat.jpg`,
    "/variants/images/cat.jpg/300x200,smart,q80.webp",
    "/variants/images/cat.jpg/301x200,q80.webp",
    "/images/cat.jpg?d=301x200",
    "/images/cat.jpg?d=abc",
    "/%ZZ/cat.jpg?d=300x200",
    `/${good}/filters:watermark(${encodeURIComponent("../x.png")},0,0,0)/images/cat.jpg`,
  ];
}

test.serial("the key appears in no viewer-request answer, header or log line, for any failing signed request", async (t) => {
  const handler = checked(createViewerRequestHandler(settings));
  const { result, output } = await captured(async () => {
    const answers: string[] = [];
    for (const url of viewerUrls()) {
      const out = await handler(
        viewerRequestEvent(
          { method: "GET", url, rawHeaders: ["Accept", "image/webp"], clientIp: "198.51.100.1" },
          distribution,
          newRequestId(),
        ),
      );
      answers.push(JSON.stringify(out));
    }
    return answers;
  });
  const statuses = result
    .map((a) => JSON.parse(a) as CloudFrontRequest | CloudFrontResultResponse)
    .map((r) => (isResponse(r) ? r.status : "rewritten"));
  // The cases really fail the way they are meant to (so the check below is not vacuous).
  t.deepEqual(statuses.slice(0, 3), ["rewritten", "rewritten", "403"]);
  t.true(statuses.filter((s) => s === "403").length >= 8, statuses.join(" "));
  for (const [i, answer] of result.entries()) assertNoSecret(t, answer, `answer to ${viewerUrls()[i]}`);
  assertNoSecret(t, output, "the logs");
});

test.serial("the key appears in no origin-response answer or log line when S3 is unreachable or the original is bad", async (t) => {
  // A client aimed at a port nobody listens on, failing fast: the handler logs and answers 503.
  const dead = new S3HttpClient({
    region: "us-east-1",
    endpoint: "http://127.0.0.1:9",
    limits: { maxAttempts: 1 },
    credentials: { accessKeyId: "x", secretAccessKey: "y" },
  });
  const handler = checked(createOriginResponseHandler(settings, { s3Client: () => dead }));
  const { result, output } = await captured(async () => {
    const out: CloudFrontResultResponse[] = [];
    for (const key of [
      "variants/images/cat.jpg/300x200,q80.webp",
      "variants/images/cat.jpg/300x200,q080.webp",
      "variants/images/cat.jpg/5000x200,q80.webp",
    ]) {
      const request: CloudFrontRequest = { clientIp: "198.51.100.1", method: "GET", uri: `/${key}`, querystring: "", headers: {} };
      out.push(await handler(originResponseEvent(request, s3ErrorAnswer(404), distribution, newRequestId())));
    }
    return out;
  });
  dead.destroy();
  t.deepEqual(
    result.map((r) => r.status),
    ["503", "400", "400"],
  );
  t.regex(output, /storage unavailable/, "the S3 failure was logged");
  for (const r of result) assertNoSecret(t, JSON.stringify(r), `origin-response answer ${r.status}`);
  assertNoSecret(t, output, "the logs");
});

test.serial("bad settings never echo a security key: wrong types, bad entries, a whole wrong document, broken JSON", async (t) => {
  const docs: unknown[] = [
    { thumbor: { securityKey: [KEY] } },
    { thumbor: { securityKey: { value: KEY } } },
    { thumbor: { retiredSecurityKeys: [RETIRED, 5] } },
    { thumbor: { retiredSecurityKeys: RETIRED } },
    { thumbor: { retiredSecurityKeys: [RETIRED, ""] } },
    { thumbor: { securityKey: KEY, allowUnsafe: "no" } },
    { thumbor: { securityKey: KEY, unknown: 1 } },
    [{ thumbor: { securityKey: KEY } }],
  ];
  for (const doc of docs) {
    const err = t.throws(() => validateSettings(doc), { instanceOf: SettingsError });
    assertNoSecret(t, err!.message, `the message for ${JSON.stringify(doc).slice(0, 40)}...`);
  }
  const dir = mkdtempSync(join(tmpdir(), "hostile-secrets-"));
  try {
    const texts = [
      `{"thumbor": {"securityKey": ${KEY}}}`, // unquoted: V8 would quote the text around it
      `{"thumbor": {"securityKey": "${KEY}"}`, // unbalanced
      `{"thumbor": {"securityKey": "${KEY}\\x"}}`, // bad escape
      `${KEY}`,
      `{"thumbor": {"securityKey": "${KEY}", }}`,
    ];
    for (const text of texts) {
      const file = join(dir, "settings.json");
      writeFileSync(file, text);
      const err = t.throws(() => loadSettingsFile(file), { instanceOf: SettingsError, message: /is not valid JSON/ });
      assertNoSecret(t, err!.message, `the message for ${text.slice(0, 30)}...`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.serial("the local edge's request log and answers carry no key, over HTTP, for failing signed requests", async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), "hostile-secrets-edge-"));
  const lines: string[] = [];
  const edge = await startLocalEdge({ port: 0, dataDir, settings, uploadSamples: false, log: (l) => lines.push(l) });
  try {
    const cat = await sharp({ create: { width: 64, height: 48, channels: 3, background: "#aa3300" } })
      .jpeg()
      .toBuffer();
    await edge.s3.client.send(new PutObjectCommand({ Bucket: edge.s3.bucket, Key: "images/cat.jpg", Body: cat }));
    const statuses: number[] = [];
    for (const url of viewerUrls()) {
      const res = await fetch(edge.url + url, { headers: { accept: "image/webp" } });
      statuses.push(res.status);
      const body = Buffer.from(await res.arrayBuffer()).toString("latin1");
      assertNoSecret(t, body, `body for ${url}`);
      assertNoSecret(t, JSON.stringify([...res.headers]), `headers for ${url}`);
    }
    t.is(statuses[0], 200, "the signed request works over HTTP");
    t.true(statuses.filter((s) => s === 403).length >= 8);
    const explain = await (await fetch(`${edge.url}/_edge/explain?url=${encodeURIComponent(viewerUrls()[2]!)}`)).text();
    assertNoSecret(t, explain, "the playground's explain answer");
    t.true(lines.length >= viewerUrls().length, "every request was logged");
    assertNoSecret(t, lines.join("\n"), "the local edge's log");
  } finally {
    await edge.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

// ---- constant-time comparison ----

interface Comparison {
  a: Buffer;
  b: Buffer;
}

/** Runs `fn` with crypto.timingSafeEqual wrapped to record its arguments (it still does the work). */
function recordingComparisons<T>(fn: () => T): { result: T; comparisons: Comparison[] } {
  const comparisons: Comparison[] = [];
  const real = crypto.timingSafeEqual;
  const spy = (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
    comparisons.push({ a: Buffer.from(a.buffer, a.byteOffset, a.byteLength), b: Buffer.from(b.buffer, b.byteOffset, b.byteLength) });
    return real(a, b);
  };
  (crypto as { timingSafeEqual: typeof crypto.timingSafeEqual }).timingSafeEqual = spy;
  try {
    return { result: fn(), comparisons };
  } finally {
    (crypto as { timingSafeEqual: typeof crypto.timingSafeEqual }).timingSafeEqual = real;
  }
}

test.serial("every verification compares 28 bytes with timingSafeEqual once per key: no early exit on a match or a wrong byte", (t) => {
  const signedPart = "300x200/smart/images/cat.jpg";
  const keys = ["k-zero", KEY, RETIRED];
  const good = signThumborPath(KEY, signedPart);
  const flip = (c: string) => (c === "A" ? "B" : "A");
  const candidates: Array<[string, string, boolean]> = [
    ["right", good, true],
    ["right, retired key", signThumborPath(RETIRED, signedPart), true],
    ["wrong first byte", flip(good[0]!) + good.slice(1), false],
    ["wrong last byte before the padding", good.slice(0, 26) + flip(good[26]!) + "=", false],
    ["too short", good.slice(0, 10), false],
    ["too long", good + "AAAA", false],
    ["empty", "", false],
    ["percent-encoded padding", `${good.slice(0, 27)}%3D`, true],
  ];
  const shapes: string[] = [];
  for (const [what, candidate, valid] of candidates) {
    const { result, comparisons } = recordingComparisons(() => verifyThumborSignature(candidate, signedPart, keys));
    t.is(result, valid, what);
    t.is(comparisons.length, keys.length, `${what}: one comparison per key`);
    for (const c of comparisons) t.deepEqual([c.a.length, c.b.length], [28, 28], `${what}: equal-length 28-byte buffers`);
    shapes.push(JSON.stringify(comparisons.map((c) => [c.a.length, c.b.length])));
    // A candidate of the right length is compared whole, as sent (not a prefix, not re-encoded).
    if (Buffer.byteLength(decodeURIComponent(candidate)) === 28) {
      for (const c of comparisons) t.is(c.a.toString("latin1"), decodeURIComponent(candidate), what);
    }
  }
  t.is(new Set(shapes).size, 1, "every candidate makes the same sequence of comparisons");
  // Verify does not throw on a length mismatch (timingSafeEqual itself would).
  t.throws(() => crypto.timingSafeEqual(Buffer.alloc(10), Buffer.alloc(28)));
  t.notThrows(() => verifyThumborSignature("x", signedPart, keys));
});

test.serial("empty keys are skipped and an empty key list verifies nothing, without comparing", (t) => {
  const { result, comparisons } = recordingComparisons(() => verifyThumborSignature(signThumborPath(KEY, "a"), "a", ["", ""]));
  t.false(result);
  t.is(comparisons.length, 0);
  t.false(verifyThumborSignature(signThumborPath(KEY, "a"), "a", []));
});
