/**
 * `edge-resizer warm` (cli/warm.ts) against the local edge: every variant of a log is made once
 * per negotiated format, a second run makes none, and a state file resumes without asking again.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { captureIo } from "../helpers/cli.js";
import { negotiatedAccepts, planWarming, runWarm } from "../../cli/warm.js";
import { DEFAULT_SETTINGS } from "../../handlers/core/settings.js";
import { startLocalEdge, type LocalEdgeServer } from "../../local/server.js";

const dir = mkdtempSync(join(tmpdir(), "warm-"));
let edge: LocalEdgeServer;

test.before(async () => {
  edge = await startLocalEdge({ port: 0, dataDir: join(dir, "s3"), log: () => {} });
});

test.after.always(async () => {
  await edge?.close();
  rmSync(dir, { recursive: true, force: true });
});

const LOG_PATHS = [
  "/unsafe/300x200/samples/elephants.jpg", // WebP and JPEG
  "/unsafe/fit-in/160x160/samples/paletted-transparent.png", // WebP and PNG
  "/unsafe/200x0/filters:format(jpeg)/samples/rain-drops.jpg", // one variant: the format is fixed
  "/unsafe/300x200/samples/elephants.jpg", // a repeat
  "/samples/two-wings.jpg", // an original: nothing to warm
  "/unsafe/9000x10/samples/two-wings.jpg", // refused by the edge: not requested
];

test("one Accept per negotiated format, and one request per distinct variant key", (t) => {
  t.is(negotiatedAccepts(DEFAULT_SETTINGS).length, 2);
  t.is(negotiatedAccepts({ ...DEFAULT_SETTINGS, autoAvif: true }).length, 3);
  t.is(negotiatedAccepts({ ...DEFAULT_SETTINGS, autoWebp: false }).length, 1);
  t.deepEqual(negotiatedAccepts({ ...DEFAULT_SETTINGS, autoAvif: true }), [
    "image/avif,image/webp,image/*,*/*;q=0.8",
    "image/webp,image/*,*/*;q=0.8",
    "image/*,*/*;q=0.8",
  ]);
  const plan = planWarming(LOG_PATHS, DEFAULT_SETTINGS);
  t.is(plan.requests.length, 5);
  t.is(new Set(plan.requests.map((r) => r.key)).size, 5);
  t.deepEqual(plan.originals, ["/samples/two-wings.jpg"]);
  t.is(plan.refused.length, 1);
  t.regex(plan.refused[0]!.reason, /^400 width 9000 exceeds/);
});

test.serial("the first run makes every variant once, a second run makes none, a state file resumes", async (t) => {
  const log = join(dir, "urls.txt");
  writeFileSync(log, `${LOG_PATHS.join("\n")}\n`);
  const state = join(dir, "state.tsv");
  const rendersBefore = edge.stats.renders;

  const first = captureIo();
  t.is(await runWarm([log, "--base", edge.url, "--state", state, "--concurrency", "2", "--rate", "50"], first.io), 0, first.out.stdout);
  t.regex(first.out.stdout, /^5 made, 0 already there, 0 failed, 0 skipped \(state file\), 1 refused, 1 originals/);
  t.is(edge.stats.renders - rendersBefore, 5, "origin-response rendered each variant once");
  t.is(readFileSync(state, "utf8").trim().split("\n").length, 5);

  const second = captureIo();
  t.is(await runWarm([log, "--base", edge.url, "--state", join(dir, "fresh-state.tsv")], second.io), 0);
  t.regex(second.out.stdout, /^0 made, 5 already there, 0 failed/);
  t.is(edge.stats.renders - rendersBefore, 5, "nothing rendered again");

  const resumed = captureIo();
  t.is(await runWarm([log, "--base", edge.url, "--state", state], resumed.io), 0);
  t.regex(resumed.out.stdout, /^0 made, 0 already there, 0 failed, 5 skipped \(state file\)/);
});

test.serial("a failing edge is counted as failed (exit 1) and not written to the state, so the next run asks again", async (t) => {
  const log = join(dir, "missing.txt");
  writeFileSync(log, "/unsafe/120x120/samples/no-such-original.jpg\n");
  const state = join(dir, "missing-state.tsv");
  const run = captureIo();
  t.is(await runWarm([log, "--base", edge.url, "--state", state, "--retries", "0"], run.io), 1);
  t.regex(run.out.stdout, /0 made, 0 already there, 2 failed/);
  t.regex(run.out.stdout, /failed {2}\/unsafe\/120x120\/samples\/no-such-original\.jpg .*status 404/);
  t.throws(() => readFileSync(state, "utf8"), { code: "ENOENT" });
  const usage = captureIo();
  t.is(await runWarm([log], usage.io), 2);
  t.regex(usage.out.stderr, /--base <base URL> is required/);
});
