/**
 * A CloudFront-like edge cache for the local edge: entries keyed by the (rewritten) cache key,
 * a lifetime taken from the origin's Cache-Control the way CloudFront reads it, least recently
 * used entries evicted once the bodies exceed a byte budget, and concurrent misses for one key
 * collapsed into a single origin trip (CloudFront's "request collapsing").
 *
 * Knows nothing of HTTP servers, S3 or the handlers: the origin trip is a function it is given.
 */

/** One answer as the cache keeps it: status, headers (lower-case names), body bytes. */
export interface EdgeResponse {
  status: number;
  /** Lower-case header name → values, in the order the origin gave them. */
  headers: Map<string, string[]>;
  body: Buffer;
}

/** CloudFront's defaults (CachingOptimized policy, default error caching). */
export interface TtlPolicy {
  /** Lifetime when a 2xx/3xx answer carries no max-age / s-maxage (CachingOptimized: 1 day). */
  defaultTtl: number;
  /** Upper bound of any lifetime (CachingOptimized: 1 year). */
  maxTtl: number;
  /** Lifetime of an error (4xx/5xx) without max-age (Error Caching Minimum TTL, default 10 s). */
  errorTtl: number;
}

export const CLOUDFRONT_TTLS: TtlPolicy = { defaultTtl: 86_400, maxTtl: 31_536_000, errorTtl: 10 };

/**
 * How long (seconds) CloudFront keeps an answer; 0 = not cached.
 * `no-store`, `no-cache` and `private` are not cached (min TTL 0, as the resizer's policy);
 * `s-maxage` wins over `max-age`; 416 is never cached (CloudFront's rule).
 */
export function cacheLifetime(status: number, cacheControl: string | undefined, policy: TtlPolicy = CLOUDFRONT_TTLS): number {
  if (status === 416 || status === 206) return 0;
  const directives = new Map<string, string | undefined>();
  for (const part of (cacheControl ?? "").split(",")) {
    const [name, value] = part.trim().split("=", 2) as [string, string | undefined];
    if (name) directives.set(name.toLowerCase(), value?.replace(/^"|"$/g, ""));
  }
  if (directives.has("no-store") || directives.has("no-cache") || directives.has("private")) return 0;
  const seconds = (name: string): number | undefined => {
    const v = directives.get(name);
    return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
  };
  const explicit = seconds("s-maxage") ?? seconds("max-age");
  const ttl = explicit ?? (status >= 400 ? policy.errorTtl : policy.defaultTtl);
  return Math.min(ttl, policy.maxTtl);
}

interface Entry {
  response: EdgeResponse;
  storedAt: number;
  expiresAt: number;
  bytes: number;
}

/** Where an answer came from, for `x-cache`. */
export type CacheOutcome = "Hit" | "Miss";

export interface CacheResult {
  response: EdgeResponse;
  outcome: CacheOutcome;
  /** Seconds the answer has spent in the cache (CloudFront's `age` header on hits). */
  age: number;
}

export interface CacheStats {
  hits: number;
  misses: number;
  /** Requests that waited for another request's origin trip instead of making their own. */
  collapsed: number;
  evictions: number;
  entries: number;
  bytes: number;
}

export class EdgeCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<EdgeResponse>>();
  private bytes = 0;
  readonly stats: CacheStats = { hits: 0, misses: 0, collapsed: 0, evictions: 0, entries: 0, bytes: 0 };

  constructor(
    /** Budget for the stored entries (bodies plus headers), in bytes. */
    readonly maxBytes: number,
    private readonly policy: TtlPolicy = CLOUDFRONT_TTLS,
    private readonly now: () => number = Date.now,
  ) {
    if (!(Number.isInteger(maxBytes) && maxBytes >= 0)) throw new RangeError(`cache size must be a whole number of bytes, got ${maxBytes}`);
  }

  /**
   * The cached answer for `key`, or the answer of one origin trip shared by every request
   * that misses on `key` while it runs. If that answer turns out not cacheable, the requests
   * that waited make their own trips, as CloudFront does for `no-store` answers.
   */
  async get(key: string, fetchFromOrigin: () => Promise<EdgeResponse>): Promise<CacheResult> {
    const cached = this.lookup(key);
    if (cached) {
      this.stats.hits++;
      return { response: cached.response, outcome: "Hit", age: Math.floor((this.now() - cached.storedAt) / 1000) };
    }
    const pending = this.inFlight.get(key);
    if (pending) {
      const response = await pending.catch(() => undefined);
      const stored = response && this.lookup(key);
      if (stored) {
        this.stats.collapsed++;
        this.stats.hits++;
        return { response: stored.response, outcome: "Hit", age: 0 };
      }
    }
    this.stats.misses++;
    const trip = fetchFromOrigin().then((response) => {
      this.store(key, response);
      return response;
    });
    if (!this.inFlight.has(key)) {
      this.inFlight.set(key, trip);
      const forget = () => {
        if (this.inFlight.get(key) === trip) this.inFlight.delete(key);
      };
      trip.then(forget, forget);
    }
    return { response: await trip, outcome: "Miss", age: 0 };
  }

  /**
   * CloudFront's invalidation: each path removes the entry with exactly that key, or, ending in
   * "*", every entry whose key starts with what precedes it. Returns how many entries went.
   */
  invalidate(paths: readonly string[]): number {
    let removed = 0;
    for (const [key, entry] of [...this.entries]) {
      if (paths.some((p) => (p.endsWith("*") ? key.startsWith(p.slice(0, -1)) : key === p))) {
        this.remove(key, entry);
        removed++;
      }
    }
    return removed;
  }

  /** The cache keys (URIs, as spelled) that hold an answer now. */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** Drops everything (the local equivalent of an invalidation of `/*`). */
  clear(): void {
    this.entries.clear();
    this.bytes = 0;
    this.sync();
  }

  private lookup(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.remove(key, entry);
      return undefined;
    }
    // Re-insert to mark it most recently used (a Map iterates in insertion order).
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  private store(key: string, response: EdgeResponse): void {
    const ttl = cacheLifetime(response.status, response.headers.get("cache-control")?.join(", "), this.policy);
    const old = this.entries.get(key);
    if (old) this.remove(key, old);
    const bytes = entrySize(key, response);
    if (ttl <= 0 || bytes > this.maxBytes) return;
    const storedAt = this.now();
    this.entries.set(key, { response, storedAt, expiresAt: storedAt + ttl * 1000, bytes });
    this.bytes += bytes;
    for (const [oldestKey, oldest] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.remove(oldestKey, oldest);
      this.stats.evictions++;
    }
    this.sync();
  }

  private remove(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.bytes -= entry.bytes;
    this.sync();
  }

  private sync(): void {
    this.stats.entries = this.entries.size;
    this.stats.bytes = this.bytes;
  }
}

function entrySize(key: string, response: EdgeResponse): number {
  let size = response.body.length + key.length;
  for (const [name, values] of response.headers) for (const v of values) size += name.length + v.length;
  return size;
}
