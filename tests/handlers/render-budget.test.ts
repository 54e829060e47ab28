/**
 * The render budget and the render deadline at the handlers: a plan too costly to render is
 * refused with its reason and cached long (budgetErrorCacheControl), by viewer-request from the
 * URL and by origin-response from the key and the original's header, before any decode.
 */
import test from "ava";
import type { CloudFrontResultResponse } from "aws-lambda";
import { createViewerRequestHandler } from "../../handlers/viewer-request.js";
import { DEFAULT_SETTINGS } from "../../handlers/core/settings.js";
import { newRequestId, viewerRequestEvent, type Distribution } from "../../local/events.js";
import { checked } from "../helpers/edge-contract.js";

const distribution: Distribution = { domainName: "d1.cloudfront.net", distributionId: "E1", bucket: "originals", region: "us-east-1" };
const fills = Array(12).fill("fill(blur)").join(":");

function viewerEvent(url: string) {
  const rawHeaders = ["Host", distribution.domainName, "Accept", "image/webp"];
  return viewerRequestEvent({ method: "GET", url, rawHeaders, clientIp: "203.0.113.178" }, distribution, newRequestId());
}

const header = (out: CloudFrontResultResponse, name: string) => out.headers?.[name]?.[0]?.value;

test("viewer-request: fill(blur) ×12 on 4093x4096 is a 400 too costly to render, cached budgetErrorCacheControl", async (t) => {
  const handler = checked(createViewerRequestHandler(DEFAULT_SETTINGS));
  const out = (await handler(viewerEvent(`/unsafe/4093x4096/filters:${fills}/sample.jpg`))) as CloudFrontResultResponse;
  t.is(out.status, "400");
  t.regex(String(out.body), /^400 too costly to render: about \d+ ms of work \(12 × fill: \d+ ms\), the budget is 8000 ms\n$/);
  t.is(header(out, "cache-control"), DEFAULT_SETTINGS.budgetErrorCacheControl);
  t.not(DEFAULT_SETTINGS.budgetErrorCacheControl, DEFAULT_SETTINGS.errorCacheControl);
});

test("viewer-request: other refusals keep the short errorCacheControl", async (t) => {
  const handler = checked(createViewerRequestHandler(DEFAULT_SETTINGS));
  const out = (await handler(viewerEvent("/unsafe/5000x10/sample.jpg"))) as CloudFrontResultResponse;
  t.is(out.status, "400");
  t.is(header(out, "cache-control"), DEFAULT_SETTINGS.errorCacheControl);
});
