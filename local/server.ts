/**
 * The local edge: one HTTP server in front of the real handlers and a real S3-compatible server,
 * playing CloudFront's part (see edge.ts), plus the playground page under paths the handlers
 * never see (`/` exactly and `/_edge/*`).
 */
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join, relative } from "node:path";
import { createOriginResponseHandler } from "../handlers/origin-response.js";
import { createViewerRequestHandler } from "../handlers/viewer-request.js";
import { clipText } from "../handlers/core/errors.js";
import { SECURITY_HEADERS } from "../handlers/cloudfront/security-headers.js";
import { DEFAULT_SETTINGS, settingsFor, type Settings } from "../handlers/core/settings.js";
import { isUnderVariantPrefix, parseVariantKey, uriToKey } from "../handlers/core/variant-key.js";
import { DEFAULT_DATA_DIR, LOCAL_BUCKET, SAMPLES_DIR, SAMPLES_PREFIX } from "./locations.js";
import { EdgeCache, type CacheStats } from "./cloudfront-cache.js";
import { S3HttpClient, type S3Answer, type S3ClientOptions } from "../handlers/s3/client.js";
import { LocalEdge, storableKey, type EdgeAnswer, type EdgeHandlers, type EdgeStats } from "./edge.js";
import { LocalPurger, purgeByHand, purgeRefusal } from "./purge.js";
import { LOCAL_REGION, S3RVER_CREDENTIALS, createS3Client, ensureBucket, startEmbeddedS3, type EmbeddedS3, type S3Target } from "./s3.js";
import { isImagePath, uploadFolder, type UploadResult } from "./upload-folder.js";
import { ignoredFilters } from "./ignored-filters.js";

export const DEFAULT_CACHE_BYTES = 256 * 1024 * 1024;
const PLAYGROUND_DIR = join(__dirname, "playground");
/**
 * The playground is a page of its own (its script, its inline styles, the images it fetches),
 * so it gets a policy of its own instead of the images' sandbox: nothing from elsewhere, no
 * inline script, and no framing by another site.
 */
export const PLAYGROUND_CSP =
  "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' blob: data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
/** Sizes of the playground's gallery when the settings have no allow-list. */
const GALLERY_SIZES = ["300x200", "200x300", "160x160"];

export interface LocalEdgeOptions {
  /** Port to listen on; 0 = any free port. Default 8080. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1 (loopback only). */
  host?: string;
  settings?: Settings;
  /** Folder of the embedded s3rver's data. Default `<repo>/.data/s3`. */
  dataDir?: string;
  /** An existing S3-compatible server (or AWS S3 when `endpoint` is undefined) instead of the embedded one. */
  s3?: { endpoint: string | undefined; bucket: string; region?: string };
  /** Upload `local/samples/` at start (skipping unchanged files). Default true. */
  uploadSamples?: boolean;
  /** Another folder of originals uploaded at start, at the bucket's root. */
  originals?: string;
  /** Byte budget of the CloudFront-like cache. Default 256 MiB. */
  cacheBytes?: number;
  /** The purge's second ("stale") pass after an original changes: a delay (default LOCAL_RECHECK_DELAY_MS) or a scheduler. */
  recheck?: number | ((run: () => void) => void);
  /** One line per request and per notable event. Default: console.log. */
  log?: (line: string) => void;
  /** Wraps or replaces the real handlers (tests inject broken ones to see the edge refuse their results). */
  handlers?: (real: EdgeHandlers) => EdgeHandlers;
  /** CloudFront's origin response timeout: S3 silent this long answers 504. Default 30 s, as CloudFront's. */
  originResponseTimeoutMs?: number;
}

export interface LocalEdgeStats extends EdgeStats {
  cache: CacheStats;
}

export interface LocalEdgeServer {
  /** `http://host:port` the edge answers on. */
  url: string;
  /** The bucket behind the edge (for the upload command and tests). */
  s3: S3Target;
  /** What the start-up uploads did (samples first, then `originals`). */
  uploads: UploadResult[];
  readonly stats: LocalEdgeStats;
  /** Purges variants and cache entries when originals change (and by hand: POST /_edge/purge). */
  purger: LocalPurger;
  close(): Promise<void>;
}

export class StartupError extends Error {
  override name = "StartupError";
}

/** What the start-up steps share. `cleanups` run in reverse on close, or at once when a later step fails. */
interface Startup {
  options: LocalEdgeOptions;
  settings: Settings;
  log: (line: string) => void;
  cleanups: Cleanups;
}

type Cleanups = (() => Promise<void>)[];

export async function startLocalEdge(options: LocalEdgeOptions = {}): Promise<LocalEdgeServer> {
  const startup: Startup = {
    options,
    settings: options.settings ?? DEFAULT_SETTINGS,
    log: options.log ?? ((line: string) => console.log(line)),
    cleanups: [],
  };
  const cleanup = async () => {
    for (const fn of startup.cleanups.splice(0).reverse()) await fn().catch(() => {});
  };

  try {
    const { s3, embedded } = await openBucket(options, startup.cleanups);
    const edge = createEdge(startup, s3);
    const purger = startPurger(startup, s3, edge.cache, embedded);
    const playground = new Playground(edge, startup.settings);
    const url = await listen(startup, createHttpServer(edge, playground, purger, startup.log));
    const uploads = await uploadAtStart(startup, s3, playground);
    return {
      url,
      s3,
      uploads,
      purger,
      get stats(): LocalEdgeStats {
        return { ...edge.stats, cache: { ...edge.cache.stats } };
      },
      close: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

async function openBucket(options: LocalEdgeOptions, cleanups: Cleanups): Promise<{ s3: S3Target; embedded?: EmbeddedS3 }> {
  let target: S3Target;
  let embedded: EmbeddedS3 | undefined;
  if (options.s3) {
    const region = options.s3.region ?? LOCAL_REGION;
    target = {
      client: createS3Client({ endpoint: options.s3.endpoint, region }),
      bucket: options.s3.bucket,
      region,
      endpoint: options.s3.endpoint,
    };
  } else {
    const started = await startEmbeddedS3(options.dataDir ?? DEFAULT_DATA_DIR, LOCAL_BUCKET, { announce: true });
    embedded = started;
    cleanups.push(() => started.close());
    target = {
      client: createS3Client({ endpoint: started.endpoint, region: LOCAL_REGION, credentials: S3RVER_CREDENTIALS }),
      bucket: LOCAL_BUCKET,
      region: LOCAL_REGION,
      endpoint: started.endpoint,
    };
  }
  cleanups.push(async () => target.client.destroy());
  await ensureBucket(target);
  return { s3: target, embedded };
}

/** The CloudFront-like edge in front of the real handlers (or what `options.handlers` makes of them). */
function createEdge({ options, settings, log, cleanups }: Startup, s3: S3Target): LocalEdge {
  // The handlers get their own client so the PUTs they make can be counted; against a real
  // bucket it signs with the credentials the SDK finds (profiles, SSO), as the local tools do.
  const handlerClient = new LocalHandlerS3Client(
    {
      endpoint: s3.endpoint,
      region: s3.region,
      credentials: options.s3 ? () => s3.client.config.credentials() : S3RVER_CREDENTIALS,
    },
    () => edge.stats,
  );
  cleanups.push(async () => handlerClient.destroy());
  const cache = new EdgeCache(options.cacheBytes ?? DEFAULT_CACHE_BYTES);
  const realHandlers: EdgeHandlers = {
    // Each function with its own share of the settings, as the build bakes them.
    viewerRequest: createViewerRequestHandler(settingsFor("viewer-request", settings)),
    originResponse: createOriginResponseHandler(settingsFor("origin-response", settings), { s3Client: () => handlerClient }),
  };
  const edge = new LocalEdge(
    options.handlers ? options.handlers(realHandlers) : realHandlers,
    s3,
    { domainName: "localhost", distributionId: "LOCALEDGE", bucket: s3.bucket, region: s3.region },
    cache,
    uriToKey,
    log,
    options.originResponseTimeoutMs,
  );
  return edge;
}

/** The handlers' S3 client, counting their PUTs and answering GETs of keys the local store cannot hold as S3 would. */
class LocalHandlerS3Client extends S3HttpClient {
  constructor(
    options: S3ClientOptions,
    private readonly stats: () => EdgeStats,
  ) {
    super(options);
  }
  override get(bucket: string, key: string, options?: { signal?: AbortSignal; maxBytes?: number }): Promise<S3Answer> {
    if (storableKey(key)) return super.get(bucket, key, options);
    return Promise.resolve({ status: 404, headers: {}, body: Buffer.from("<Error><Code>NoSuchKey</Code></Error>") });
  }
  override put(bucket: string, key: string, body: Buffer, headers: Record<string, string>, signal?: AbortSignal): Promise<S3Answer> {
    this.stats().s3Puts++;
    return super.put(bucket, key, body, headers, signal);
  }
}

/** The purger; only the embedded S3 tells it of changed originals (another S3 gets purged by hand). */
function startPurger(
  { options, settings, log, cleanups }: Startup,
  s3: S3Target,
  cache: EdgeCache,
  embedded: EmbeddedS3 | undefined,
): LocalPurger {
  const purger = new LocalPurger(s3, cache, settings, log, options.recheck);
  cleanups.push(async () => purger.close());
  embedded?.onObjectEvent((event) => purger.onS3Event(event));
  return purger;
}

/** The HTTP server; a request that throws gets a 500 and a log line, never a crashed edge. */
function createHttpServer(edge: LocalEdge, playground: Playground, purger: LocalPurger, log: (line: string) => void): Server {
  const server = createServer((req, res) => {
    serve(req, res, edge, playground, purger, log).catch((err) => {
      log(`local edge failed on ${req.method} ${req.url}: ${(err as Error).stack ?? String(err)}`);
      if (!res.headersSent) res.writeHead(500, { ...SECURITY_HEADERS, "content-type": "text/plain; charset=utf-8" });
      res.end("500 local edge failure (see its log)\n");
    });
  });
  server.keepAliveTimeout = 5_000;
  return server;
}

/** Starts `server` listening and returns the edge's URL; a port that cannot be had is a StartupError (the CLI prints it alone). */
async function listen({ options, cleanups }: Startup, server: Server): Promise<string> {
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? 8080;
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      rejectListen(
        err.code === "EADDRINUSE"
          ? new StartupError(`port ${port} is in use; set PORT`)
          : new StartupError(`cannot listen on ${host}:${port}: ${err.code ?? err.message}`),
      );
    });
    server.listen(port, host, () => resolveListen());
  });
  cleanups.push(
    () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  );
  const address = server.address() as AddressInfo;
  return `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
}

/** The start-up uploads: the samples first (the playground's gallery shows their keys), then `options.originals`. */
async function uploadAtStart({ options, settings, log }: Startup, s3: S3Target, playground: Playground): Promise<UploadResult[]> {
  const uploads: UploadResult[] = [];
  if (options.uploadSamples ?? true) {
    const samples = await uploadAndLog(s3, settings, log, SAMPLES_DIR, SAMPLES_PREFIX, isImagePath);
    uploads.push(samples);
    playground.samples = samples.keys;
  }
  if (options.originals) uploads.push(await uploadAndLog(s3, settings, log, options.originals, ""));
  return uploads;
}

/** Uploads one folder; logs only when something was uploaded or refused, so a restart with nothing new stays quiet. */
async function uploadAndLog(
  s3: S3Target,
  settings: Settings,
  log: (line: string) => void,
  folder: string,
  prefix: string,
  filter?: (p: string) => boolean,
): Promise<UploadResult> {
  const result = await uploadFolder({
    client: s3.client,
    bucket: s3.bucket,
    folder,
    prefix,
    variantPrefix: settings.variantPrefix,
    filter,
  });
  if (result.uploaded > 0 || result.refused.length > 0) {
    log(
      `uploaded ${result.uploaded} of ${result.total} files from ${relative(process.cwd(), folder) || "."} (${result.unchanged} unchanged${result.refused.length ? `, ${result.refused.length} refused under "${settings.variantPrefix}/"` : ""})`,
    );
  }
  return result;
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  edge: LocalEdge,
  playground: Playground,
  purger: LocalPurger,
  log: (line: string) => void,
): Promise<void> {
  const started = performance.now();
  const method = req.method ?? "GET";
  const url = req.url ?? "/";
  const path = url.split("?", 1)[0]!;
  if (path === "/_edge/purge" && method === "POST") {
    const refused = purgeRefusal(req.headers);
    const { status, body } = refused ? { status: 403, body: JSON.stringify({ error: refused }) } : await purgeByHand(purger, req);
    send(
      res,
      method,
      status,
      new Map([
        ["content-type", ["application/json; charset=utf-8"]],
        ["cache-control", ["no-store"]],
      ]),
      Buffer.from(body),
    );
    log(`${method} ${path} ${status}`);
    return;
  }
  if (path === "/" || path.startsWith("/_edge/")) {
    const status = await playground.serve(req, res, url);
    log(`${method} ${short(url)} ${status} playground ${(performance.now() - started).toFixed(0)} ms`);
    return;
  }
  if (method !== "GET" && method !== "HEAD") {
    // The resizer's cache behaviour allows GET and HEAD only; CloudFront refuses the rest itself.
    send(
      res,
      method,
      403,
      new Map([["content-type", ["text/plain; charset=utf-8"]]]),
      Buffer.from("403 this distribution only allows GET and HEAD\n"),
    );
    log(`${method} ${short(url)} 403 method not allowed`);
    return;
  }
  // A change to an original is purged before any later request is answered (as soon as on CloudFront, sooner).
  await purger.idle();
  // A viewer that hangs up before its answer is sent must not keep the S3 GET behind it open.
  const viewerGone = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) viewerGone.abort();
  });
  const viewer = { method, url, rawHeaders: req.rawHeaders, clientIp: req.socket.remoteAddress ?? "127.0.0.1" };
  const answer = await edge.handle(viewer, viewerGone.signal);
  const ms = performance.now() - started;
  sendEdgeAnswer(res, method, answer, ms);
  const r = answer.response;
  log(
    `${method} ${short(url)} ${r.status} ${r.headers.get("content-type")?.[0] ?? "-"} ${r.body.length} B ${answer.xCache.split(" ")[0]} ${ms.toFixed(0)} ms`,
  );
}

function sendEdgeAnswer(res: ServerResponse, method: string, answer: EdgeAnswer, ms: number): void {
  const headers = new Map(answer.response.headers);
  headers.set("x-cache", [answer.xCache]);
  headers.set("via", ["1.1 local-edge (CloudFront)"]);
  headers.set("x-amz-cf-pop", ["LOCAL"]);
  headers.set("x-amz-cf-id", [answer.requestId]);
  headers.set("server-timing", [`edge;dur=${ms.toFixed(1)}`]);
  if (answer.age !== undefined) headers.set("age", [String(answer.age)]);
  send(res, method, answer.response.status, headers, answer.response.body);
}

/** Every answer carries the distribution's security headers (a playground page sets its own policy). */
function send(res: ServerResponse, method: string, status: number, headers: Map<string, string[]>, body: Buffer): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
  for (const [name, values] of headers) res.setHeader(name, values);
  res.setHeader("content-length", body.length);
  res.writeHead(status);
  res.end(method === "HEAD" ? undefined : body);
}

/** A URL in a log line: at most 117 characters and the "..." that says it was cut. */
function short(url: string): string {
  return clipText(url, 117);
}

/** The playground page and its JSON endpoints. */
class Playground {
  /** Keys of the sample originals, for the gallery (set once they are uploaded). */
  samples: string[] = [];

  constructor(
    private readonly edge: LocalEdge,
    private readonly settings: Settings,
  ) {}

  /** Answers one playground request; returns the status sent. */
  async serve(req: IncomingMessage, res: ServerResponse, url: string): Promise<number> {
    const method = req.method ?? "GET";
    if (method !== "GET" && method !== "HEAD") return this.reply(res, method, 405, "text/plain; charset=utf-8", "405 GET or HEAD only\n");
    const parsed = new URL(url, "http://local-edge");
    switch (parsed.pathname) {
      case "/":
        return this.reply(res, method, 200, "text/html; charset=utf-8", await readFile(join(PLAYGROUND_DIR, "index.html")));
      case "/_edge/playground.js":
        return this.reply(res, method, 200, "text/javascript; charset=utf-8", await readFile(join(PLAYGROUND_DIR, "playground.js")));
      case "/_edge/samples":
        return this.json(res, method, 200, {
          samples: this.samples,
          sizes: this.settings.sizes.length > 0 ? this.settings.sizes.slice(0, 3) : GALLERY_SIZES,
          allowUnsafe: this.settings.thumbor.allowUnsafe,
        });
      case "/_edge/stats":
        return this.json(res, method, 200, { ...this.edge.stats, cache: this.edge.cache.stats });
      case "/_edge/explain": {
        const asked = parsed.searchParams.get("url");
        if (!asked) return this.json(res, method, 400, { error: "give the URL to explain as ?url=" });
        return this.json(
          res,
          method,
          200,
          await this.explain(asked, parsed.searchParams.get("accept") ?? req.headers.accept ?? "*/*", req.headers.host ?? "localhost"),
        );
      }
      default:
        return this.reply(res, method, 404, "text/plain; charset=utf-8", "404 no such playground page\n");
    }
  }

  /**
   * What the viewer-request handler makes of a URL: the canonical key (and the plan it decodes
   * to) or its refusal. A full URL is reduced to its path and query, kept byte for byte.
   */
  async explain(asked: string, accept: string, host: string): Promise<object> {
    let target = asked
      .trim()
      .replace(/^https?:\/\/[^/?#]*/i, "")
      .replace(/#.*$/, "");
    if (!target.startsWith("/")) target = "/" + target;
    const outcome = await this.edge.viewerRequest({
      method: "GET",
      url: target,
      rawHeaders: ["Host", host, "Accept", accept],
      clientIp: "127.0.0.1",
    });
    if (outcome.kind === "response") {
      const body =
        outcome.response.bodyEncoding === "base64"
          ? Buffer.from(outcome.response.body ?? "", "base64").toString()
          : (outcome.response.body ?? "");
      return { target, accept, refused: { status: Number(outcome.response.status), reason: body.trim() } };
    }
    const uri = outcome.request.uri;
    let key: string | undefined;
    try {
      key = uriToKey(uri);
    } catch {
      key = undefined;
    }
    const variant = key !== undefined && isUnderVariantPrefix(key, this.settings);
    let plan: unknown = null;
    if (variant) {
      try {
        plan = parseVariantKey(key!, this.settings);
      } catch {
        plan = null;
      }
    }
    return { target, accept, uri, key, variant, plan, ignoredFilters: ignoredFilters(target.replace(/\?.*$/, ""), this.settings) };
  }

  private json(res: ServerResponse, method: string, status: number, value: unknown): number {
    return this.reply(res, method, status, "application/json; charset=utf-8", JSON.stringify(value, null, 2));
  }

  private reply(res: ServerResponse, method: string, status: number, type: string, body: string | Buffer): number {
    send(
      res,
      method,
      status,
      new Map([
        ["content-type", [type]],
        ["cache-control", ["no-store"]],
        ["content-security-policy", [PLAYGROUND_CSP]],
      ]),
      Buffer.isBuffer(body) ? body : Buffer.from(body),
    );
    return status;
  }
}
