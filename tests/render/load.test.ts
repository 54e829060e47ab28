/**
 * Load on the local edge (real HTTP on loopback, the real handlers, embedded s3rver)
 * with autocannon's programmatic API. Not a timing test: no latency or throughput is asserted,
 * only correctness under concurrency and a generous memory bound; the numbers are logged.
 *
 *   1. 10,000 mixed requests (variants of five originals in several sizes and both URL styles,
 *      two Accept headers, originals passed through, refusals) from 64 connections: zero 5xx,
 *      zero socket errors, and zero wrong bytes — every body the edge sent is compared with the
 *      object stored in S3 under the canonical key of its request (or the original, or the
 *      refusal the viewer-request handler gives on its own). Every distinct variant is resized
 *      and PUT exactly once.
 *   2. 200 concurrent requests for one new variant: exactly one resize and one PUT.
 *
 * How bytes are checked: autocannon hands `onResponse` the body as a string decoded as UTF-8
 * chunk by chunk, which loses bytes of binary images. So the exact bytes are taken where the
 * edge writes them (ServerResponse#end, wrapped and called through, in this process), and the
 * client side checks the status and Content-Length of every response it received (and the exact
 * text of refusals, which survives the decoding).
 */
import test from "ava";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { ServerResponse, type IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import type { CloudFrontResultResponse } from "aws-lambda";
import { createViewerRequestHandler } from "../../handlers/viewer-request.js";
import { createRequestPlanner } from "../../handlers/url/request-plan.js";
import { DEFAULT_SETTINGS } from "../../handlers/core/settings.js";
import { newRequestId, viewerRequestEvent } from "../../local/events.js";
import { startLocalEdge, type LocalEdgeServer } from "../../local/server.js";

const settings = DEFAULT_SETTINGS;
const ACCEPTS = ["image/avif;q=0,image/webp,image/*,*/*;q=0.8", "*/*"] as const;
const SAMPLES = [
  "samples/elephants.jpg",
  "samples/elephants-exif-rotated.jpg",
  "samples/rain-drops.jpg",
  "samples/two-wings.jpg",
  "samples/paletted-transparent.png",
];

/** One kind of request of the mix: the URL, its Accept, and what the right answer is. */
interface Case {
  url: string;
  accept: string;
  kind: "variant" | "original" | "refused";
  /** S3 key whose bytes the body must be (variants, originals). */
  key?: string;
  /** The refusal's status and body, from the viewer-request handler alone. */
  refusal?: { status: number; body: string };
}

function buildMix(): Case[] {
  const planner = createRequestPlanner(settings);
  const cases: Case[] = [];
  for (const source of SAMPLES) {
    for (const accept of ACCEPTS) {
      for (const url of [
        `/${source}?d=300x200`,
        `/unsafe/300x200/${source}`, // the same variant as ?d=300x200
        `/${source}?d=160x160`,
        `/unsafe/200x300/smart/${source}`,
        `/unsafe/fit-in/120x120/${source}`,
        `/unsafe/100x100/filters:grayscale():quality(70)/${source}`,
      ]) {
        const [path, query = ""] = url.split("?") as [string, string?];
        const route = planner.plan(path, query, accept);
        if (route.kind !== "variant") throw new Error(`${url} is not a variant`);
        cases.push({ url, accept, kind: "variant", key: route.key });
      }
    }
    cases.push({ url: `/${source}`, accept: ACCEPTS[0], kind: "original", key: source });
  }
  for (const url of [
    "/samples/elephants.jpg?d=abc",
    "/unsafe/99999x1/samples/two-wings.jpg",
    "/AAAAAAAAAAAAAAAAAAAAAAAAAAA=/300x200/samples/two-wings.jpg",
    "/unsafe/10x10/samples/..%2F..%2Fetc.jpg",
  ]) {
    cases.push({ url, accept: ACCEPTS[1], kind: "refused" });
  }
  return cases;
}

/** The viewer-request handler's own refusal for a case (status and body), the reference for refusals. */
async function refusalOf(c: Case): Promise<{ status: number; body: string }> {
  const out = await createViewerRequestHandler(settings)(
    viewerRequestEvent(
      { method: "GET", url: c.url, rawHeaders: ["Accept", c.accept], clientIp: "127.0.0.1" },
      { domainName: "l", distributionId: "L", bucket: "b", region: "us-east-1" },
      newRequestId(),
    ),
  );
  if (!("status" in out)) throw new Error(`${c.url} is not refused`);
  const r = out as CloudFrontResultResponse;
  return { status: Number(r.status), body: r.body ?? "" };
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** Records the exact body of every answer the edge writes, keyed by request URL + Accept. */
function recordBodies(): { bodies: Map<string, Map<string, number>>; statuses: Map<number, number>; stop: () => void } {
  const bodies = new Map<string, Map<string, number>>();
  const statuses = new Map<number, number>();
  const realEnd = ServerResponse.prototype.end;
  ServerResponse.prototype.end = function (this: ServerResponse & { req?: IncomingMessage }, ...args: unknown[]) {
    const chunk = args[0];
    const req = this.req;
    if (req && req.method === "GET" && Buffer.isBuffer(chunk)) {
      const id = `${req.url} ${req.headers.accept ?? ""}`;
      const hashes = bodies.get(id) ?? new Map<string, number>();
      const h = `${this.statusCode} ${sha(chunk)}`;
      hashes.set(h, (hashes.get(h) ?? 0) + 1);
      bodies.set(id, hashes);
      statuses.set(this.statusCode, (statuses.get(this.statusCode) ?? 0) + 1);
    }
    return (realEnd as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as typeof ServerResponse.prototype.end;
  return { bodies, statuses, stop: () => void (ServerResponse.prototype.end = realEnd) };
}

/** A small deterministic generator, so that a failing mix can be replayed. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

let edge: LocalEdgeServer;
let dataDir: string;

test.before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "load-"));
  edge = await startLocalEdge({ port: 0, dataDir, log: () => {}, cacheBytes: 64 * 1024 * 1024 });
});

test.after.always(async () => {
  await edge?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function s3Bytes(key: string): Promise<Buffer> {
  const out = await edge.s3.client.send(new GetObjectCommand({ Bucket: edge.s3.bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

const mb = (n: number) => `${Math.round(n / 1e6)} MB`;

test.serial("10,000 mixed requests from 64 connections: no 5xx, no wrong byte, one resize and one PUT per variant", async (t) => {
  const mix = buildMix();
  for (const c of mix) if (c.kind === "refused") c.refusal = await refusalOf(c);
  const distinctKeys = new Set(mix.filter((c) => c.kind === "variant").map((c) => c.key!));
  const before = edge.stats;
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;

  const random = lcg(7);
  const clientSide = { responses: 0, status5xx: 0, lengthMismatch: [] as string[] };
  /** Every response as the client saw it: which case it was, and its Content-Length. */
  const received: Array<[Case, number]> = [];
  const recorder = recordBodies();
  let result: autocannon.Result;
  try {
    result = await autocannon({
      url: edge.url,
      connections: 64,
      amount: 10_000,
      timeout: 30,
      requests: [
        {
          method: "GET",
          setupRequest: (req, context) => {
            const c = mix[Math.floor(random() * mix.length)]!;
            (context as { current?: Case }).current = c;
            return { ...req, method: "GET", path: c.url, headers: { accept: c.accept } };
          },
          onResponse: (status, body, context, headers) => {
            clientSide.responses++;
            if (status >= 500) clientSide.status5xx++;
            const c = (context as { current?: Case }).current!;
            const length = Number((headers as Record<string, string>)["content-length"]);
            // The string autocannon decoded is lossy for binary bodies, but refusals are text.
            if (c.kind === "refused" && body !== c.refusal!.body) clientSide.lengthMismatch.push(`${c.url}: body ${JSON.stringify(body)}`);
            received.push([c, length]);
          },
        },
      ],
    });
  } finally {
    recorder.stop();
  }
  const rssAfter = process.memoryUsage().rss;
  t.log(
    `${result.requests.total} requests in ${result.duration.toFixed(1)} s, ${Math.round(result.requests.average)} req/s, ` +
      `latency p50 ${result.latency.p50} ms p99 ${result.latency.p99} ms; RSS ${mb(rssBefore)} → ${mb(rssAfter)}; statuses ${JSON.stringify([...recorder.statuses])}`,
  );

  t.is(result.errors, 0, "socket errors");
  t.is(result.timeouts, 0, "timeouts");
  t.is(result["5xx"], 0, "5xx answers (autocannon's count)");
  t.is(clientSide.status5xx, 0);
  t.is(clientSide.responses, 10_000);
  t.deepEqual(clientSide.lengthMismatch, []);

  // Exact bytes: each distinct answer the edge wrote for a request must be the reference.
  let checked = 0;
  const wrong: string[] = [];
  for (const c of mix) {
    const seen = recorder.bodies.get(`${c.url} ${c.accept}`);
    if (!seen) continue; // not drawn by the random mix
    let expected: string;
    if (c.kind === "refused") expected = `${c.refusal!.status} ${sha(Buffer.from(c.refusal!.body))}`;
    else expected = `200 ${sha(await s3Bytes(c.key!))}`;
    for (const [h, n] of seen) {
      checked += n;
      if (h !== expected) wrong.push(`${n} x ${c.url} [${c.accept}]: got ${h}, want ${expected}`);
    }
  }
  t.deepEqual(wrong, [], "every body equals the reference");
  t.is(checked, 10_000, "every response's bytes were checked");

  // Client side: every response announced the reference's length (and autocannon got that many bytes).
  const expectedLength = new Map<Case, number>();
  for (const c of mix) {
    expectedLength.set(c, c.kind === "refused" ? Buffer.byteLength(c.refusal!.body) : (await s3Bytes(c.key!)).length);
  }
  const badLengths = received.filter(([c, n]) => n !== expectedLength.get(c)).map(([c, n]) => `${c.url}: ${n}`);
  t.deepEqual(badLengths.slice(0, 5), []);
  t.is(received.length, 10_000);

  const after = edge.stats;
  t.is(after.renders - before.renders, distinctKeys.size, "one resize per distinct variant key");
  t.is(after.s3Puts - before.s3Puts, distinctKeys.size, "one PUT per distinct variant key");
  t.is(after.lambdaErrors - before.lambdaErrors, 0);
  // Generous: the edge cache is capped at 64 MB; the rest is sharp, the SDK and s3rver.
  t.true(rssAfter - rssBefore < 768 * 1024 * 1024, `RSS grew by ${mb(rssAfter - rssBefore)}`);
});

test.serial("200 concurrent requests for one new variant: one resize, one PUT, 200 identical answers", async (t) => {
  const url = "/unsafe/257x173/smart/samples/rain-drops.jpg";
  const accept = ACCEPTS[0];
  const before = edge.stats;
  const recorder = recordBodies();
  let statuses: number[] = [];
  let result: autocannon.Result;
  try {
    result = await autocannon({
      url: edge.url + url,
      connections: 200,
      amount: 200,
      timeout: 30,
      headers: { accept },
      requests: [{ method: "GET", onResponse: (status) => void statuses.push(status) }],
    });
  } finally {
    recorder.stop();
  }
  t.log(`200 requests, latency p50 ${result.latency.p50} ms max ${result.latency.max} ms`);
  t.is(result.errors, 0);
  t.is(statuses.length, 200);
  t.true(
    statuses.every((s) => s === 200),
    JSON.stringify([...new Set(statuses)]),
  );
  const after = edge.stats;
  t.is(after.renders - before.renders, 1, "one resize");
  t.is(after.s3Puts - before.s3Puts, 1, "one PUT");
  t.is(after.originFetches - before.originFetches, 1, "one origin trip; the other 199 waited for it");
  const key = createRequestPlanner(settings).plan("/unsafe/257x173/smart/samples/rain-drops.jpg", "", accept);
  if (key.kind !== "variant") return t.fail();
  const seen = recorder.bodies.get(`${url} ${accept}`)!;
  t.deepEqual([...seen], [[`200 ${sha(await s3Bytes(key.key))}`, 200]], "all 200 bodies are the stored variant");
});
