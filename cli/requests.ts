/**
 * What verify and warm share: the distinct request paths of a URL list or access log (read with
 * the audit's readers), HTTP GETs with a timeout and retries, and a pool that runs them with
 * bounded concurrency and an optional rate limit.
 */
import { LogReader } from "./log-formats.js";
import { openLines } from "./input.js";

/** A browser's image Accept (Chromium's for <img>): the answer the site's visitors get. */
export const BROWSER_IMAGE_ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";

/** The distinct request paths of a file ("-" for standard input), in first-seen order. */
export async function readRequestPaths(file: string): Promise<string[]> {
  const source = await openLines(file);
  const reader = new LogReader();
  const seen = new Set<string>();
  for await (const line of source.lines) for (const r of reader.read(line)) seen.add(r.path);
  return [...seen];
}

export interface Answer {
  status: number;
  headers: Headers;
  body: Buffer;
}

export interface FetchOptions {
  headers?: Record<string, string>;
  /** Further tries after a network error, a timeout or a 502/503/504. */
  retries: number;
  timeoutMs: number;
}

/** Statuses worth another try: the server or a proxy in front of it was momentarily unavailable. */
const RETRIED_STATUSES = new Set([502, 503, 504]);

/** GET `url`; the last answer after retries, or the network error's message. */
export async function getWithRetries(url: string, options: FetchOptions): Promise<Answer | { error: string }> {
  let last: Answer | { error: string } = { error: "not tried" };
  for (let attempt = 0; attempt <= options.retries; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, 200 * 2 ** (attempt - 1)));
    try {
      const res = await fetch(url, { headers: options.headers, signal: AbortSignal.timeout(options.timeoutMs), redirect: "follow" });
      last = { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
      if (!RETRIED_STATUSES.has(res.status)) return last;
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      last = { error: e.name === "TimeoutError" ? `no answer within ${options.timeoutMs} ms` : (e.cause?.code ?? e.message) };
    }
  }
  return last;
}

export function isError(a: Answer | { error: string }): a is { error: string } {
  return "error" in a;
}

export interface PoolOptions {
  concurrency: number;
  /** Most task starts per second; 0 = no limit. */
  ratePerSecond?: number;
}

/** Runs `task` on every item, at most `concurrency` at once and at most `ratePerSecond` started per second. */
export async function runPool<T>(
  items: readonly T[],
  options: PoolOptions,
  task: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const interval = options.ratePerSecond ? 1000 / options.ratePerSecond : 0;
  let nextStart = Date.now();
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      if (interval > 0) {
        const wait = nextStart - Date.now();
        nextStart = Math.max(nextStart, Date.now()) + interval;
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      await task(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, items.length)) }, worker));
}

/** A whole number option from 0 (or `min`) to `max`, or the command's usage error. */
export function wholeNumberOption(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
  error: (m: string) => Error,
): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max)
    throw error(`--${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  return Number(raw);
}

/** A base URL without its trailing slashes, or the command's usage error. */
export function baseUrlOption(name: string, raw: string | undefined, error: (m: string) => Error): string {
  if (raw === undefined) throw error(`--${name} <base URL> is required`);
  if (!/^https?:\/\/[^/]+/i.test(raw)) throw error(`--${name} must be an http(s):// URL, got "${raw}"`);
  return raw.replace(/\/+$/, "");
}
