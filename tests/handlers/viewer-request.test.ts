import test from "ava";
import type { CloudFrontRequest, CloudFrontResultResponse } from "aws-lambda";
import { createViewerRequestHandler } from "../../handlers/viewer-request.js";
import { DEFAULT_SETTINGS } from "../../handlers/core/settings.js";
import { newRequestId, viewerRequestEvent, type Distribution } from "../../local/events.js";
import { checked } from "../helpers/edge-contract.js";

const distribution: Distribution = {
  domainName: "d111111abcdef8.cloudfront.net",
  distributionId: "EDFDVBD6EXAMPLE",
  bucket: "images",
  region: "eu-west-1",
};
const handler = checked(createViewerRequestHandler(DEFAULT_SETTINGS));

function event(url: string, headers: Record<string, string> = {}) {
  const rawHeaders = Object.entries({ Host: distribution.domainName, ...headers }).flat();
  return viewerRequestEvent({ method: "GET", url, rawHeaders, clientIp: "203.0.113.178" }, distribution, newRequestId());
}

const isResponse = (r: CloudFrontRequest | CloudFrontResultResponse): r is CloudFrontResultResponse => "status" in r;

test("both URL styles come out with the same rewritten uri, no query string, and the viewer URL header", async (t) => {
  const a = await handler(event("/images/cat.jpg?d=300x200", { Accept: "image/webp,*/*" }));
  const b = await handler(event("/unsafe/300x200/images/cat.jpg", { Accept: "image/webp,*/*" }));
  if (isResponse(a) || isResponse(b)) return t.fail("expected rewritten requests");
  t.is(a.uri, "/variants/images/cat.jpg/300x200,q80.webp");
  t.is(b.uri, a.uri);
  t.is(a.querystring, "");
  t.deepEqual(a.headers["x-resizer-viewer-url"], [{ key: "X-Resizer-Viewer-Url", value: "/images/cat.jpg?d=300x200" }]);
  t.deepEqual(b.headers["x-resizer-viewer-url"], [{ key: "X-Resizer-Viewer-Url", value: "/unsafe/300x200/images/cat.jpg" }]);
  t.is(a.headers.host[0].value, distribution.domainName, "other headers are kept");
});

test("plain originals pass through untouched, and a viewer's own x-resizer-viewer-url is dropped", async (t) => {
  const e = event("/images/cat.jpg?v=2", { Accept: "image/webp", "X-Resizer-Viewer-Url": "https://evil.example/" });
  const out = await handler(e);
  if (isResponse(out)) return t.fail("expected the request");
  t.is(out.uri, "/images/cat.jpg");
  t.is(out.querystring, "v=2");
  t.false("x-resizer-viewer-url" in out.headers);
});

test("bad URLs are answered here: short reason, text/plain, the short error cache lifetime", async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ["/unsafe/5000x10/a.jpg", "400", /width 5000 exceeds/],
    ["/a.jpg?d=huge", "400", /d must be WxH/],
    ["/AAAAAAAAAAAAAAAAAAAAAAAAAAA=/300x200/a.jpg", "403", /bad signature/],
    ["/", "404", /no image path/],
  ];
  for (const [url, status, body] of cases) {
    const out = await handler(event(url));
    if (!isResponse(out)) return t.fail(`expected a response for ${url}`);
    t.is(out.status, status, url);
    t.regex(out.body ?? "", body, url);
    t.is(out.headers?.["cache-control"]?.[0]?.value, DEFAULT_SETTINGS.errorCacheControl);
    t.is(out.headers?.["content-type"]?.[0]?.value, "text/plain; charset=utf-8");
    t.notRegex(out.body ?? "", /at .*\.ts:\d+/, "no stack trace");
  }
});

test("the read-only headers of viewer-request (Host, Via, Content-Length, Transfer-Encoding) come back untouched", async (t) => {
  const readOnly = {
    Host: distribution.domainName,
    Via: "1.1 proxy.example (squid)",
    "Content-Length": "0",
    "Transfer-Encoding": "chunked",
  };
  for (const url of ["/images/cat.jpg?d=300x200", "/unsafe/300x200/images/cat.jpg", "/images/cat.jpg"]) {
    const out = await handler(event(url, { ...readOnly, Accept: "image/webp" }));
    if (isResponse(out)) return t.fail(`${url} was answered ${out.status}`);
    for (const [key, value] of Object.entries(readOnly)) t.deepEqual(out.headers[key.toLowerCase()], [{ key, value }], `${url}: ${key}`);
  }
});

test("another spelling of an original or a ?d= path is a 301 to its one spelling, cached like a variant by browsers", async (t) => {
  for (const [url, location] of [
    ["/images/a~b.jpg", "/images/a%7Eb.jpg"],
    ["/images/%63at.jpg?d=300x200&v=1", "/images/cat.jpg?d=300x200"],
  ]) {
    const out = await handler(event(url!));
    if (!isResponse(out)) return t.fail(`expected an answer for ${url}`);
    t.is(out.status, "301", url);
    t.deepEqual(out.headers?.location, [{ key: "Location", value: location }], url);
    t.is(out.headers?.["cache-control"]?.[0]?.value, DEFAULT_SETTINGS.cacheControl);
  }
  const canonical = await handler(event("/images/a%7Eb.jpg"));
  t.false(isResponse(canonical), "the canonical spelling itself is passed on");
});

test("healthcheckPath answers thumbor's 200 WORKING, never cached, with or without its trailing slash; off, it is an original", async (t) => {
  for (const url of ["/healthcheck", "/healthcheck/", "/healthcheck?from=elb"]) {
    const out = await handler(event(url));
    if (!isResponse(out)) return t.fail(`${url}: expected an answer, got the request for ${out.uri}`);
    t.is(out.status, "200", url);
    t.is(out.body, "WORKING", url);
    t.is(out.headers?.["cache-control"]?.[0]?.value, "no-store", url);
  }
  const moved = checked(createViewerRequestHandler({ ...DEFAULT_SETTINGS, healthcheckPath: "/status/health" }));
  const answered = await moved(event("/status/health"));
  t.true(isResponse(answered) && answered.body === "WORKING");
  const old = await moved(event("/healthcheck"));
  t.false(isResponse(old), "the default path is an original again once the route moved");
  const off = checked(createViewerRequestHandler({ ...DEFAULT_SETTINGS, healthcheckPath: "" }));
  const passed = await off(event("/healthcheck"));
  if (isResponse(passed)) return t.fail("with the route off, /healthcheck goes to the origin");
  t.is(passed.uri, "/healthcheck");
  const near = await handler(event("/healthcheck/x.jpg"));
  t.false(isResponse(near), "only the route itself, not paths under it");
});
