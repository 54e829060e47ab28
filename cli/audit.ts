/**
 * The migration audit: for every distinct thumbor URL found in a list or an access log, would
 * edge-resizer serve it as thumbor did (`identical`), differently in a known way
 * (`approximate`, with the features that differ), or not at all (`broken`, with the reason the
 * viewer-request handler would give)?
 *
 * Nothing here re-implements thumbor's grammar or the routing: each path goes through the real
 * request planner (request-plan.ts) with the settings the team will deploy, so the audit answers
 * exactly what the handler would. The approximate features come from cli/approximations.ts, the
 * same table the compatibility doc follows. Pure: no files, no network, no AWS.
 */
import { isRequestError, RequestError } from "../handlers/core/errors.js";
import { FILTERS_WITH_IMAGES } from "../handlers/core/filter-registry.js";
import { parseFilterList } from "../handlers/url/filters.js";
import type { FilterCall } from "../handlers/core/plan.js";
import { createRequestPlanner, type RequestPlanner } from "../handlers/url/request-plan.js";
import { filterImageKey } from "../handlers/core/image-path.js";
import type { Settings } from "../handlers/core/settings.js";
import { parseThumborPath } from "../handlers/url/thumbor-url.js";
import { APPROXIMATE_FEATURES, approximateFeaturesOf } from "./approximations.js";
import { LogReader } from "./log-formats.js";

export { extractThumborUrls, LogReader } from "./log-formats.js";
export { APPROXIMATE_FEATURES } from "./approximations.js";

export type UrlStatus = "identical" | "approximate" | "broken";
/** Worst first: the order of the report. */
export const STATUSES: readonly UrlStatus[] = ["broken", "approximate", "identical"];

export interface UrlVerdict {
  status: UrlStatus;
  /** Approximate features the URL uses (empty unless `approximate`). */
  features: string[];
  /** Why it breaks: the handler's own short reason. */
  reason?: string;
  /** The HTTP status the handler would answer a broken URL with. */
  httpStatus?: number;
  /** The variant key the URL maps to (identical and approximate URLs). */
  variantKey?: string;
}

/**
 * Classifies one raw request path (percent-encoded, no query string) under `settings`.
 * Returns null when the path is not a thumbor URL at all (a plain original, `/favicon.ico`, a
 * health check, a variant key): the handler passes those through and the audit ignores them.
 */
export function classifyThumborUrl(path: string, settings: Settings, planner: RequestPlanner = plannerFor(settings)): UrlVerdict | null {
  if (!path.startsWith("/") || path === "/" || path.startsWith(`/${settings.variantPrefix}/`)) return null;
  let route;
  try {
    // No Accept header: the output format is irrelevant to whether and how a URL is served.
    route = planner.plan(path, "", undefined);
  } catch (err) {
    return brokenVerdict(path, err, settings);
  }
  if (route.kind !== "variant") return null;
  try {
    checkFilterImages(route.plan.filters, settings);
    checkOriginalKind(route.plan.source, settings);
  } catch (err) {
    return brokenVerdict(path, err, settings);
  }
  const url = parseThumborPath(path);
  const calls: FilterCall[] = url.filters === null ? [] : parseFilterList(url.filters, { strict: false });
  const features = approximateFeaturesOf({ plan: route.plan, url, calls, settings });
  return { status: features.length > 0 ? "approximate" : "identical", features, variantKey: route.key };
}

/**
 * The image a watermark or frame names is mapped to a bucket key only when the variant is
 * rendered (origin-response), after the viewer side accepted the URL. The mapping needs no
 * bucket, so the audit runs the render's own mapping (image-path.ts `filterImageKey`) and reports
 * the 400 the render would answer for a URL it cannot map.
 */
function checkFilterImages(filters: readonly FilterCall[], settings: Settings): void {
  for (const call of filters) {
    if (!FILTERS_WITH_IMAGES.has(call.name)) continue;
    filterImageKey(call.name, String(call.args[0]), settings.thumbor);
  }
}

/**
 * Originals the render refuses whatever the URL says (pipeline.ts reads the header and answers
 * 4xx): HEVC-coded HEIC, which sharp's build cannot decode, and SVG unless `allowSvg`. The audit
 * has no bucket, so it judges from the extension, and says so in the reason.
 */
function checkOriginalKind(source: string, settings: Settings): void {
  if (/\.heic$/i.test(source)) {
    throw new RequestError(400, "HEIC (HEVC) originals cannot be decoded here (judged from the .heic extension)");
  }
  if (/\.svg$/i.test(source) && !settings.allowSvg) {
    throw new RequestError(415, "SVG originals are not enabled (allowSvg) (judged from the .svg extension)");
  }
}

function brokenVerdict(path: string, err: unknown, settings: Settings): UrlVerdict {
  if (!isRequestError(err)) {
    // A bug in the handler's own code: it would answer 500. Say so rather than crash the audit.
    return {
      status: "broken",
      features: [],
      httpStatus: 500,
      reason: `handler error: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  const keys = [settings.thumbor.securityKey, ...settings.thumbor.retiredSecurityKeys].filter((k) => k !== "");
  if (err.status === 403 && keys.length === 0 && !/^\/unsafe\//.test(path)) {
    return {
      status: "broken",
      features: [],
      httpStatus: 403,
      reason: "signed URL, but the settings have no thumbor.securityKey to check it (pass --settings with the key)",
    };
  }
  return { status: "broken", features: [], httpStatus: err.status, reason: err.reason };
}

/** One planner per settings object: compiling it per URL would dominate the audit's time. */
const planners = new WeakMap<Settings, RequestPlanner>();
function plannerFor(settings: Settings): RequestPlanner {
  let planner = planners.get(settings);
  if (!planner) planners.set(settings, (planner = createRequestPlanner(settings)));
  return planner;
}

export interface UrlEntry extends UrlVerdict {
  /** The raw request path, as found in the input. */
  url: string;
  /** How many requests (lines) asked for it. */
  count: number;
}

export interface Tally {
  urls: number;
  requests: number;
}

export interface AuditTotals {
  /** Lines read, blank and comment lines included. */
  lines: number;
  /** Requests for thumbor URLs. */
  requests: number;
  distinctUrls: number;
  /** Requests that are not thumbor URLs (originals, /favicon.ico, health checks, other methods). */
  ignored: number;
  statuses: Record<UrlStatus, Tally>;
  /** Per approximate feature, in the order of the approximations table. */
  features: Record<string, Tally>;
}

export interface AuditReport {
  /** Broken first, then approximate, then identical; most requested first within each. */
  urls: UrlEntry[];
  totals: AuditTotals;
}

/**
 * Accumulates an audit line by line, so a multi-GB log is read in bounded memory: only the
 * distinct URLs are kept, and each is classified once, the first time it is seen.
 */
export class Auditor {
  private readonly reader = new LogReader();
  private readonly planner: RequestPlanner;
  private readonly seen = new Map<string, UrlEntry>();
  private lines = 0;
  private ignored = 0;

  constructor(private readonly settings: Settings) {
    this.planner = plannerFor(settings);
  }

  addLine(line: string): void {
    this.lines++;
    const requests = this.reader.read(line);
    if (requests.length === 0 && isRequestLike(line)) this.ignored++;
    for (const { path } of requests) {
      const known = this.seen.get(path);
      if (known) {
        known.count++;
        continue;
      }
      const verdict = classifyThumborUrl(path, this.settings, this.planner);
      if (verdict === null) {
        this.ignored++;
        continue;
      }
      this.seen.set(path, { url: path, count: 1, ...verdict });
    }
  }

  report(): AuditReport {
    const urls = [...this.seen.values()].sort(
      (a, b) =>
        STATUSES.indexOf(a.status) - STATUSES.indexOf(b.status) || b.count - a.count || (a.url < b.url ? -1 : a.url > b.url ? 1 : 0),
    );
    const statuses = Object.fromEntries(STATUSES.map((s) => [s, { urls: 0, requests: 0 }])) as Record<UrlStatus, Tally>;
    const used = new Map<string, Tally>();
    let requests = 0;
    for (const u of urls) {
      requests += u.count;
      statuses[u.status].urls++;
      statuses[u.status].requests += u.count;
      for (const f of u.features) {
        let t = used.get(f);
        if (!t) used.set(f, (t = { urls: 0, requests: 0 }));
        t.urls++;
        t.requests += u.count;
      }
    }
    const features: Record<string, Tally> = {};
    for (const { feature } of APPROXIMATE_FEATURES) {
      const t = used.get(feature);
      if (t) features[feature] = t;
    }
    return { urls, totals: { lines: this.lines, requests, distinctUrls: urls.length, ignored: this.ignored, statuses, features } };
  }
}

/** A line that carries some request or entry (not blank, not a `#` header or comment). */
function isRequestLike(line: string): boolean {
  const text = line.trim();
  return text !== "" && !text.startsWith("#");
}

/** Audits a whole list of lines at once (tests, small inputs); the CLI streams through an Auditor. */
export function auditLines(lines: Iterable<string>, settings: Settings): AuditReport {
  const auditor = new Auditor(settings);
  for (const line of lines) auditor.addLine(line);
  return auditor.report();
}

/** 1 when any URL would break (or, with `strict`, would only be approximate); 0 otherwise. */
export function auditExitCode(report: AuditReport, strict = false): 0 | 1 {
  const { broken, approximate } = report.totals.statuses;
  return broken.urls > 0 || (strict && approximate.urls > 0) ? 1 : 0;
}

/** The machine-readable form: one JSON document (`--json`). */
export function reportToJson(report: AuditReport): unknown {
  return {
    urls: report.urls.map((u) => ({
      url: u.url,
      status: u.status,
      count: u.count,
      features: u.features,
      ...(u.reason !== undefined ? { reason: u.reason, httpStatus: u.httpStatus } : {}),
      ...(u.variantKey !== undefined ? { variantKey: u.variantKey } : {}),
    })),
    totals: report.totals,
  };
}

/** The human form: a compact table of URLs (broken first), then totals per status and per feature. */
export function formatReport(report: AuditReport): string {
  const out: string[] = [];
  const { totals } = report;
  if (report.urls.length === 0) {
    out.push(`No thumbor URLs found (${totals.lines} lines read, ${totals.ignored} ignored).`);
    return out.join("\n") + "\n";
  }
  const countWidth = Math.max(5, ...report.urls.map((u) => String(u.count).length));
  const urlWidth = Math.min(60, Math.max(3, ...report.urls.map((u) => u.url.length)));
  out.push(`${"STATUS".padEnd(11)}  ${"COUNT".padStart(countWidth)}  ${"URL".padEnd(urlWidth)}  DETAILS`);
  for (const u of report.urls) {
    const details = u.status === "broken" ? `${u.httpStatus} ${u.reason}` : u.features.join(", ");
    out.push(`${u.status.padEnd(11)}  ${String(u.count).padStart(countWidth)}  ${u.url.padEnd(urlWidth)}  ${details}`.trimEnd());
  }
  out.push("");
  out.push(
    `${totals.distinctUrls} distinct thumbor URLs in ${totals.requests} requests; ${totals.ignored} other requests ignored; ${totals.lines} lines read.`,
  );
  for (const s of STATUSES) out.push(`  ${s.padEnd(11)}  ${tally(totals.statuses[s])}`.trimEnd());
  const features = Object.entries(totals.features);
  if (features.length > 0) {
    out.push("Approximate features:");
    const width = Math.max(...features.map(([f]) => f.length));
    for (const [f, t] of features) {
      const why = APPROXIMATE_FEATURES.find((a) => a.feature === f)?.reason;
      out.push(`  ${f.padEnd(width)}  ${tally(t)}${why ? `  ${why}` : ""}`);
    }
  }
  return out.join("\n") + "\n";
}

function tally(t: Tally): string {
  return `${String(t.urls).padStart(6)} URL${t.urls === 1 ? " " : "s"} ${String(t.requests).padStart(9)} request${t.requests === 1 ? " " : "s"}`;
}
