/**
 * The render budget and the render deadline at the handlers: a plan too costly to render is
 * refused with its reason and cached long (budgetErrorCacheControl), by viewer-request from the
 * URL and by origin-response from the key and the original's header, before any decode.
 */
import { intermediateKey } from "../../handlers/core/intermediate.js";
import test from "ava";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import type { CloudFrontRequest, CloudFrontResultResponse } from "aws-lambda";
import { createOriginResponseHandler, renderDeadlineMs, type OriginResponseDeps } from "../../handlers/origin-response.js";
import { TRIGGER_LIMITS } from "../../handlers/cloudfront/edge-rules.js";
import { createViewerRequestHandler } from "../../handlers/viewer-request.js";
import { basePlan, canonicalPlan, type TransformPlan } from "../../handlers/core/plan.js";
import { DEFAULT_SETTINGS, validateSettings, type Settings } from "../../handlers/core/settings.js";
import { variantKey, variantKeyToUri } from "../../handlers/core/variant-key.js";
import { PAST_DEADLINE_REASON } from "../../handlers/render/deadline.js";
import type { S3Answer, S3HttpClient } from "../../handlers/s3/client.js";
import { newRequestId, originResponseEvent, s3ErrorAnswer, viewerRequestEvent, type Distribution } from "../../local/events.js";
import { checked } from "../helpers/edge-contract.js";
import { OVER_BUDGET_FILTERS, overBudgetPlan } from "../helpers/over-budget.js";

const distribution: Distribution = { domainName: "d1.cloudfront.net", distributionId: "E1", bucket: "originals", region: "us-east-1" };

function viewerEvent(url: string) {
  const rawHeaders = ["Host", distribution.domainName, "Accept", "image/webp"];
  return viewerRequestEvent({ method: "GET", url, rawHeaders, clientIp: "203.0.113.178" }, distribution, newRequestId());
}

const header = (out: CloudFrontResultResponse, name: string) => out.headers?.[name]?.[0]?.value;

test("viewer-request: fill(blur) ×12 on 4093x4096 is a 400 too costly to render, cached budgetErrorCacheControl", async (t) => {
  const handler = checked(createViewerRequestHandler(DEFAULT_SETTINGS));
  const out = (await handler(viewerEvent(`/unsafe/4093x4096/filters:${OVER_BUDGET_FILTERS}/sample.jpg`))) as CloudFrontResultResponse;
  t.is(out.status, "400");
  t.regex(String(out.body), /^400 too costly to render: about \d+ ms of work \(12 × fill: \d+ ms\), the budget is 8000 ms\n$/);
  t.is(header(out, "cache-control"), DEFAULT_SETTINGS.budgetErrorCacheControl);
  t.not(DEFAULT_SETTINGS.budgetErrorCacheControl, DEFAULT_SETTINGS.errorCacheControl);
});

test("viewer-request: blur(150) ×3 without a size is refused from the URL, before any GET (as large as the settings allow)", async (t) => {
  const handler = checked(createViewerRequestHandler(DEFAULT_SETTINGS));
  for (const size of ["", "0x0/", "origxorig/", "4096x0/"]) {
    const out = (await handler(viewerEvent(`/unsafe/${size}filters:blur(150):blur(150):blur(150)/sample.jpg`))) as CloudFrontResultResponse;
    t.is(out.status, "400", size);
    t.regex(String(out.body), /^400 too costly to render: about \d+ ms of work \(3 × blur: \d+ ms\)/);
    t.is(header(out, "cache-control"), DEFAULT_SETTINGS.budgetErrorCacheControl);
  }
});

test("viewer-request: other refusals keep the short errorCacheControl", async (t) => {
  const handler = checked(createViewerRequestHandler(DEFAULT_SETTINGS));
  const out = (await handler(viewerEvent("/unsafe/5000x10/sample.jpg"))) as CloudFrontResultResponse;
  t.is(out.status, "400");
  t.is(header(out, "cache-control"), DEFAULT_SETTINGS.errorCacheControl);
});

/** A bucket in memory that counts every GET and PUT by key. */
function fakeBucket(objects: Record<string, Buffer>) {
  const gets: string[] = [];
  const puts: string[] = [];
  const answer = (status: number, body: Buffer, headers: Record<string, string> = {}): S3Answer => ({ status, headers, body });
  const client = {
    async get(_bucket: string, key: string) {
      gets.push(key);
      const body = objects[key];
      if (!body) return answer(404, Buffer.from("<Error><Code>NoSuchKey</Code></Error>"));
      return answer(200, body, { "content-type": "application/octet-stream", etag: '"e"' });
    },
    async put(_bucket: string, key: string) {
      puts.push(key);
      return answer(200, Buffer.alloc(0));
    },
  } as unknown as S3HttpClient;
  return { client, gets, puts };
}

/** origin-response for the variant key of `plan` (built without the planner's checks: a forged key). */
async function originResponse(
  plan: TransformPlan,
  bucket: ReturnType<typeof fakeBucket>,
  deps: OriginResponseDeps = {},
  settings: Settings = DEFAULT_SETTINGS,
) {
  const key = variantKey(canonicalPlan(plan), settings);
  const request: CloudFrontRequest = {
    clientIp: "203.0.113.178",
    method: "GET",
    uri: variantKeyToUri(key),
    querystring: "",
    headers: { host: [{ key: "Host", value: `${distribution.bucket}.s3.${distribution.region}.amazonaws.com` }] },
    origin: {
      s3: {
        domainName: `${distribution.bucket}.s3.${distribution.region}.amazonaws.com`,
        region: distribution.region,
        authMethod: "origin-access-identity",
        path: "",
        customHeaders: {},
      },
    },
  };
  const handler = checked(createOriginResponseHandler(settings, { s3Client: () => bucket.client, ...deps }));
  return (await handler(originResponseEvent(request, s3ErrorAnswer(404), distribution, newRequestId()))) as CloudFrontResultResponse;
}

const photo = () =>
  sharp({ create: { width: 640, height: 480, channels: 3, background: "#3060a0" } })
    .jpeg()
    .toBuffer();
const mark = () =>
  sharp({ create: { width: 40, height: 40, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0.5 } } })
    .png()
    .toBuffer();
const watermarks = (keys: string[]) => keys.map((k) => ({ name: "watermark", args: [k, 0, 0, 0] }));

test("origin-response refuses a forged over-budget key with 400 and the long lifetime, without fetching the original", async (t) => {
  const bucket = fakeBucket({ "sample.jpg": await photo() });
  const out = await originResponse(overBudgetPlan("sample.jpg"), bucket);
  t.is(out.status, "400");
  t.regex(String(out.body), /^400 too costly to render: .*12 × fill/);
  t.is(header(out, "cache-control"), DEFAULT_SETTINGS.budgetErrorCacheControl);
  t.deepEqual(bucket.gets, [], "no GET at all");
  t.deepEqual(bucket.puts, []);
});

test("a render past its deadline answers 422 too costly to render with the long lifetime, and stores nothing", async (t) => {
  const bucket = fakeBucket({ "sample.jpg": await photo() });
  const plan = { ...basePlan("sample.jpg", 80), width: 320, height: 240, format: "jpeg" as const };
  const ok = await originResponse(plan, bucket);
  t.is(ok.status, "200", "the same plan renders without the tiny deadline");
  const out = await originResponse(plan, bucket, { renderDeadline: () => ({ remainingMs: () => 0 }) });
  t.is(out.status, "422");
  t.is(String(out.body), `422 ${PAST_DEADLINE_REASON}\n`);
  t.is(header(out, "cache-control"), DEFAULT_SETTINGS.budgetErrorCacheControl);
  t.is(bucket.puts.length, 1, "only the render within its deadline stored a variant");
});

test("the render deadline is half the origin-response timeout: 15 s of Lambda@Edge's 30 s, 500 ms of 1 s", (t) => {
  t.is(renderDeadlineMs(DEFAULT_SETTINGS), 15_000);
  t.is(renderDeadlineMs({ originResponseTimeoutSeconds: 1 }), 500);
  for (let seconds = 1; seconds <= TRIGGER_LIMITS.value["origin-response"].maxTimeoutSeconds; seconds++) {
    const ms = renderDeadlineMs({ originResponseTimeoutSeconds: seconds });
    t.true(ms > 0 && ms <= 15_000, `${seconds} s: a deadline, never later than at 30 s`);
    t.true(seconds * 1000 - ms >= 500, `${seconds} s: at least 500 ms left for the PUT and the answer`);
  }
});

test("origin-response reads its deadline from the baked timeout: a GET that took 1 s leaves no render time under a 1 s timeout", async (t) => {
  const slow = fakeBucket({ "sample.jpg": await photo() });
  const get = slow.client.get.bind(slow.client);
  slow.client.get = async (...args: Parameters<typeof get>) => (await new Promise((done) => setTimeout(done, 1000)), get(...args));
  const plan = { ...basePlan("sample.jpg", 80), width: 320, height: 240, format: "jpeg" as const };
  const short = validateSettings({ originResponseTimeoutSeconds: 1 });
  const out = await originResponse(plan, slow, {}, short);
  t.is(out.status, "422");
  t.is(String(out.body), `422 ${PAST_DEADLINE_REASON}\n`);
  t.deepEqual(slow.puts, []);
  t.is((await originResponse(plan, slow)).status, "200", "the default 30 s timeout leaves 14 s after the same GET");
});

test("a deadline that runs out between two effects stops the render there with the deadline's answer", async (t) => {
  const bucket = fakeBucket({ "sample.jpg": await photo() });
  const plan = {
    ...basePlan("sample.jpg", 80),
    width: 320,
    height: 240,
    format: "jpeg" as const,
    filters: [
      { name: "brightness", args: [10] },
      { name: "contrast", args: [10] },
      { name: "noise", args: [10] },
    ],
  };
  let checks = 0;
  let checksAtEnd = 0;
  const counting = { remainingMs: () => ((checks += 1), 60_000) };
  t.is((await originResponse(plan, bucket, { renderDeadline: () => counting })).status, "200");
  checksAtEnd = checks;
  t.true(checksAtEnd >= 4, `checked before each of the 3 effects and at least once more (${checksAtEnd})`);
  // Runs out a little before the end: still inside the effect chain.
  let left = checksAtEnd - 2;
  const out = await originResponse(plan, bucket, { renderDeadline: () => ({ remainingMs: () => (left-- > 0 ? 60_000 : 0) }) });
  t.is(out.status, "422");
  t.is(header(out, "cache-control"), DEFAULT_SETTINGS.budgetErrorCacheControl);
});

test("four watermarks of one image: one GET of it, and the variant renders", async (t) => {
  const bucket = fakeBucket({ "sample.jpg": await photo(), "logos/mark.png": await mark() });
  const plan = {
    ...basePlan("sample.jpg", 80),
    width: 320,
    height: 240,
    format: "jpeg" as const,
    filters: watermarks(Array(4).fill("logos/mark.png")),
  };
  const out = await originResponse(plan, bucket);
  t.is(out.status, "200");
  // The original's intermediate is read beside it (none: sample.jpg is too small to get one).
  t.deepEqual(bucket.gets, [intermediateKey("sample.jpg", DEFAULT_SETTINGS), "sample.jpg", "logos/mark.png"]);
});

test("an SVG watermark is refused (415) when allowSvg is false, before it is decoded", async (t) => {
  const svg = Buffer.from(
    '<svg xmlns="http://www.w3.org/2000/svg" width="8000" height="8000"><rect width="8000" height="8000" fill="red"/></svg>',
  );
  const bucket = fakeBucket({ "sample.jpg": await photo(), "extra/huge.svg": svg });
  const plan = { ...basePlan("sample.jpg", 80), width: 320, height: 240, format: "jpeg" as const, filters: watermarks(["extra/huge.svg"]) };
  const out = await originResponse(plan, bucket);
  t.is(out.status, "415");
  t.is(String(out.body), "415 watermark image extra/huge.svg: SVG originals are not enabled (allowSvg)\n");
  t.is(header(out, "cache-control"), DEFAULT_SETTINGS.errorCacheControl);
});

test("a watermark over maxInputPixels is refused from its header; a frame image that cannot be decoded here too", async (t) => {
  const big = await sharp({ create: { width: 700, height: 700, channels: 3, background: "#fff" } })
    .png()
    .toBuffer();
  const heic = readFileSync(join(__dirname, "..", "fixtures", "images", "image.heic"));
  const bucket = fakeBucket({ "sample.jpg": await photo(), "big.png": big, "np.heic": heic });
  const settings = { ...DEFAULT_SETTINGS, maxInputPixels: 640 * 480 };
  const plan = { ...basePlan("sample.jpg", 80), width: 320, height: 240, format: "jpeg" as const };
  const tooLarge = await originResponse({ ...plan, filters: watermarks(["big.png"]) }, bucket, {}, settings);
  t.is(tooLarge.status, "400");
  t.regex(String(tooLarge.body), /^400 watermark image big\.png: image too large: 700x700 px exceeds maxInputPixels/);
  const frame = await originResponse({ ...plan, filters: [{ name: "frame", args: ["np.heic"] }] }, bucket);
  t.is(frame.status, "400");
  t.regex(String(frame.body), /^400 frame image np\.heic: not a supported image: HEIC \(HEVC\) originals cannot be decoded here/);
});
