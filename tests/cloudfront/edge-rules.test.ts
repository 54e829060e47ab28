/**
 * The CloudFront and Lambda@Edge rules of handlers/cloudfront/edge-rules.ts that have no other test
 * attacking them: each checker is given a result or an input that breaks the rule on purpose
 * (and one that keeps it), so a rule dropped from the checker fails here.
 */
import test from "ava";
import type { CloudFrontRequest } from "aws-lambda";
import {
  checkEdgeFunctionInputs,
  checkEdgeResult,
  checkRuntimeManagementInputs,
  MAX_URI_AND_QUERY_CHARS,
} from "../../handlers/cloudfront/edge-rules.js";

function request(uri = "/images/cat.jpg", querystring = "d=100x100"): CloudFrontRequest {
  return {
    clientIp: "203.0.113.1",
    method: "GET",
    uri,
    querystring,
    headers: { host: [{ key: "Host", value: "d111111abcdef8.cloudfront.net" }] },
  };
}

/** viewer-request passing `result` on after being given the default request. */
const passedOn = (result: CloudFrontRequest, given = request()) => checkEdgeResult("viewer-request", { request: given }, result);

test("a rewritten uri must start with /", (t) => {
  t.deepEqual(passedOn(request("/variants/images/cat.jpg/100x100.webp")), []);
  t.regex(passedOn(request("variants/images/cat.jpg")).join(), /does not start with "\/"/);
  t.regex(passedOn(request("")).join(), /does not start with "\/"/);
});

test("the uri and query string together must be under 8,192 characters", (t) => {
  const max = MAX_URI_AND_QUERY_CHARS.value;
  t.is(max, 8192);
  const uriOf = (length: number) => `/${"a".repeat(length - 1)}`;
  t.deepEqual(passedOn(request(uriOf(max - 1), "")), [], "8,191 characters pass");
  t.regex(passedOn(request(uriOf(max), "")).join(), /8192 characters, not under 8192/);
  // "?" joins the two: 8,180 + 1 + 11 = 8,192.
  t.regex(passedOn(request(uriOf(max - 12), "d=100x100&x")).join(), /8192 characters/);
});

test("a rewritten query string may not contain spaces, control characters or #", (t) => {
  for (const bad of ["d=100 100", "d=100#x", "d=100\u0001", "d=\t1", "d=\u007f"])
    t.regex(passedOn(request("/a.jpg", bad)).join(), /space, control character or #/, JSON.stringify(bad));
  t.deepEqual(passedOn(request("/a.jpg", "d=100%20100&q=%23")), [], "percent-encoded is fine");
  const given = request("/a.jpg", "d=100 100");
  t.deepEqual(passedOn(request("/b.jpg", "d=100 100"), given), [], "a query string passed on unchanged is CloudFront's own");
});

test("a generated 204 with a body is refused; without one it passes", (t) => {
  const given = { request: request() };
  t.regex(checkEdgeResult("viewer-request", given, { status: "204", body: "x" }).join(), /status 204 with a body/);
  t.regex(
    checkEdgeResult("origin-response", { ...given, response: { status: "404", headers: {} } }, { status: "204", body: "x" }).join(),
    /204/,
  );
  t.deepEqual(checkEdgeResult("viewer-request", given, { status: "204" }), []);
  t.deepEqual(checkEdgeResult("viewer-request", given, { status: "204", body: "" }), []);
});

test("viewer-request may not add CloudFront-Viewer-* headers; origin-request may", (t) => {
  const withCountry = {
    ...request(),
    headers: { ...request().headers, "cloudfront-viewer-country": [{ key: "CloudFront-Viewer-Country", value: "FR" }] },
  };
  t.regex(passedOn(withCountry).join(), /added cloudfront-viewer-country/);
  t.deepEqual(checkEdgeResult("origin-request", { request: request() }, withCountry), []);
  t.deepEqual(passedOn(withCountry, withCountry), [], "kept as given is not adding");
});

test("reserved concurrency is refused on an edge function; the provider's -1 (unreserved) is not", (t) => {
  const fn = { runtime: "nodejs24.x", publish: true, region: "us-east-1", memorySize: 128, timeout: 5 };
  t.deepEqual(checkEdgeFunctionInputs("viewer-request", { ...fn, reservedConcurrentExecutions: -1 }), []);
  t.regex(checkEdgeFunctionInputs("viewer-request", { ...fn, reservedConcurrentExecutions: 10 }).join(), /reserved concurrency/);
  t.regex(checkEdgeFunctionInputs("viewer-request", { ...fn, reservedConcurrentExecutions: 0 }).join(), /reserved concurrency/);
});

test("runtime management must stay automatic", (t) => {
  t.deepEqual(checkRuntimeManagementInputs({ functionName: "f", updateRuntimeOn: "Auto" }), []);
  t.deepEqual(checkRuntimeManagementInputs({ functionName: "f" }), [], "Auto is the default");
  for (const mode of ["FunctionUpdate", "Manual"])
    t.regex(checkRuntimeManagementInputs({ updateRuntimeOn: mode }).join(), /other than Auto/);
});
