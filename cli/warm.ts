/**
 * `edge-resizer warm <urls | access log> --base <edge URL>`: requests every variant the URLs
 * stand for once, before DNS moves, so visitors find them made: each URL once per format the
 * stack negotiates (an Accept for AVIF when autoAvif, for WebP when autoWebp, and one for the
 * original's format), fewer when the planner says two of them name the same variant key.
 *
 * "Made" or "already there" is read from `x-cache`, as CloudFront and the local edge send it: a
 * Miss went to the origin (origin-response made the variant, or found it stored), a Hit did not.
 * A state file (one line per finished request, appended as they finish) lets an interrupted run
 * resume: what is in it is not asked again; failures are, on the next run.
 *
 * Exit status: 0 nothing failed, 1 some request failed, 2 could not run.
 */
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { parseCommandArgs } from "./args.js";
import type { CommandIo } from "./migrate-config-command.js";
import { createProgressBar, renderBar, type ProgressTarget } from "./progress.js";
import { baseUrlOption, getWithRetries, isError, readRequestPaths, runPool, wholeNumberOption } from "./requests.js";
import { loadSettingsOrStack } from "./stack-file.js";
import { isRequestError } from "../handlers/core/errors.js";
import { NEGOTIATED_FORMATS } from "../handlers/core/formats.js";
import { DEFAULT_SETTINGS, SettingsError, type Settings } from "../handlers/core/settings.js";
import { createRequestPlanner } from "../handlers/url/request-plan.js";

export const WARM_USAGE =
  "usage: edge-resizer warm <urls|access log|-> --base <edge URL> [--settings <settings.json|stack config>] [--state <file>] [--concurrency N] [--rate N]";
export const WARM_HELP = `${WARM_USAGE}

Requests every distinct URL of the list or log from the edge once per format the stack
negotiates (AVIF if autoAvif, WebP if autoWebp, the original's format), so each variant is made
before visitors ask. Give the stack's settings with --settings (default: the built-in defaults).

  --state <file>     finished requests, one per line; a second run skips them (default warm-state.tsv)
  --concurrency N    requests in flight at once (default 4)
  --rate N           at most N requests started per second (default 0: no limit)
  --retries N        further tries after a network error or a 502/503/504 (default 2)

Summary: made (x-cache Miss: the edge went to the origin), already there (Hit), failed, refused
(the edge would answer 4xx, not asked), and skipped (in the state file).
Exit status: 0 nothing failed, 1 some request failed, 2 error.
`;

/**
 * One Accept per format the planner may negotiate, best first: a browser that takes that format
 * and every one after it (core/formats.ts NEGOTIATED_FORMATS), then one that takes none.
 */
export function negotiatedAccepts(settings: Settings): string[] {
  const anyImage = "image/*,*/*;q=0.8";
  const out = NEGOTIATED_FORMATS.flatMap((f, i) =>
    settings[f.setting] ? [[...NEGOTIATED_FORMATS.slice(i).map((later) => later.contentType), anyImage].join(",")] : [],
  );
  return [...out, anyImage];
}

export interface WarmRequest {
  path: string;
  accept: string;
  /** The variant key the planner gives it (the state file's line). */
  key: string;
}

export interface WarmPlan {
  requests: WarmRequest[];
  /** URLs the edge would refuse, with its reason: not requested. */
  refused: Array<{ path: string; reason: string }>;
  /** URLs that are not variants (originals), not requested. */
  originals: string[];
}

/** Every distinct variant the paths stand for, one request each. */
export function planWarming(paths: string[], settings: Settings): WarmPlan {
  const planner = createRequestPlanner(settings);
  const plan: WarmPlan = { requests: [], refused: [], originals: [] };
  const keys = new Set<string>();
  for (const path of paths) {
    for (const accept of negotiatedAccepts(settings)) {
      let route;
      try {
        route = planner.plan(path, "", accept);
      } catch (err) {
        if (!isRequestError(err)) throw err;
        plan.refused.push({ path, reason: `${err.status} ${err.reason}` });
        break;
      }
      if (route.kind !== "variant") {
        plan.originals.push(path);
        break;
      }
      if (keys.has(route.key)) continue;
      keys.add(route.key);
      plan.requests.push({ path, accept, key: route.key });
    }
  }
  return plan;
}

export interface WarmSummary {
  made: number;
  alreadyThere: number;
  failed: Array<{ path: string; accept: string; reason: string }>;
  skipped: number;
  refused: number;
  originals: number;
}

class WarmUsageError extends Error {}

interface WarmOptions {
  file: string;
  base: string;
  settingsPath: string | undefined;
  statePath: string;
  concurrency: number;
  rate: number;
  retries: number;
}

function parseWarmArgs(argv: string[]): WarmOptions | "help" {
  const err = (m: string) => new WarmUsageError(m);
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      base: { type: "string" },
      settings: { type: "string" },
      state: { type: "string" },
      concurrency: { type: "string" },
      rate: { type: "string" },
      retries: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    err,
  );
  if (values.help) return "help";
  if (positionals.length !== 1) throw err(`warm reads one list or log, got ${positionals.length}`);
  return {
    file: positionals[0]!,
    base: baseUrlOption("base", values.base, err),
    settingsPath: values.settings,
    statePath: values.state ?? "warm-state.tsv",
    concurrency: wholeNumberOption("concurrency", values.concurrency, 4, 1, 256, err),
    rate: wholeNumberOption("rate", values.rate, 0, 0, 100_000, err),
    retries: wholeNumberOption("retries", values.retries, 2, 0, 10, err),
  };
}

export async function runWarm(argv: string[], io: CommandIo & { progress?: ProgressTarget }): Promise<number> {
  let options: WarmOptions | "help";
  let settings: Settings = DEFAULT_SETTINGS;
  let paths: string[];
  try {
    options = parseWarmArgs(argv);
    if (options === "help") {
      io.stdout(WARM_HELP);
      return 0;
    }
    if (options.settingsPath !== undefined) settings = await loadSettingsOrStack(options.settingsPath);
    const file = options.file;
    paths = await readRequestPaths(file).catch((err: NodeJS.ErrnoException) => {
      throw new SettingsError(`cannot read ${file}: ${err.code ?? err.message}`);
    });
  } catch (err) {
    if (err instanceof WarmUsageError) io.stderr(`edge-resizer warm: ${err.message} (${WARM_USAGE})\n`);
    else if (err instanceof SettingsError) io.stderr(`edge-resizer warm: ${err.message}\n`);
    else throw err;
    return 2;
  }
  const plan = planWarming(paths, settings);
  const summary = await warm(plan, options, io.progress);
  io.stdout(formatWarmSummary(summary));
  return summary.failed.length > 0 ? 1 : 0;
}

async function warm(plan: WarmPlan, o: WarmOptions, progressOut: ProgressTarget | undefined): Promise<WarmSummary> {
  const done = readState(o.statePath);
  const todo = plan.requests.filter((r) => !done.has(r.key));
  const summary: WarmSummary = {
    made: 0,
    alreadyThere: 0,
    failed: [],
    skipped: plan.requests.length - todo.length,
    refused: plan.refused.length,
    originals: new Set(plan.originals).size,
  };
  const progress = createProgressBar(progressOut ?? { write: () => true }, todo.length, Date.now, {
    minTotal: 1,
    render: (d, t) => `${renderBar(d, t)}  ${d} / ${t} variants`,
  });
  let finished = 0;
  await runPool(todo, { concurrency: o.concurrency, ratePerSecond: o.rate }, async (r) => {
    const answer = await getWithRetries(o.base + r.path, { headers: { accept: r.accept }, retries: o.retries, timeoutMs: 60_000 });
    if (isError(answer) || answer.status !== 200) {
      summary.failed.push({ path: r.path, accept: r.accept, reason: isError(answer) ? answer.error : `status ${answer.status}` });
    } else {
      const hit = /^(Hit|RefreshHit)\b/i.test(answer.headers.get("x-cache") ?? "");
      if (hit) summary.alreadyThere++;
      else summary.made++;
      appendFileSync(o.statePath, `${r.key}\t${hit ? "hit" : "miss"}\n`);
    }
    progress.update(++finished);
  });
  progress.done();
  return summary;
}

/** Keys finished by earlier runs (the first column of each line). */
function readState(path: string): Set<string> {
  if (!existsSync(path)) return new Set();
  return new Set(
    readFileSync(path, "utf8")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => l.split("\t")[0]!),
  );
}

export function formatWarmSummary(s: WarmSummary): string {
  const head = `${s.made} made, ${s.alreadyThere} already there, ${s.failed.length} failed, ${s.skipped} skipped (state file), ${s.refused} refused, ${s.originals} originals (not variants)`;
  return `${[head, ...s.failed.map((f) => `failed  ${f.path}  (Accept ${f.accept})  ${f.reason}`)].join("\n")}\n`;
}
