/**
 * Originals change, variants follow, against the embedded S3 (s3rver) and the real handlers:
 * replace an original → the very next request renders the new one; delete it → its variants are
 * gone and the request answers 404; a variant's metadata names its source; and a render that
 * read the old original but stored its result after the purge is removed by the second pass.
 */
import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeleteObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import sharp from "sharp";
import { createOriginResponseHandler } from "../../handlers/origin-response.js";
import { DEFAULT_SETTINGS } from "../../handlers/core/settings.js";
import { variantKeyToUri } from "../../handlers/core/variant-key.js";
import { SOURCE_ETAG_METADATA, normalizeEtag } from "../../handlers/core/variant-source.js";
import { EdgeCache } from "../../local/cloudfront-cache.js";
import { newRequestId, originResponseEvent, type Distribution } from "../../local/events.js";
import { LocalPurger } from "../../local/purge.js";
import {
  LOCAL_REGION,
  S3RVER_CREDENTIALS,
  createHandlerS3Client,
  createS3Client,
  embeddedEndpointFile,
  ensureBucket,
  runningEmbeddedS3,
  startEmbeddedS3,
  type EmbeddedS3,
  type S3Target,
} from "../../local/s3.js";
import { existsSync } from "node:fs";
import { startLocalEdge, type LocalEdgeServer } from "../../local/server.js";

const settings = DEFAULT_SETTINGS;
const ACCEPT = "image/webp,*/*";
const RED = { r: 255, g: 0, b: 0 };
const BLUE = { r: 0, g: 0, b: 255 };
const dirs: string[] = [];
const quiet = () => {};

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "freshness-"));
  dirs.push(dir);
  return dir;
}

test.after.always(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function png(colour: { r: number; g: number; b: number }): Promise<Buffer> {
  return sharp({ create: { width: 64, height: 48, channels: 3, background: colour } })
    .png()
    .toBuffer();
}

async function centreColour(image: Buffer): Promise<{ r: number; g: number; b: number }> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (Math.floor(info.height / 2) * info.width + Math.floor(info.width / 2)) * 3;
  return { r: data[at]!, g: data[at + 1]!, b: data[at + 2]! };
}

function isClose(got: { r: number; g: number; b: number }, want: { r: number; g: number; b: number }): boolean {
  return Math.abs(got.r - want.r) < 16 && Math.abs(got.g - want.g) < 16 && Math.abs(got.b - want.b) < 16;
}

async function putOriginal(client: S3Client, bucket: string, key: string, body: Buffer): Promise<string> {
  const out = await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: "image/png" }));
  return normalizeEtag(out.ETag)!;
}

async function listKeys(s3: S3Target, prefix: string): Promise<string[]> {
  const out = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

async function get(edge: LocalEdgeServer, path: string): Promise<{ status: number; xCache: string | null; body: Buffer }> {
  const res = await fetch(edge.url + path, { headers: { accept: ACCEPT } });
  return { status: res.status, xCache: res.headers.get("x-cache"), body: Buffer.from(await res.arrayBuffer()) };
}

test.serial("local edge: replace → the next request renders the new original; delete → variants gone and 404", async (t) => {
  const edge = await startLocalEdge({ port: 0, dataDir: tempDir(), uploadSamples: false, log: quiet, recheck: () => {} });
  t.teardown(() => edge.close());
  const { client, bucket } = edge.s3;
  const firstEtag = await putOriginal(client, bucket, "shots/my pic.png", await png(RED));

  const first = await get(edge, "/shots/my%20pic.png?d=32x24");
  t.is(first.status, 200);
  t.true(isClose(await centreColour(first.body), RED));
  t.is((await get(edge, "/shots/my%20pic.png?d=32x24")).xCache, "Hit from cloudfront");
  const [variant] = await listKeys(edge.s3, "variants/shots/my pic.png/");
  t.truthy(variant);
  const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: variant }));
  t.is(head.Metadata?.[SOURCE_ETAG_METADATA], firstEtag, "the variant names the original it was made from");

  await putOriginal(client, bucket, "shots/my pic.png", await png(BLUE));
  const afterReplace = await get(edge, "/shots/my%20pic.png?d=32x24");
  t.is(afterReplace.status, 200);
  t.is(afterReplace.xCache, "Miss from cloudfront");
  t.true(isClose(await centreColour(afterReplace.body), BLUE), "the very next request shows the new picture");

  await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: "shots/my pic.png" }));
  t.is((await get(edge, "/shots/my%20pic.png?d=32x24")).status, 404);
  t.deepEqual(await listKeys(edge.s3, "variants/shots/"), []);
});

test.serial("local edge: POST /_edge/purge purges by hand (dry run first), storing a variant purges nothing", async (t) => {
  const edge = await startLocalEdge({ port: 0, dataDir: tempDir(), uploadSamples: false, log: quiet, recheck: () => {} });
  t.teardown(() => edge.close());
  await putOriginal(edge.s3.client, edge.s3.bucket, "a/b.png", await png(RED));
  t.is((await get(edge, "/a/b.png?d=16x12")).status, 200);
  t.is((await get(edge, "/a/b.png?d=20x15")).status, 200);
  const variants = await listKeys(edge.s3, "variants/a/b.png/");
  t.is(variants.length, 2, "storing the second variant did not purge the first");

  const purge = (body: unknown) => fetch(`${edge.url}/_edge/purge`, { method: "POST", body: JSON.stringify(body) });
  const dry = await purge({ targets: ["a/"], dryRun: true });
  t.is(dry.status, 200);
  t.deepEqual(await dry.json(), { deleted: variants, invalidated: ["/variants/a/*"] });
  t.is((await get(edge, "/a/b.png?d=16x12")).xCache, "Hit from cloudfront");

  const real = await purge({ targets: ["a/"] });
  t.deepEqual(((await real.json()) as { deleted: string[] }).deleted, variants);
  t.deepEqual(await listKeys(edge.s3, "variants/a/"), []);
  t.is((await get(edge, "/a/b.png?d=16x12")).xCache, "Miss from cloudfront");
  t.is((await purge({ targets: "a/" })).status, 400);
});

/** A handlers' client whose variant PUTs wait until the test opens the gate (a slow render). */
function gatedClient(endpoint: string) {
  const client = createHandlerS3Client(endpoint);
  let reached!: () => void;
  let open!: () => void;
  const putReached = new Promise<void>((resolve) => {
    reached = resolve;
  });
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const put = client.put.bind(client);
  client.put = async (...args) => {
    reached();
    await gate;
    return put(...args);
  };
  return { client, putReached, open };
}

test.serial("race: a render that read the old original and stored after the purge is removed by the second pass", async (t) => {
  const dir = tempDir();
  const embedded: EmbeddedS3 = await startEmbeddedS3(dir, "race");
  t.teardown(() => embedded.close());
  const s3: S3Target = {
    client: createS3Client({ endpoint: embedded.endpoint, region: LOCAL_REGION, credentials: S3RVER_CREDENTIALS }),
    bucket: "race",
    region: LOCAL_REGION,
    endpoint: embedded.endpoint,
  };
  await ensureBucket(s3);
  const cache = new EdgeCache(1024 * 1024);
  const rechecks: (() => void)[] = [];
  const purger = new LocalPurger(s3, cache, settings, quiet, (run) => rechecks.push(run));
  embedded.onObjectEvent((event) => purger.onS3Event(event));

  const oldEtag = await putOriginal(s3.client, "race", "p.png", await png(RED));
  await purger.idle();
  rechecks.length = 0;
  const key = "variants/p.png/32x24,q80.png";
  const distribution: Distribution = { domainName: "localhost", distributionId: "RACE", bucket: "race", region: LOCAL_REGION };
  const event = () =>
    originResponseEvent(
      { clientIp: "127.0.0.1", method: "GET", uri: variantKeyToUri(key), querystring: "", headers: {} },
      { status: 404, statusDescription: "Not Found", headers: {} },
      distribution,
      newRequestId(),
    );

  // 1. A slow render reads the red original and stalls before storing its variant.
  const slow = gatedClient(embedded.endpoint);
  const render = createOriginResponseHandler(settings, { s3Client: () => slow.client })(event());
  await slow.putReached;
  // 2. The original is replaced; the first pass runs and finds nothing to delete yet.
  const newEtag = await putOriginal(s3.client, "race", "p.png", await png(BLUE));
  await purger.idle();
  t.is(rechecks.length, 1, "the change scheduled a second pass");
  // 3. The slow render stores its now stale variant.
  slow.open();
  t.is((await render).status, "200");
  const stale = await s3.client.send(new HeadObjectCommand({ Bucket: "race", Key: key }));
  t.is(stale.Metadata?.[SOURCE_ETAG_METADATA], oldEtag, "the stale variant was stored after the purge");
  t.not(oldEtag, newEtag);
  // 4. The second pass removes it.
  rechecks[0]!();
  await purger.idle();
  t.deepEqual(await listKeys(s3, "variants/"), []);

  // A variant rendered from the current original survives the second pass.
  const freshClient = createHandlerS3Client(embedded.endpoint);
  const fresh = createOriginResponseHandler(settings, { s3Client: () => freshClient });
  t.is((await fresh(event())).status, "200");
  await purger.purge([{ kind: "original", key: "p.png" }], "stale");
  t.deepEqual(await listKeys(s3, "variants/"), [key]);
  const kept = await s3.client.send(new HeadObjectCommand({ Bucket: "race", Key: key }));
  t.is(kept.Metadata?.[SOURCE_ETAG_METADATA], newEtag);
  slow.client.destroy();
  freshClient.destroy();
  s3.client.destroy();
});

test.serial("a running local edge announces its embedded S3, so npm run upload writes through it (and its events purge)", async (t) => {
  const dataDir = tempDir();
  const edge = await startLocalEdge({ port: 0, dataDir, uploadSamples: false, log: quiet, recheck: () => {} });
  t.is(await runningEmbeddedS3(dataDir, edge.s3.bucket), edge.s3.endpoint);
  await edge.close();
  t.false(existsSync(embeddedEndpointFile(dataDir)));
  t.is(await runningEmbeddedS3(dataDir, edge.s3.bucket), undefined);
});
