import test from "ava";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { CloudFrontRequest, CloudFrontResultResponse } from "aws-lambda";
import { createOriginResponseHandler } from "../../handlers/origin-response.js";
import { createViewerRequestHandler } from "../../handlers/viewer-request.js";
import { DEFAULT_SETTINGS, validateSettings, type Settings } from "../../handlers/core/settings.js";
import { INTERMEDIATE_LONG_SIDE, intermediateKey } from "../../handlers/core/intermediate.js";
import { planPurge } from "../../handlers/purge/plan.js";
import { runPurge } from "../../handlers/purge/purger.js";
import { s3VariantBucket } from "../../handlers/purge/s3-variant-bucket.js";
import { newRequestId, originResponseEvent, s3ErrorAnswer, viewerRequestEvent, type Distribution } from "../../local/events.js";
import { checked } from "../helpers/edge-contract.js";
import type { GetOptions, S3Answer, S3HttpClient } from "../../handlers/s3/client.js";
import {
  LOCAL_REGION,
  S3RVER_CREDENTIALS,
  createHandlerS3Client,
  createS3Client,
  startEmbeddedS3,
  type EmbeddedS3,
} from "../../local/s3.js";

const BUCKET = "originals";
const distribution: Distribution = { domainName: "d1.cloudfront.net", distributionId: "E1", bucket: BUCKET, region: LOCAL_REGION };

let s3: EmbeddedS3;
let client: S3Client;
let handlerClient: S3HttpClient;

/** Every GET the handler's client sends, in the order they start: its key, and what it read (filled in when it answers). */
let gets: { key: string; bytes?: number; partial?: boolean }[] = [];
/** The keys of every PUT it sends. */
let puts: string[] = [];
/** The most GETs in flight at once. */
let maxInFlight = 0;
/** Runs before a GET is sent (a latch, a delay), and may answer it instead of S3. */
let beforeGet: (key: string) => Promise<S3Answer | undefined> = async () => undefined;
/** Told the key of each GET that answered. */
let onAnswer: (key: string) => void = () => {};

function resetHooks(): void {
  beforeGet = async () => undefined;
  onAnswer = () => {};
}

/** The handler's S3 client, recording its GETs. */
function countingClient(): S3HttpClient {
  let inFlight = 0;
  return new Proxy(handlerClient, {
    get(target, prop) {
      if (prop === "put")
        return (bucket: string, key: string, ...rest: [Buffer, Record<string, string>]) => {
          puts.push(key);
          return target.put(bucket, key, ...rest);
        };
      if (prop === "get")
        return async (bucket: string, key: string, options?: GetOptions) => {
          const record: (typeof gets)[number] = { key };
          gets.push(record);
          maxInFlight = Math.max(maxInFlight, ++inFlight);
          try {
            const answer = (await beforeGet(key)) ?? (await target.get(bucket, key, options));
            Object.assign(record, { bytes: answer.body.byteLength, partial: answer.partial === true });
            onAnswer(key);
            return answer;
          } finally {
            inFlight--;
          }
        };
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const made = new Map<string, Promise<Buffer>>();

/** A progressive 3000x2000 photo-like JPEG: left half `left`, right half blue, noise over it (made once per colour). */
function bigOriginal(left: string): Promise<Buffer> {
  if (!made.has(left)) made.set(left, makeBigOriginal(left));
  return made.get(left)!;
}

async function makeBigOriginal(left: string): Promise<Buffer> {
  const noise = await sharp({
    create: { width: 3000, height: 2000, channels: 3, background: "#000000", noise: { type: "gaussian", mean: 128, sigma: 20 } },
  })
    .png()
    .toBuffer();
  return sharp({ create: { width: 3000, height: 2000, channels: 3, background: "#2040c0" } })
    .composite([
      { input: { create: { width: 1500, height: 2000, channels: 3, background: left } }, left: 0, top: 0 },
      { input: noise, blend: "overlay" },
    ])
    .jpeg({ quality: 85, progressive: true })
    .toBuffer();
}

test.before(async () => {
  s3 = await startEmbeddedS3(mkdtempSync(join(tmpdir(), "origin-response-intermediate-")), BUCKET);
  client = createS3Client({ endpoint: s3.endpoint, region: LOCAL_REGION, credentials: S3RVER_CREDENTIALS });
  handlerClient = createHandlerS3Client(s3.endpoint);
  await put("images/big.jpg", await bigOriginal("#e02020"));
  await put("images/skip.jpg", await bigOriginal("#e02020"));
  await put(
    "images/small.jpg",
    await sharp({ create: { width: 800, height: 600, channels: 3, background: "#808080" } })
      .jpeg()
      .toBuffer(),
  );
});

test.after.always(async () => {
  client?.destroy();
  handlerClient?.destroy();
  await s3?.close();
});

async function put(key: string, body: Buffer) {
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ContentType: "image/jpeg" }));
}

async function head(key: string) {
  try {
    return await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
  } catch {
    return undefined;
  }
}

/** A viewer URL through viewer-request, then origin-response after S3 answered 404; the GETs it sent. */
async function miss(url: string, settings: Settings = DEFAULT_SETTINGS) {
  const { out, ...sent } = await answer(url, settings);
  if (out.status !== "200") throw new Error(`origin-response answered ${out.status}: ${out.body}`);
  return { body: Buffer.from(out.body ?? "", "base64"), ...sent };
}

/** The same miss, whatever origin-response answers. */
async function answer(url: string, settings: Settings = DEFAULT_SETTINGS) {
  const viewer = await checked(createViewerRequestHandler(settings))(
    viewerRequestEvent(
      { method: "GET", url, rawHeaders: ["Accept", "image/webp,*/*"], clientIp: "127.0.0.1" },
      distribution,
      newRequestId(),
    ),
  );
  if ("status" in viewer) throw new Error(`viewer-request answered ${viewer.status}`);
  gets = [];
  puts = [];
  maxInFlight = 0;
  const handler = checked(createOriginResponseHandler(settings, { s3Client: () => countingClient() }));
  const out = (await handler(
    originResponseEvent(viewer as CloudFrontRequest, s3ErrorAnswer(404), distribution, newRequestId()),
  )) as CloudFrontResultResponse;
  return { out, gets, puts, maxInFlight };
}

const keysOf = (list: typeof gets) => list.map((g) => g.key);

/** A beforeGet that sends the GETs of `held` only once a GET of `first` has answered. */
function holdUntilAnswered(first: string, held: string): typeof beforeGet {
  const done = new Promise<void>((resolve) => (onAnswer = (key) => key === first && resolve()));
  return async (key) => {
    if (key === held) await done;
    return undefined;
  };
}

/** The intermediate's key and its original's, in the order a miss that may use it sends their GETs. */
const both = (original: string) => [intermediateKey(original, DEFAULT_SETTINGS), original];

test.serial("the first miss stores the intermediate; later misses render from it and make the same variant", async (t) => {
  const key = intermediateKey("images/big.jpg", DEFAULT_SETTINGS);
  const first = await miss("/images/big.jpg?d=800x0");
  t.deepEqual(keysOf(first.gets), both("images/big.jpg"));
  t.false(first.gets[1]!.partial, "no intermediate yet: the original is read whole");
  t.true(first.puts.includes(key), "the intermediate is written");
  const stored = await head(key);
  const original = await head("images/big.jpg");
  t.truthy(stored, "the intermediate is stored");
  t.is(stored!.Metadata?.["source-etag"], original!.ETag!.replace(/"/g, ""));
  t.is(stored!.Metadata?.["source-size"], "3000x2000");
  const pixels = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const m = await sharp(Buffer.from(await pixels.Body!.transformToByteArray())).metadata();
  t.deepEqual([m.format, m.width, m.height, m.chromaSubsampling], ["jpeg", INTERMEDIATE_LONG_SIDE, 1365, "4:4:4"]);

  const again = await miss("/images/big.jpg?d=800x0");
  t.deepEqual(keysOf(again.gets), both("images/big.jpg"));
  t.deepEqual(again.puts, ["variants/images/big.jpg/800x0,q80.webp"], "the original is unchanged: the intermediate is not made again");
  t.true(again.body.equals(first.body), "the variant made while storing the intermediate is the one made from it later");
  const other = await miss("/images/big.jpg?d=300x200");
  t.deepEqual(keysOf(other.gets), both("images/big.jpg"));
  t.deepEqual(other.puts, ["variants/images/big.jpg/300x200,q80.webp"]);
  const om = await sharp(other.body).metadata();
  t.deepEqual([om.width, om.height], [300, 200]);
});

test.serial("the intermediate's GET and the original's are both in flight before either answers", async (t) => {
  // Each GET waits until the other one is sent (or 2 s, for a handler that sends them one after the other).
  let release!: () => void;
  const latch = new Promise<void>((resolve) => (release = resolve));
  beforeGet = async () => {
    if (gets.length >= 2) release();
    await Promise.race([latch, new Promise((resolve) => setTimeout(resolve, 2000))]);
    return undefined;
  };
  try {
    const out = await miss("/images/small.jpg?d=400x0");
    t.deepEqual(keysOf(out.gets), both("images/small.jpg"), "no intermediate (a small original): the original is rendered");
    t.is(out.maxInFlight, 2);
    t.false(out.gets[1]!.partial);
    t.is((await sharp(out.body).metadata()).width, 400);
  } finally {
    resetHooks();
  }
});

test.serial("with an intermediate of the original S3 answers, the original's body is not read to its end", async (t) => {
  await put("images/stopped.jpg", await bigOriginal("#e02020"));
  const size = (await bigOriginal("#e02020")).byteLength;
  const first = await miss("/images/stopped.jpg?d=600x0");
  t.true(first.puts.includes(intermediateKey("images/stopped.jpg", DEFAULT_SETTINGS)));
  // The original's answer is held until the intermediate's has arrived, as when S3 is slower for the large object.
  beforeGet = holdUntilAnswered(intermediateKey("images/stopped.jpg", DEFAULT_SETTINGS), "images/stopped.jpg");
  try {
    const again = await miss("/images/stopped.jpg?d=600x0");
    t.deepEqual(keysOf(again.gets), both("images/stopped.jpg"));
    const original = again.gets[1]!;
    t.true(original.partial, "the read was stopped");
    t.is(original.bytes, 0, `${original.bytes} of ${size} bytes read: the intermediate's record was in before the original's answer`);
    t.deepEqual(again.puts, ["variants/images/stopped.jpg/600x0,q80.webp"]);
    t.true(again.body.equals(first.body), "made from the intermediate, as the first miss's variant was");
  } finally {
    resetHooks();
  }
});

test.serial("an intermediate that does not serve the plan is not read past its headers, and is kept", async (t) => {
  await put("images/tall.jpg", await bigOriginal("#e02020"));
  await miss("/images/tall.jpg?d=600x0");
  const key = intermediateKey("images/tall.jpg", DEFAULT_SETTINGS);
  const stored = await head(key);
  t.truthy(stored);
  // 1800 px high: more than the 2048x1365 intermediate holds.
  const tall = await miss("/images/tall.jpg?d=0x1800");
  t.deepEqual(keysOf(tall.gets), both("images/tall.jpg"));
  t.deepEqual(tall.gets[0], { key, bytes: 0, partial: true }, "its record, in its headers, was enough");
  t.false(tall.gets[1]!.partial, "the original is read whole");
  t.deepEqual(tall.puts, ["variants/images/tall.jpg/0x1800,q80.webp"], "the intermediate is not made again");
  t.is((await head(key))!.ETag, stored!.ETag);
  const m = await sharp(tall.body).metadata();
  t.deepEqual([m.width, m.height], [2700, 1800]);
});

test.serial("a replaced original (new ETag) is never rendered from the old intermediate, which is made again", async (t) => {
  await miss("/images/big.jpg?d=400x0");
  const before = (await head(intermediateKey("images/big.jpg", DEFAULT_SETTINGS)))!.Metadata?.["source-etag"];
  await put("images/big.jpg", await bigOriginal("#20e020"));
  const after = await miss("/images/big.jpg?d=400x0");
  t.deepEqual(keysOf(after.gets), both("images/big.jpg"));
  t.false(after.gets[1]!.partial, "the new original is read whole");
  t.true(after.puts.includes(intermediateKey("images/big.jpg", DEFAULT_SETTINGS)), "made again");
  const { data, info } = await sharp(after.body).resize(2, 1, { fit: "fill" }).raw().toBuffer({ resolveWithObject: true });
  t.is(info.channels, 3);
  t.true(data[1]! > 150 && data[0]! < 100, `the left half is the new original's green (${[...data.subarray(0, 3)]})`);
  const current = (await head("images/big.jpg"))!.ETag!.replace(/"/g, "");
  const now = (await head(intermediateKey("images/big.jpg", DEFAULT_SETTINGS)))!.Metadata?.["source-etag"];
  t.not(now, before);
  t.is(now, current, "the intermediate was made again from the new original");
});

test.serial("a deleted original answers 404 though its intermediate is still stored", async (t) => {
  await put("images/deleted.jpg", await bigOriginal("#e02020"));
  await miss("/images/deleted.jpg?d=400x0");
  const key = intermediateKey("images/deleted.jpg", DEFAULT_SETTINGS);
  t.truthy(await head(key));
  await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "images/deleted.jpg" }));
  const { out, gets: sent, puts: stored } = await answer("/images/deleted.jpg?d=300x0");
  t.is(out.status, "404");
  t.deepEqual(keysOf(sent), both("images/deleted.jpg"));
  t.deepEqual(stored, [], "nothing stored");
});

test.serial("bytes that are not the intermediate their metadata describes are not decoded, and are made again", async (t) => {
  await put("images/broken.jpg", await bigOriginal("#e02020"));
  const key = intermediateKey("images/broken.jpg", DEFAULT_SETTINGS);
  const etag = (await head("images/broken.jpg"))!.ETag!.replace(/"/g, "");
  const metadata = { "source-etag": etag, "source-size": "3000x2000", "source-profile": "0" };
  const wrongSize = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#00ff00" } })
    .jpeg()
    .toBuffer();
  const size = (await bigOriginal("#e02020")).byteLength;
  for (const body of [Buffer.from("<svg xmlns='http://www.w3.org/2000/svg'/>"), wrongSize]) {
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ContentType: "image/jpeg", Metadata: metadata }));
    // The original's answer waits for the intermediate's: its record (right ETag) stops the
    // original's read, then its bytes fail their check and the rest of the original is read.
    beforeGet = holdUntilAnswered(key, "images/broken.jpg");
    const out = await miss("/images/broken.jpg?d=400x0").finally(resetHooks);
    t.deepEqual(keysOf(out.gets), [...both("images/broken.jpg"), "images/broken.jpg"]);
    t.true(out.gets[1]!.partial, "stopped by the intermediate's record");
    t.is(out.gets[1]!.bytes! + out.gets[2]!.bytes!, size, "then read to its end");
    t.true(out.puts.includes(key), "the intermediate is made again");
    const { data } = await sharp(out.body).resize(2, 1, { fit: "fill" }).raw().toBuffer({ resolveWithObject: true });
    t.true(data[0]! > 150 && data[1]! < 100, "the original's red, not the stored bytes' picture");
  }
});

test.serial("an intermediate S3 fails to give is a miss without one: the variant is made from the original, not a 5xx", async (t) => {
  await put("images/unreadable.jpg", await bigOriginal("#e02020"));
  await miss("/images/unreadable.jpg?d=800x0");
  const key = intermediateKey("images/unreadable.jpg", DEFAULT_SETTINGS);
  t.truthy(await head(key));
  const error = Buffer.from("<Error><Code>InternalError</Code></Error>");
  beforeGet = async (k) => (k === key ? { status: 500, headers: {}, body: error } : undefined);
  try {
    const out = await miss("/images/unreadable.jpg?d=400x0");
    t.deepEqual(keysOf(out.gets), both("images/unreadable.jpg"));
    t.false(out.gets[1]!.partial, "the original is read whole");
    const { data } = await sharp(out.body).resize(2, 1, { fit: "fill" }).raw().toBuffer({ resolveWithObject: true });
    t.true(data[0]! > 150 && data[1]! < 100, "the original's red");
    t.is((await sharp(out.body).metadata()).width, 400);
  } finally {
    resetHooks();
  }
});

test.serial("trim, meta and manual crops read the original, not the intermediate", async (t) => {
  await miss("/images/skip.jpg?d=800x0");
  t.truthy(await head(intermediateKey("images/skip.jpg", DEFAULT_SETTINGS)));
  for (const url of [
    "/unsafe/trim/400x0/images/skip.jpg",
    "/unsafe/meta/400x0/images/skip.jpg",
    "/unsafe/10x10:1010x1010/400x0/images/skip.jpg",
  ]) {
    const { gets: sent } = await miss(url);
    t.deepEqual(keysOf(sent), ["images/skip.jpg"], `${url}: one GET, of the original`);
    t.false(sent[0]!.partial, url);
  }
});

test.serial("no intermediate for a small original, for a variant larger than it, or with intermediate off", async (t) => {
  await miss("/images/small.jpg?d=400x0");
  t.is(await head(intermediateKey("images/small.jpg", DEFAULT_SETTINGS)), undefined, "800x600 is smaller than the intermediate");
  await put("images/large-variant.jpg", await bigOriginal("#e02020"));
  await miss("/images/large-variant.jpg?d=2500x0");
  t.is(await head(intermediateKey("images/large-variant.jpg", DEFAULT_SETTINGS)), undefined, "2500 px: not made from a 2048 px copy");
  const off = validateSettings({ intermediate: "off" });
  const { gets: sent } = await miss("/images/large-variant.jpg?d=400x0", off);
  t.deepEqual(keysOf(sent), ["images/large-variant.jpg"]);
  t.is(await head(intermediateKey("images/large-variant.jpg", DEFAULT_SETTINGS)), undefined);
});

test.serial("purging an original deletes its intermediate with its variants; the stale pass finds a stale one", async (t) => {
  await put("images/purged.jpg", await bigOriginal("#e02020"));
  await miss("/images/purged.jpg?d=600x0");
  const key = intermediateKey("images/purged.jpg", DEFAULT_SETTINGS);
  t.truthy(await head(key));
  const ports = { bucket: s3VariantBucket(client, BUCKET), invalidator: { invalidate: async () => {} } };
  const plan = planPurge([{ kind: "original", key: "images/purged.jpg" }], DEFAULT_SETTINGS);
  t.deepEqual((await runPurge(plan, ports, DEFAULT_SETTINGS, { mode: "stale" })).deleted, [], "fresh: the stale pass keeps it");
  await put("images/purged.jpg", await bigOriginal("#20e020"));
  t.true((await runPurge(plan, ports, DEFAULT_SETTINGS, { mode: "stale" })).deleted.includes(key), "stale after the replacement");
  await miss("/images/purged.jpg?d=600x0");
  const report = await runPurge(plan, ports, DEFAULT_SETTINGS, { mode: "all" });
  t.true(report.deleted.includes(key));
  t.is(await head(key), undefined);
});

test("no viewer URL reaches the intermediate: its key asked for directly is refused by viewer-request", async (t) => {
  const url = `/${intermediateKey("images/big.jpg", DEFAULT_SETTINGS)}`;
  const viewer = await checked(createViewerRequestHandler(DEFAULT_SETTINGS))(
    viewerRequestEvent({ method: "GET", url, rawHeaders: [], clientIp: "127.0.0.1" }, distribution, newRequestId()),
  );
  t.true("status" in viewer && viewer.status === "400", `answered ${"status" in viewer ? viewer.status : "a request to S3"}`);
});

/** A baseline JPEG of 12.9 MP, over INTERMEDIATE_MIN_BASELINE_PIXELS: an intermediate pays for it. */
function bigBaseline(): Promise<Buffer> {
  return sharp({ create: { width: 4300, height: 3000, channels: 3, background: "#c08040" } })
    .jpeg({ quality: 85, progressive: false })
    .toBuffer();
}

test.serial(
  "a large baseline original's thumbnail makes no intermediate; its first variant decoded as finely as the intermediate does",
  async (t) => {
    await put("images/baseline.jpg", await bigBaseline());
    const key = intermediateKey("images/baseline.jpg", DEFAULT_SETTINGS);
    const original = await bigBaseline();
    await miss("/images/baseline.jpg?d=300x200");
    t.is(
      await head(key),
      undefined,
      "300x200 decodes at 1/8: the intermediate's 1/2 decode and encode would cost it several times its own work",
    );
    await miss("/images/baseline.jpg?d=1600x0");
    t.truthy(await head(key), "1600 px decodes at 1/2, as the intermediate does: this miss makes it");
    // The original's answer is held until the intermediate's has arrived: this flat original is small enough to arrive whole first.
    beforeGet = holdUntilAnswered(key, "images/baseline.jpg");
    try {
      const next = await miss("/images/baseline.jpg?d=400x0");
      const read = next.gets.find((g) => g.key === "images/baseline.jpg");
      t.true((read?.bytes ?? Infinity) < original.length, "a later miss renders from it: the original's read stops at its headers");
    } finally {
      resetHooks();
    }
  },
);
