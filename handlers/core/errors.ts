/**
 * RequestError: a refusal with an HTTP status and a short reason for the viewer.
 *
 * Pure logic throws it; the handlers turn it into an answer with a short cache lifetime.
 * Anything else that escapes is a bug and becomes a 500 with a generic body (never a stack).
 */
export type RefusalStatus = 400 | 403 | 404 | 405 | 413 | 414 | 415 | 422 | 501 | 502 | 503;

/**
 * How long an answer is cached: "short" (errorCacheControl) so a fixed original shows up soon;
 * "long" (budgetErrorCacheControl) for a plan too costly to render, whose repeat would cost as much.
 */
export type RefusalLifetime = "short" | "long";

export class RequestError extends Error {
  override name = "RequestError";
  constructor(
    readonly status: RefusalStatus,
    /** Short, safe to show to anyone: never a secret, a stack or a bucket name. */
    readonly reason: string,
    readonly lifetime: RefusalLifetime = "short",
  ) {
    super(reason);
  }
}

export function isRequestError(err: unknown): err is RequestError {
  return err instanceof RequestError;
}

/**
 * A RequestError without a captured stack trace. Refusals are the answer to bad input, not bugs:
 * nobody reads their stack, and capturing it was the largest single cost of answering a bad URL
 * (viewer-request runs on every request, so a flood of bad URLs must stay cheap).
 */
export function refusal(status: RefusalStatus, reason: string, lifetime: RefusalLifetime = "short"): RequestError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new RequestError(status, reason, lifetime);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * A caller's text quoted in a reason or a log line, cut after `max` characters (then `marker`
 * says it was cut): a hostile URL must not make an answer or a log line as long as itself.
 */
export function clipText(text: string, max: number, marker = "..."): string {
  return text.length > max ? `${text.slice(0, max)}${marker}` : text;
}
