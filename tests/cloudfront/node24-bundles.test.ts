/**
 * The three built bundles load and answer under Node 24, the runtime they are deployed on
 * (`npx -p node@24` fetches it from npm; this project itself runs on Node 20). One build, one
 * Node 24 process per bundle: viewer-request answers the documented example event,
 * origin-response renders a variant from an embedded S3 (reached through the SDK's standard
 * `AWS_ENDPOINT_URL_S3`), and purge handles a message that needs no network.
 */
import test from "ava";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { BUNDLE_TARGET, LAMBDA_NODE_RUNTIME, buildEdgeBundles, type EdgeBundles } from "../../components/bundle.js";
import { PURGE_ENV } from "../../handlers/purge-handler.js";
import { checkEdgeResult } from "../../handlers/cloudfront/edge-rules.js";
import { S3RVER_CREDENTIALS, createS3Client, startEmbeddedS3, type EmbeddedS3 } from "../../local/s3.js";
import { exampleEvent } from "../helpers/edge-contract.js";

const run = promisify(execFile);
const BUCKET = "awsexamplebucket";
let outDir: string;
let bundles: EdgeBundles;
let s3: EmbeddedS3;

test.before(async () => {
  outDir = mkdtempSync(join(tmpdir(), "node24-bundles-"));
  bundles = await buildEdgeBundles({ outDir });
  s3 = await startEmbeddedS3(join(outDir, "s3"), BUCKET);
  const client = createS3Client({ endpoint: s3.endpoint, region: "eu-west-1", credentials: S3RVER_CREDENTIALS });
  const jpeg = readFileSync(join(__dirname, "..", "fixtures", "images", "raindrops-480.jpg"));
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "images/cat.jpg", Body: jpeg, ContentType: "image/jpeg" }));
  client.destroy();
});

test.after.always(async () => {
  await s3?.close();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

/** Loads `<dir>/index.js` in a Node 24 process, calls its handler with `event`, returns the process version and the result. */
async function underNode24(dir: string, event: unknown, env: Record<string, string> = {}) {
  const script = `
    const { handler } = require(${JSON.stringify(join(dir, "index.js"))});
    handler(JSON.parse(process.env.EVENT)).then(
      (result) => process.stdout.write("\\n" + JSON.stringify({ version: process.version, result: result ?? null })),
      (err) => { console.error(err); process.exit(1); });`;
  const { stdout } = await run("npx", ["-y", "-p", "node@24", "node", "-e", script], {
    env: { ...process.env, ...env, EVENT: JSON.stringify(event) },
    maxBuffer: 16 * 1024 * 1024,
  });
  const last = stdout.trim().split("\n").at(-1)!;
  return { ...(JSON.parse(last) as { version: string; result: any }), stdout };
}

test("the bundles target the deployed runtime", (t) => {
  t.is(LAMBDA_NODE_RUNTIME, "nodejs24.x");
  t.is(BUNDLE_TARGET, "node24");
});

test("viewer-request loads under Node 24 and rewrites the documented event", async (t) => {
  const event = exampleEvent<any>("viewer-request");
  Object.assign(event.Records[0].cf.request, { uri: "/images/cat.jpg", querystring: "d=100x100" });
  const given = structuredClone({ request: event.Records[0].cf.request });
  const { version, result } = await underNode24(bundles.viewerRequest.dir, event);
  t.regex(version, /^v24\./);
  t.regex(result.uri, /^\/variants\/images\/cat\.jpg\/100x100/);
  t.deepEqual(checkEdgeResult("viewer-request", given, result), []);
});

test("origin-response loads sharp under Node 24 and renders a variant from S3", async (t) => {
  // The canonical key of a variant, as viewer-request writes it (in this process: only the rewrite is needed).
  const viewer = exampleEvent<any>("viewer-request");
  Object.assign(viewer.Records[0].cf.request, { uri: "/images/cat.jpg", querystring: "d=100x100" });
  const rewritten = await require(join(bundles.viewerRequest.dir, "index.js")).handler(viewer);
  const event = exampleEvent<any>("origin-response-s3-404");
  event.Records[0].cf.request.uri = rewritten.uri;
  const { version, result } = await underNode24(bundles.originResponse.dir, event, {
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
  });
  t.regex(version, /^v24\./);
  t.is(result.status, "200", JSON.stringify(result).slice(0, 300));
  t.is(result.headers["content-type"][0].value, "image/jpeg");
  t.true(
    Buffer.from(result.body, "base64")
      .subarray(0, 2)
      .equals(Buffer.from([0xff, 0xd8])),
    "a JPEG body",
  );
});

test("purge loads under Node 24 and skips a message that is not an S3 event", async (t) => {
  const queue = "arn:aws:sqs:eu-west-1:123456789012:recheck";
  const event = { Records: [{ messageId: "m-1", body: "not an event", eventSourceARN: "arn:aws:sqs:eu-west-1:123456789012:now" }] };
  const { version, result, stdout } = await underNode24(bundles.purge.dir, event, {
    [PURGE_ENV.bucket]: BUCKET,
    [PURGE_ENV.distributionId]: "E2EXAMPLE",
    [PURGE_ENV.variantPrefix]: "variants",
    [PURGE_ENV.recheckQueueArn]: queue,
  });
  t.regex(version, /^v24\./);
  t.deepEqual(result, { batchItemFailures: [] }, "a skipped message is no failure: nothing is handed back");
  t.regex(stdout, /message m-1 skipped/);
});
