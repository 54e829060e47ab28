/**
 * Lambda@Edge viewer-request: runs on every request, cache hit or not, so it only matches and
 * rewrites. `?d=` and thumbor URLs become the URI of their canonical variant key (the cache key
 * then never needs the query string or Accept); bad or badly signed URLs are answered here.
 */
import type { CloudFrontRequest, CloudFrontRequestEvent, CloudFrontResultResponse } from "aws-lambda";
import { VIEWER_URL_HEADER, errorResponse, headerValue, withBundledSettings } from "./cloudfront/plumbing.js";
import { isRequestError } from "./core/errors.js";
import { createRequestPlanner } from "./url/request-plan.js";
import type { Settings } from "./core/settings.js";
import { variantKeyToUri } from "./core/variant-key.js";

export type ViewerRequestHandler = (event: CloudFrontRequestEvent) => Promise<CloudFrontRequest | CloudFrontResultResponse>;

export function createViewerRequestHandler(settings: Settings): ViewerRequestHandler {
  const planner = createRequestPlanner(settings);
  return async (event) => {
    const request = event.Records[0].cf.request;
    // Only we may set this header: a viewer's own copy could steer origin-response's redirect.
    // (`delete` only when present: it turns the header map into a slow dictionary object.)
    if (request.headers[VIEWER_URL_HEADER] !== undefined) delete request.headers[VIEWER_URL_HEADER];
    try {
      const route = planner.plan(request.uri, request.querystring, headerValue(request.headers, "accept"));
      if (route.kind === "healthcheck") return healthcheckResponse();
      if (route.kind === "original") return request;
      if (route.kind === "respelled") return respelledAnswer(route.location, settings);
      const viewerUrl = request.querystring ? `${request.uri}?${request.querystring}` : request.uri;
      request.uri = variantKeyToUri(route.key);
      request.querystring = "";
      request.headers[VIEWER_URL_HEADER] = [{ key: "X-Resizer-Viewer-Url", value: viewerUrl }];
      return request;
    } catch (err) {
      if (isRequestError(err)) return errorResponse(err.status, err.reason, settings, err.lifetime);
      console.error("viewer-request failed", { uri: request.uri.slice(0, 200), error: String(err) });
      return errorResponse(500, "internal error", settings);
    }
  };
}

/** The permanent move to an object's one spelling; browsers keep it as long as a variant. */
function respelledAnswer(location: string, settings: Settings): CloudFrontResultResponse {
  return {
    status: "301",
    statusDescription: "Moved Permanently",
    headers: {
      location: [{ key: "Location", value: location }],
      "cache-control": [{ key: "Cache-Control", value: settings.cacheControl }],
    },
  };
}

/**
 * thumbor's healthcheck answer (200, body `WORKING`), which load balancers and monitors check.
 * no-store: a cached "WORKING" would hide that the functions stopped answering.
 */
function healthcheckResponse(): CloudFrontResultResponse {
  return {
    status: "200",
    statusDescription: "OK",
    headers: {
      "content-type": [{ key: "Content-Type", value: "text/plain; charset=utf-8" }],
      "cache-control": [{ key: "Cache-Control", value: "no-store" }],
    },
    body: "WORKING",
    bodyEncoding: "text",
  };
}

export const handler = withBundledSettings(createViewerRequestHandler);
