/**
 * origin-response reads a progressive JPEG only as far as its decode at 1/8 needs (renderOriginal,
 * render/jpeg/prefix.ts), against the embedded S3 behind its signature check: every variant is
 * byte-identical to the render of the whole file, and the requests and bytes read are counted.
 */
import test from "ava";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { renderOriginal } from "../../handlers/origin-response.js";
import { basePlan, type TransformPlan } from "../../handlers/core/plan.js";
import { DEFAULT_SETTINGS as settings } from "../../handlers/core/settings.js";
import { renderVariant } from "../../handlers/render/pipeline.js";
import { S3HttpClient, type GetOptions, type S3Answer } from "../../handlers/s3/client.js";
import { s3ObjectStore } from "../../handlers/s3/store.js";
import { LOCAL_REGION, S3RVER_CREDENTIALS, createS3Client, startEmbeddedS3, type EmbeddedS3 } from "../../local/s3.js";
import { progressiveJpeg, withRestartInterval } from "../helpers/jpeg.js";

const BUCKET = "originals";
const photo = (name: string) => readFileSync(join(__dirname, "..", "..", "bench", "photos", name));
const fixture = (name: string) => readFileSync(join(__dirname, "..", "fixtures", "images", name));

/** Every GET the handler's client sent: its range, status and the bytes it read. */
class CountingClient extends S3HttpClient {
  gets: { range?: string; status: number; bytes: number; partial: boolean }[] = [];
  override async get(bucket: string, key: string, options: GetOptions = {}): Promise<S3Answer> {
    const answer = await super.get(bucket, key, options);
    this.gets.push({ range: options.range, status: answer.status, bytes: answer.body.byteLength, partial: answer.partial === true });
    return answer;
  }
}

let s3: EmbeddedS3;
let sdk: S3Client;

test.before(async () => {
  s3 = await startEmbeddedS3(mkdtempSync(join(tmpdir(), "origin-prefix-")), BUCKET);
  sdk = createS3Client({ endpoint: s3.endpoint, region: LOCAL_REGION, credentials: S3RVER_CREDENTIALS });
});

test.after.always(async () => {
  sdk?.destroy();
  await s3?.close();
});

async function put(key: string, body: Buffer): Promise<string> {
  const out = await sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ContentType: "image/jpeg" }));
  return out.ETag!;
}

function plan(key: string, width: number, height: number, changes: Partial<TransformPlan> = {}): TransformPlan {
  return { ...basePlan(key, 80), width, height, format: "jpeg", ...changes };
}

/** The variant through renderOriginal (counting its GETs) and the variant rendered from the whole file, as before. */
async function both(key: string, body: Buffer, p: TransformPlan) {
  const etag = await put(key, body);
  const client = new CountingClient({ region: LOCAL_REGION, endpoint: s3.endpoint, credentials: S3RVER_CREDENTIALS });
  try {
    const prefixes: number[] = [];
    const got = await renderOriginal(s3ObjectStore(client), BUCKET, p, (original, dcPrefix) => {
      if (dcPrefix) prefixes.push(original.byteLength);
      return renderVariant({ plan: p, original, settings, dcPrefix });
    });
    const whole = await renderVariant({ plan: p, original: body, settings });
    return { got, whole, etag, gets: client.gets, prefixes };
  } finally {
    client.destroy();
  }
}

const read = (gets: { bytes: number }[]) => gets.reduce((sum, g) => sum + g.bytes, 0);

test("Elephants → 300x200: one GET stopped where the DC scans end, the variant byte-identical to the whole file's", async (t) => {
  const body = photo("Elephants_5640x3172.jpg");
  const { got, whole, etag, gets, prefixes } = await both("images/elephants.jpg", body, plan("images/elephants.jpg", 300, 200));
  t.true(got.rendered.body.equals(whole.body));
  t.is(got.etag, etag);
  t.is(gets.length, 1);
  t.true(gets[0]!.partial);
  // The DC refinement scan ends at 67.7 % of this file (libjpeg's scan script).
  t.true(read(gets) < 0.7 * body.byteLength, `read ${read(gets)} of ${body.byteLength}`);
  t.is(prefixes.length, 1);
});

const generated: [string, () => Promise<Buffer>][] = [
  ["4:2:0", () => progressiveJpeg(1920, 1200)],
  ["4:4:4", () => progressiveJpeg(1920, 1200, { chromaSubsampling: "4:4:4" })],
  ["greyscale", () => progressiveJpeg(1920, 1200, {}, true)],
  ["mozjpeg's scans", () => progressiveJpeg(1920, 1200, { mozjpeg: true })],
  ["optimised scans", () => progressiveJpeg(1920, 1200, { optimiseScans: true })],
];

for (const [name, make] of generated) {
  for (const [width, height, eighth] of [
    [240, 150, true],
    [200, 100, true], // 9.6x: sharp's own 1/8, a crop after
    [226, 141, true], // 8.5x: the draft's file at shrink=8
    [480, 300, false],
    [1000, 600, false],
  ] as const) {
    test(`generated progressive ${name} → ${width}x${height}: the same bytes as the whole file's render${eighth ? "" : ", read whole"}`, async (t) => {
      const body = await make();
      const key = `images/gen-${name}-${width}.jpg`;
      const { got, whole, gets } = await both(key, body, plan(key, width, height));
      t.true(got.rendered.body.equals(whole.body));
      // Whatever was stopped early, nothing was read twice.
      t.true(read(gets) <= body.byteLength);
      if (!eighth) t.deepEqual(gets, [{ range: undefined, status: 200, bytes: body.byteLength, partial: false }]);
    });
  }
}

test("a 4:4:4 progressive at 1/8 is read only up to its last DC scan", async (t) => {
  const body = await progressiveJpeg(1920, 1200, { chromaSubsampling: "4:4:4" });
  const { got, whole, gets } = await both("images/gen-444-short.jpg", body, plan("images/gen-444-short.jpg", 240, 150));
  t.true(got.rendered.body.equals(whole.body));
  t.is(gets.length, 1);
  t.true(gets[0]!.partial && gets[0]!.bytes < body.byteLength);
});

test("the render needs more after all (an EXIF-oriented original cut after the resize): the rest of the same object by range, once", async (t) => {
  const body = await sharp(await progressiveJpeg(1920, 1200, { chromaSubsampling: "4:4:4" }))
    .withMetadata({ orientation: 6 })
    .jpeg({ progressive: true, chromaSubsampling: "4:4:4" })
    .toBuffer();
  const key = "images/oriented.jpg";
  const { got, whole, gets, prefixes } = await both(key, body, plan(key, 120, 120));
  t.true(got.rendered.body.equals(whole.body));
  t.is(prefixes.length, 1);
  t.is(gets.length, 2);
  t.true(gets[0]!.partial);
  t.deepEqual(gets[1], { range: `bytes=${gets[0]!.bytes}-`, status: 206, bytes: body.byteLength - gets[0]!.bytes, partial: false });
  t.is(read(gets), body.byteLength);
  // The range and If-Match are signed as S3 checks them (the signature check in front of s3rver).
  t.deepEqual(s3.signatures.refused, []);
});

/** S3's If-Match, which s3rver ignores: a 412 when the object's ETag is no longer the one asked for. */
class IfMatchClient extends CountingClient {
  currentEtag = "";
  override async get(bucket: string, key: string, options: GetOptions = {}): Promise<S3Answer> {
    if (!options.ifMatch || options.ifMatch === this.currentEtag) return super.get(bucket, key, options);
    this.gets.push({ range: options.range, status: 412, bytes: 0, partial: false });
    return { status: 412, headers: {}, body: Buffer.from("<Error><Code>PreconditionFailed</Code></Error>") };
  }
}

const oriented = async (colour?: number) => {
  const source = colour === undefined ? await progressiveJpeg(1920, 1200) : await flat(colour);
  return sharp(source).withMetadata({ orientation: 6 }).jpeg({ progressive: true, chromaSubsampling: "4:4:4" }).toBuffer();
};
const flat = (colour: number) =>
  sharp(Buffer.alloc(1920 * 1200 * 3, colour), { raw: { width: 1920, height: 1200, channels: 3 } })
    .jpeg()
    .toBuffer();

for (const [name, replacement, expected] of [
  ["S3's 412 (If-Match)", () => oriented(), 412],
  ["s3rver's 206 of the new object (its ETag differs)", async () => Buffer.concat([await oriented(), Buffer.alloc(4096)]), 206],
  ["s3rver's 416 (the new object is shorter)", () => oriented(200), 416],
] as const) {
  test(`the original replaced between the two reads, ${name}: no mixed object, the new one read whole and its ETag recorded`, async (t) => {
    const key = `images/replaced-${expected}.jpg`;
    const second = await replacement();
    const client = new IfMatchClient({ region: LOCAL_REGION, endpoint: s3.endpoint, credentials: S3RVER_CREDENTIALS });
    client.currentEtag = await put(key, await oriented());
    const p = plan(key, 120, 120);
    try {
      const got = await renderOriginal(s3ObjectStore(client), BUCKET, p, async (original, dcPrefix) => {
        if (dcPrefix && expected !== 412) await put(key, second);
        if (dcPrefix && expected === 412) client.currentEtag = "another version";
        return renderVariant({ plan: p, original, settings, dcPrefix });
      });
      const now = expected === 412 ? await oriented() : second;
      t.true(got.rendered.body.equals((await renderVariant({ plan: p, original: now, settings })).body));
      t.is(got.etag, await etagOf(key));
      t.deepEqual(
        client.gets.map((g) => [g.range, g.status]),
        [
          [undefined, 200],
          [`bytes=${client.gets[0]!.bytes}-`, expected],
          [undefined, 200],
        ],
      );
    } finally {
      client.destroy();
    }
  });
}

async function etagOf(key: string): Promise<string> {
  return (await sdk.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).ETag!;
}

const fallbacks: [string, () => Promise<Buffer>][] = [
  ["baseline", async () => photo("RainDrops.jpg")],
  ["restart markers", async () => withRestartInterval(await progressiveJpeg(1920, 1200, { chromaSubsampling: "4:4:4" }))],
  ["arithmetic coding (an SOF10 frame)", async () => sof10(await progressiveJpeg(1920, 1200, { chromaSubsampling: "4:4:4" }))],
  ["a truncated baseline", async () => fixture("BlueSquare_truncated.jpg")],
  ["a progressive cut before its DC refinement", async () => cut(await progressiveJpeg(1920, 1200, { chromaSubsampling: "4:4:4" }), 0.4)],
  [
    "PNG",
    async () =>
      sharp(await progressiveJpeg(640, 400))
        .png()
        .toBuffer(),
  ],
];

for (const [name, make] of fallbacks) {
  test(`${name}: read whole in one GET, the same answer as before`, async (t) => {
    const body = await make();
    const key = `images/fallback-${name.replace(/\W+/g, "-")}.jpg`;
    const p = plan(key, 64, 40);
    await put(key, body);
    const client = new CountingClient({ region: LOCAL_REGION, endpoint: s3.endpoint, credentials: S3RVER_CREDENTIALS });
    try {
      const outcome = (run: () => Promise<{ body: Buffer }>) =>
        run().then(
          (v) => v.body.toString("base64"),
          // The refusal's reason, without libvips' detail: that comes from its process-wide error
          // buffer, which renders running at the same time in this process change.
          (err: Error) => `${err.name}: ${err.message.split(":")[0]}`,
        );
      const got = await outcome(
        async () =>
          (
            await renderOriginal(s3ObjectStore(client), BUCKET, p, (original, dcPrefix) =>
              renderVariant({ plan: p, original, settings, dcPrefix }),
            )
          ).rendered,
      );
      t.is(got, await outcome(() => renderVariant({ plan: p, original: body, settings })));
      t.deepEqual(client.gets, [{ range: undefined, status: 200, bytes: body.byteLength, partial: false }]);
    } finally {
      client.destroy();
    }
  });
}

test("a progressive file cut after its DC scans: the prefix's variant is the truncated file's", async (t) => {
  const body = cut(await progressiveJpeg(1920, 1200, { chromaSubsampling: "4:4:4" }), 0.8);
  const { got, whole, gets } = await both("images/cut-late.jpg", body, plan("images/cut-late.jpg", 240, 150));
  t.true(got.rendered.body.equals(whole.body));
  t.true(gets[0]!.partial);
});

/** The file with its SOF2 frame marker made SOF10 (progressive, arithmetic coding). */
function sof10(jpeg: Buffer): Buffer {
  const copy = Buffer.from(jpeg);
  copy[copy.indexOf(Buffer.from([0xff, 0xc2])) + 1] = 0xca;
  return copy;
}

function cut(jpeg: Buffer, fraction: number): Buffer {
  return jpeg.subarray(0, Math.floor(jpeg.byteLength * fraction));
}
