/**
 * CloudFront matches invalidation paths against the URIs as cached, character for character, and
 * asks that a path encode only non-ASCII and RFC 1738's unsafe characters. The URIs cached are
 * the ones viewer-request rewrites to (the cache key); the purge must invalidate exactly those
 * spellings, whatever the original's key holds.
 */
import test from "ava";
import type { CloudFrontRequest, CloudFrontResultResponse } from "aws-lambda";
import { INVALIDATION_PATHS, invalidationPathViolations } from "../../handlers/cloudfront/edge-rules.js";
import { keyToUri } from "../../handlers/core/canonical-uri.js";
import { DEFAULT_SETTINGS } from "../../handlers/core/settings.js";
import { planPurge, purgeTargetOf } from "../../handlers/purge/plan.js";
import { createViewerRequestHandler } from "../../handlers/viewer-request.js";
import { EdgeCache } from "../../local/cloudfront-cache.js";
import { newRequestId, viewerRequestEvent } from "../../local/events.js";

const ODD_ORIGINALS = ["photos/a,b:c=d&e@f.jpg", "x/(1)'!$;.png", "a+b c/é 漢.jpg", "100%/done*.webp", "q?#.jpg", 't~1/[x]{y}|^`<>".jpg'];
/** What a path escapes: RFC 1738's unsafe characters (CloudFront's rule), "?" (it would start the query), "+" (S3 reads a space), "*" (the wildcard). */
const ESCAPED = new Set([...INVALIDATION_PATHS.value.unsafeCharacters, "?", "+", "*"]);
const viewerRequest = createViewerRequestHandler(DEFAULT_SETTINGS);

/** The URIs viewer-request rewrites the `?d=` and thumbor URLs of an original to: what the cache holds. */
async function cachedSpellings(original: string): Promise<string[]> {
  const path = keyToUri(original);
  const thumborImage = path.slice(1).replace(/[,:=&@$;'!()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const urls = [
    `${path}?d=300x200`,
    `${path}?d=640x480`,
    `/unsafe/300x200/${thumborImage}`,
    `/unsafe/fit-in/100x100/filters:grayscale()/${thumborImage}`,
  ];
  const out: string[] = [];
  for (const url of urls) {
    for (const accept of ["image/webp", "*/*"]) {
      const event = viewerRequestEvent(
        { method: "GET", url, rawHeaders: ["Accept", accept], clientIp: "192.0.2.1" },
        { domainName: "d", distributionId: "E", bucket: "b", region: "us-east-1" },
        newRequestId(),
      );
      const result = (await viewerRequest(event)) as CloudFrontRequest | CloudFrontResultResponse;
      if ("status" in result) throw new Error(`${url} refused: ${result.status} ${result.body}`);
      out.push(result.uri);
    }
  }
  return out;
}

async function cacheHolding(uris: string[]): Promise<EdgeCache> {
  const cache = new EdgeCache(1024 * 1024);
  const answer = { status: 200, headers: new Map([["cache-control", ["max-age=3600"]]]), body: Buffer.from("x") };
  for (const uri of uris) await cache.get(uri, async () => answer);
  return cache;
}

test("the purge's invalidation path removes every spelling the cache holds for an original's variants, and nothing else", async (t) => {
  for (const original of ODD_ORIGINALS) {
    const mine = await cachedSpellings(original);
    const others = await cachedSpellings("other/keep.jpg");
    const cache = await cacheHolding([...mine, ...others]);
    t.is(cache.keys().length, new Set([...mine, ...others]).size);
    const { invalidationPaths } = planPurge([purgeTargetOf(original)], DEFAULT_SETTINGS);
    cache.invalidate(invalidationPaths);
    t.deepEqual(cache.keys().sort(), [...new Set(others)].sort(), `${original}: ${invalidationPaths.join(" ")} vs ${mine.join(" ")}`);
  }
});

test("invalidation paths escape only what CloudFront asks to be escaped: , : = & @ ; $ ! ' ( ) stay raw", (t) => {
  for (const original of ODD_ORIGINALS) {
    const [path] = planPurge([purgeTargetOf(original)], DEFAULT_SETTINGS).invalidationPaths;
    const escapedAscii = [...path!.matchAll(/%([0-7][0-9A-F])/g)].map((m) => String.fromCharCode(parseInt(m[1]!, 16)));
    t.deepEqual(
      escapedAscii.filter((c) => !ESCAPED.has(c)),
      [],
      `${path} escapes a character CloudFront wants raw`,
    );
    t.deepEqual(invalidationPathViolations(path!), [], path);
  }
  t.is(planPurge([purgeTargetOf("photos/a,b:c=d&e@f.jpg")], DEFAULT_SETTINGS).invalidationPaths[0], "/variants/photos/a,b:c=d&e@f.jpg/*");
});
