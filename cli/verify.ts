/**
 * `edge-resizer verify <urls | access log> --old <thumbor base URL> --new <edge base URL>`: asks
 * the old thumbor and the new edge for every URL, with the same Accept, and says for each whether
 * the answers are identical, close, different or broken, with the numbers behind the verdict.
 *
 *   identical  the same status and, for images, the same pixels (or bytes)
 *   close      same status, format and size; PSNR and SSIM at or above the thresholds
 *   different  anything else both sides answered (another status, format, size, or pixels)
 *   broken     the new side failed where the old one served an image: no answer, a 5xx, a 4xx,
 *              or a body that does not decode
 *
 * Exit status: 0 when no URL is at or beyond `--fail-on` (default "different"), 1 otherwise, 2 when
 * it could not run.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseCommandArgs } from "./args.js";
import { compareImages, UndecodableImage, type ImageComparison } from "./image-compare.js";
import type { CommandIo } from "./migrate-config-command.js";
import { createProgressBar, renderBar, type ProgressTarget } from "./progress.js";
import {
  baseUrlOption,
  BROWSER_IMAGE_ACCEPT,
  getWithRetries,
  isError,
  readRequestPaths,
  runPool,
  wholeNumberOption,
  type Answer,
} from "./requests.js";
import { verifyReportHtml } from "./verify-report.js";

export const VERDICTS = ["identical", "close", "different", "broken"] as const;
export type Verdict = (typeof VERDICTS)[number];

export const VERIFY_USAGE =
  "usage: edge-resizer verify <urls|access log|-> --old <thumbor URL> --new <edge URL> [--out <dir>] [--accept <value>] [--concurrency N] [--retries N] [--min-psnr dB] [--min-ssim S] [--fail-on close|different|broken]";
export const VERIFY_HELP = `${VERIFY_USAGE}

Fetches every distinct URL of the list or log from the old thumbor and from the new edge (with
the same Accept), compares status, format, size and pixels (PSNR and SSIM), and classifies each:
identical, close (PSNR >= --min-psnr, default 35 dB, and SSIM >= --min-ssim, default 0.95),
different, or broken (the edge fails where thumbor served an image). The new side may be the
local edge (npm start) before anything is deployed.

  --out <dir>          writes verify.json and verify.html (worst cases side by side); default verify-report
  --accept <value>     the Accept sent to both (default: a browser's image Accept)
  --concurrency N      URLs in flight at once (default 4)
  --retries N          further tries after a network error or a 502/503/504 (default 2)
  --timeout-ms N       per request (default 30000)
  --fail-on <verdict>  exit 1 when any URL is this or worse (default different)

Exit status: 0 no URL at or beyond --fail-on, 1 some are, 2 error.
`;

export interface Side {
  status: number | null;
  contentType: string | null;
  bytes: number;
  error?: string;
}

export interface VerifyEntry {
  path: string;
  verdict: Verdict;
  reason: string;
  old: Side;
  new: Side;
  comparison?: ImageComparison;
}

export interface Thresholds {
  minPsnr: number;
  minSsim: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = { minPsnr: 35, minSsim: 0.95 };

/** The verdict on one URL from both answers. */
export async function judge(
  path: string,
  oldA: Answer | { error: string },
  newA: Answer | { error: string },
  t: Thresholds,
): Promise<VerifyEntry> {
  const entry = (verdict: Verdict, reason: string, comparison?: ImageComparison): VerifyEntry => ({
    path,
    verdict,
    reason,
    old: side(oldA),
    new: side(newA),
    ...(comparison ? { comparison } : {}),
  });
  const oldServed = !isError(oldA) && oldA.status >= 200 && oldA.status < 300;
  if (isError(newA)) return entry(oldServed ? "broken" : "different", `the edge did not answer: ${newA.error}`);
  if (isError(oldA)) return entry("different", `thumbor did not answer: ${oldA.error}`);
  if (oldA.status !== newA.status) {
    const failed = newA.status >= 400 && oldServed;
    return entry(failed ? "broken" : "different", `status ${oldA.status} → ${newA.status}`);
  }
  if (!oldServed) return entry("identical", `both answer ${oldA.status}`);
  if (oldA.body.equals(newA.body)) return entry("identical", "the same bytes");
  let c: ImageComparison;
  try {
    c = await compareImages(oldA.body, newA.body);
  } catch (err) {
    if (!(err instanceof UndecodableImage)) throw err;
    return err.side === "new" ? entry("broken", err.message) : entry("different", err.message);
  }
  if (c.old.format !== c.new.format) return entry("different", `format ${c.old.format} → ${c.new.format}`, c);
  if (c.psnr === undefined || c.ssim === undefined) {
    return entry("different", `size ${c.old.width}x${c.old.height} → ${c.new.width}x${c.new.height}`, c);
  }
  const numbers = `PSNR ${c.psnr === Infinity ? "∞" : c.psnr.toFixed(1)} dB, SSIM ${c.ssim.toFixed(4)}`;
  if (c.psnr === Infinity) return entry("identical", "the same pixels", c);
  if (c.psnr >= t.minPsnr && c.ssim >= t.minSsim) return entry("close", numbers, c);
  return entry("different", numbers, c);
}

function side(a: Answer | { error: string }): Side {
  if (isError(a)) return { status: null, contentType: null, bytes: 0, error: a.error };
  return { status: a.status, contentType: a.headers.get("content-type"), bytes: a.body.length };
}

/** How bad a verdict is, for sorting and for --fail-on. */
export function severity(v: Verdict): number {
  return VERDICTS.indexOf(v);
}

/** Worst first; among images of the same verdict, the lowest PSNR first. */
export function worstFirst(a: VerifyEntry, b: VerifyEntry): number {
  return severity(b.verdict) - severity(a.verdict) || (a.comparison?.psnr ?? Infinity) - (b.comparison?.psnr ?? Infinity);
}

class VerifyUsageError extends Error {}

interface VerifyOptions {
  file: string;
  oldBase: string;
  newBase: string;
  outDir: string;
  accept: string;
  concurrency: number;
  retries: number;
  timeoutMs: number;
  thresholds: Thresholds;
  failOn: Verdict;
}

function parseVerifyArgs(argv: string[]): VerifyOptions | "help" {
  const err = (m: string) => new VerifyUsageError(m);
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      old: { type: "string" },
      new: { type: "string" },
      out: { type: "string" },
      accept: { type: "string" },
      concurrency: { type: "string" },
      retries: { type: "string" },
      "timeout-ms": { type: "string" },
      "min-psnr": { type: "string" },
      "min-ssim": { type: "string" },
      "fail-on": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    err,
  );
  if (values.help) return "help";
  if (positionals.length !== 1) throw err(`verify reads one list or log, got ${positionals.length}`);
  const failOn = (values["fail-on"] ?? "different") as Verdict;
  if (!VERDICTS.slice(1).includes(failOn)) throw err(`--fail-on must be close, different or broken, got "${failOn}"`);
  const minPsnr = Number(values["min-psnr"] ?? DEFAULT_THRESHOLDS.minPsnr);
  const minSsim = Number(values["min-ssim"] ?? DEFAULT_THRESHOLDS.minSsim);
  if (!(minPsnr > 0 && minPsnr < 100)) throw err(`--min-psnr must be a number of dB from 0 to 100, got "${values["min-psnr"]}"`);
  if (!(minSsim > 0 && minSsim <= 1)) throw err(`--min-ssim must be a number above 0 up to 1, got "${values["min-ssim"]}"`);
  return {
    file: positionals[0]!,
    oldBase: baseUrlOption("old", values.old, err),
    newBase: baseUrlOption("new", values.new, err),
    outDir: values.out ?? "verify-report",
    accept: values.accept ?? BROWSER_IMAGE_ACCEPT,
    concurrency: wholeNumberOption("concurrency", values.concurrency, 4, 1, 256, err),
    retries: wholeNumberOption("retries", values.retries, 2, 0, 10, err),
    timeoutMs: wholeNumberOption("timeout-ms", values["timeout-ms"], 30_000, 1, 600_000, err),
    thresholds: { minPsnr, minSsim },
    failOn,
  };
}

/** Both answers of the worst cases, kept for the HTML report (images side by side). */
const KEPT_BODIES = 24;

export async function runVerify(argv: string[], io: CommandIo & { progress?: ProgressTarget }): Promise<number> {
  let options: VerifyOptions | "help";
  try {
    options = parseVerifyArgs(argv);
  } catch (err) {
    if (!(err instanceof VerifyUsageError)) throw err;
    io.stderr(`edge-resizer verify: ${err.message} (${VERIFY_USAGE})\n`);
    return 2;
  }
  if (options === "help") {
    io.stdout(VERIFY_HELP);
    return 0;
  }
  let paths: string[];
  try {
    paths = await readRequestPaths(options.file);
  } catch (err) {
    io.stderr(`edge-resizer verify: cannot read ${options.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
    return 2;
  }
  const { entries, bodies } = await verifyAll(paths, options, io.progress);
  const sorted = [...entries].sort(worstFirst);
  const report = {
    old: options.oldBase,
    new: options.newBase,
    accept: options.accept,
    thresholds: options.thresholds,
    totals: totals(entries),
    entries: sorted,
  };
  mkdirSync(options.outDir, { recursive: true });
  writeFileSync(join(options.outDir, "verify.json"), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(options.outDir, "verify.html"), verifyReportHtml(report, bodies));
  io.stdout(formatSummary(report.totals, sorted, options.outDir));
  return sorted.some((e) => severity(e.verdict) >= severity(options.failOn)) ? 1 : 0;
}

async function verifyAll(paths: string[], o: VerifyOptions, progressOut: ProgressTarget | undefined) {
  const entries: VerifyEntry[] = [];
  const bodies = new Map<string, { old: Answer; new: Answer }>();
  const fetchOptions = { headers: { accept: o.accept }, retries: o.retries, timeoutMs: o.timeoutMs };
  const progress = createProgressBar(progressOut ?? { write: () => true }, paths.length, Date.now, {
    minTotal: 1,
    render: (d, t) => `${renderBar(d, t)}  ${d} / ${t} URLs`,
  });
  await runPool(paths, { concurrency: o.concurrency }, async (path) => {
    const [oldA, newA] = await Promise.all([
      getWithRetries(o.oldBase + path, fetchOptions),
      getWithRetries(o.newBase + path, fetchOptions),
    ]);
    const entry = await judge(path, oldA, newA, o.thresholds);
    entries.push(entry);
    if (entry.verdict !== "identical" && !isError(oldA) && !isError(newA)) keepWorst(bodies, entries, entry, { old: oldA, new: newA });
    progress.update(entries.length);
  });
  progress.done();
  return { entries, bodies };
}

/** Keeps the bodies of at most KEPT_BODIES non-identical entries, dropping the mildest. */
function keepWorst(
  bodies: Map<string, { old: Answer; new: Answer }>,
  entries: VerifyEntry[],
  entry: VerifyEntry,
  pair: { old: Answer; new: Answer },
) {
  bodies.set(entry.path, pair);
  if (bodies.size <= KEPT_BODIES) return;
  const kept = entries.filter((e) => bodies.has(e.path)).sort(worstFirst);
  bodies.delete(kept.at(-1)!.path);
}

export function totals(entries: VerifyEntry[]): Record<Verdict, number> {
  const out = { identical: 0, close: 0, different: 0, broken: 0 };
  for (const e of entries) out[e.verdict]++;
  return out;
}

function formatSummary(t: Record<Verdict, number>, sorted: VerifyEntry[], outDir: string): string {
  const lines = [`${VERDICTS.map((v) => `${t[v]} ${v}`).join(", ")}  (report: ${join(outDir, "verify.html")})`];
  for (const e of sorted) if (e.verdict !== "identical") lines.push(`${e.verdict.padEnd(9)}  ${e.path}  ${e.reason}`);
  return `${lines.join("\n")}\n`;
}
