/**
 * Which function reads which setting: each handler is given settings that record every key read
 * (at creation and per request), then a corpus of requests that takes it down each of its paths
 * (?d= and thumbor URLs, signed ones, filters reading a second image, the healthcheck, originals
 * served as they are, misses of JPEG, animated GIF, CMYK and SVG originals, bad input). What each
 * handler read must be what SETTINGS_SCHEMA's `readBy` says.
 */
import test from "ava";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import type { CloudFrontRequest } from "aws-lambda";
import { variantKey, variantKeyToUri } from "../../handlers/core/variant-key.js";
import { SETTING_READERS, type SettingReader } from "../../handlers/core/settings-schema.js";
import { SETTINGS_SCHEMA, validateSettings, type Settings } from "../../handlers/core/settings.js";
import { createOriginResponseHandler } from "../../handlers/origin-response.js";
import { createUrlBuilder } from "../../handlers/url/url-builder.js";
import { createViewerRequestHandler } from "../../handlers/viewer-request.js";
import { newRequestId, originResponseEvent, s3ErrorAnswer, viewerRequestEvent, type Distribution } from "../../local/events.js";
import { LOCAL_REGION, S3RVER_CREDENTIALS, createHandlerS3Client, createS3Client, startEmbeddedS3 } from "../../local/s3.js";
import { OVER_BUDGET_FILTERS, overBudgetPlan } from "../helpers/over-budget.js";

const BUCKET = "originals";
const distribution: Distribution = { domainName: "d1.cloudfront.net", distributionId: "E1", bucket: BUCKET, region: LOCAL_REGION };
const FIXTURES = join(__dirname, "..", "fixtures", "images");
/** Browsers' Accept headers: AVIF and WebP, WebP only, neither (each negotiation setting is read). */
const ACCEPTS = ["image/avif,image/webp,image/*,*/*;q=0.8", "image/webp,*/*", "*/*"];
const WEBP = ACCEPTS[1]!;

/** Settings that take every path: an allow-list with a tolerance, a signing key and a retired one, SVG and AVIF allowed, a stripped host. */
const base = validateSettings({
  sizes: ["300x200", "300x0"],
  sizeTolerance: 0.1,
  allowSvg: true,
  autoAvif: true,
  thumbor: { securityKey: "k", retiredSecurityKeys: ["old"], stripHosts: ["images.example.com"] },
});

/** `settings` whose every read key (of the document or of its thumbor group) is added to `read`. */
function recording(settings: Settings, read: Set<string>): Settings {
  const watch = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(t, key, receiver) {
        if (typeof key === "string") read.add(key);
        const value = Reflect.get(t, key, receiver);
        return key === "thumbor" ? watch(value as object) : value;
      },
    });
  return watch(settings);
}

const urls = createUrlBuilder({ key: "k" });
const VIEWER_URLS = [
  "/images/cat.jpg?d=300x200",
  "/images/cat.jpg?d=310x0",
  "/images/cat.jpg",
  "/healthcheck",
  "/unsafe/300x200/smart/filters:quality(70):format(webp)/images/cat.jpg",
  `/${urls.thumborPath({ image: "images/cat.jpg", width: 300, height: 200, filters: ["watermark(images/mark.png,10,10,50)"] }).replace(/^\//, "")}`,
  "/unsafe/300x200/https://images.example.com/images/cat.jpg",
  "/unsafe/300x200/filters:nosuchfilter()/images/cat.jpg",
  "/unsafe/99999x200/images/cat.jpg",
  "/0123456789abcdef0123456789a=/300x200/images/cat.jpg",
  "/variants/images/cat.jpg/300x200,q80.jpg",
  `/unsafe/4093x4096/filters:${OVER_BUDGET_FILTERS}/images/cat.jpg`,
];

/** The rewritten requests of the misses origin-response is asked to make (each through a plain viewer-request). */
const MISS_URLS = [
  "/images/cat.jpg?d=300x200",
  "/unsafe/200x0/filters:format(jpeg)/images/cat.jpg",
  "/unsafe/200x0/filters:watermark(https://images.example.com/images/mark.png,10,10,50):format(webp)/images/cat.jpg",
  "/unsafe/120x0/filters:format(gif)/images/animated.gif",
  "/unsafe/120x0/images/cmyk.jpg",
  "/unsafe/120x0/images/logo.svg",
  "/unsafe/120x0/images/missing.jpg",
  "/unsafe/120x0/smart/images/cat.jpg",
];

async function viewerRewrite(url: string, settings: Settings): Promise<CloudFrontRequest | undefined> {
  const result = await createViewerRequestHandler(settings)(
    viewerRequestEvent({ method: "GET", url, rawHeaders: ["Accept", WEBP], clientIp: "127.0.0.1" }, distribution, newRequestId()),
  );
  return "status" in result ? undefined : (result as CloudFrontRequest);
}

test("viewer-request and origin-response read exactly the settings SETTINGS_SCHEMA's readBy gives them", async (t) => {
  const s3 = await startEmbeddedS3(mkdtempSync(join(tmpdir(), "settings-readers-")), BUCKET);
  const client = createS3Client({ endpoint: s3.endpoint, region: LOCAL_REGION, credentials: S3RVER_CREDENTIALS });
  const handlerClient = createHandlerS3Client(s3.endpoint);
  try {
    const put = (key: string, file: string, type: string) =>
      client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: readFileSync(join(FIXTURES, file)), ContentType: type }));
    await put("images/cat.jpg", "image.jpg", "image/jpeg");
    await put("images/mark.png", "thumbor-watermark.png", "image/png");
    await put("images/animated.gif", "animated.gif", "image/gif");
    await put("images/cmyk.jpg", "cmyk.jpg", "image/jpeg");
    await put("images/logo.svg", "Commons-logo.svg", "image/svg+xml");

    const read: Record<SettingReader, Set<string>> = { "viewer-request": new Set(), "origin-response": new Set() };
    const viewer = createViewerRequestHandler(recording(base, read["viewer-request"]));
    for (const url of VIEWER_URLS)
      for (const accept of ACCEPTS)
        await viewer(
          viewerRequestEvent({ method: "GET", url, rawHeaders: ["Accept", accept], clientIp: "127.0.0.1" }, distribution, newRequestId()),
        );

    const origin = createOriginResponseHandler(recording(base, read["origin-response"]), { s3Client: () => handlerClient });
    for (const url of MISS_URLS) {
      const request = await viewerRewrite(url, base);
      if (!request) return t.fail(`viewer-request answered ${url} itself`);
      await origin(originResponseEvent(request, s3ErrorAnswer(404), distribution, newRequestId()));
    }
    // A key forged past viewer-request (over the render budget): origin-response refuses it itself.
    const costly = await viewerRewrite("/unsafe/300x200/images/cat.jpg", base);
    const forged = { ...costly!, uri: variantKeyToUri(variantKey(overBudgetPlan("images/cat.jpg"), base)) };
    const refused = await origin(originResponseEvent(forged, s3ErrorAnswer(404), distribution, newRequestId()));
    t.is((refused as { status: string }).status, "400", "the forged key is refused as too costly");
    const original = await viewerRewrite("/images/cat.jpg", base);
    const ok = { status: 200, statusDescription: "OK", headers: { "content-type": [{ key: "Content-Type", value: "image/jpeg" }] } };
    await origin(originResponseEvent(original!, ok, distribution, newRequestId()));

    const names = new Set(Object.keys(SETTINGS_SCHEMA));
    const namesRead = (reader: SettingReader) => [...read[reader]].filter((name) => names.has(name)).sort();
    const declared = (reader: SettingReader) =>
      Object.entries(SETTINGS_SCHEMA)
        .filter(([, entry]) => (entry.readBy as readonly string[]).includes(reader))
        .map(([name]) => name)
        .sort();
    const byReader = (names: (reader: SettingReader) => string[]) => Object.fromEntries(SETTING_READERS.map((r) => [r, names(r)]));
    t.deepEqual(byReader(namesRead), byReader(declared), "the settings each handler read, and those readBy names");
  } finally {
    client.destroy();
    handlerClient.destroy();
    await s3.close();
  }
});
