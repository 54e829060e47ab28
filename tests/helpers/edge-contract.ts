/**
 * The edge contract in handler tests: every handler result goes through handlers/cloudfront/edge-rules.ts's
 * checker, so a result CloudFront would refuse (answering 502) fails the test that produced it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { CloudFrontRequestEvent, CloudFrontResponseEvent } from "aws-lambda";
import { checkEdgeResult, type EdgeEventType, type EdgeResult } from "../../handlers/cloudfront/edge-rules.js";

export class EdgeContractError extends Error {
  override name = "EdgeContractError";
  constructor(readonly violations: string[]) {
    super(`CloudFront would answer 502 (the Lambda function result failed validation):\n${violations.join("\n")}`);
  }
}

type EdgeEvent = CloudFrontRequestEvent | CloudFrontResponseEvent;

/** Wraps a handler so each result is checked against what it was given; a violation throws EdgeContractError. */
export function checked<E extends EdgeEvent, R extends EdgeResult>(handler: (event: E) => Promise<R>): (event: E) => Promise<R> {
  return async (event) => {
    const cf = event.Records[0]!.cf;
    // Handlers may change their event in place (CloudFront allows it): keep what they were given.
    const given = structuredClone({ request: cf.request, response: "response" in cf ? cf.response : undefined });
    const result = await handler(event);
    const violations = checkEdgeResult(cf.config.eventType as EdgeEventType, given, result);
    if (violations.length > 0) throw new EdgeContractError(violations);
    return result;
  };
}

/** A documented example event from tests/fixtures/events/ (a fresh copy each time). */
export function exampleEvent<E extends EdgeEvent>(name: "viewer-request" | "origin-response-s3-404" | "origin-response-s3-403"): E {
  return JSON.parse(readFileSync(join(__dirname, "..", "fixtures", "events", `${name}.json`), "utf8")) as E;
}
