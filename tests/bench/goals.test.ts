import test from "ava";
import {
  GOALS,
  THUMBOR_SERVER,
  evaluateGoal,
  evaluateGoals,
  goalSection,
  goalTable,
  halvesAgree,
  halvesTable,
  type Goal,
} from "../../bench/goals.js";
import { WORKLOADS } from "../../bench/miss-profile.js";
import { renderTable } from "../../bench/report.js";
import type { Measurements } from "../../bench/types.js";

const goal = (name: string, kind: Goal["kind"]): Goal => GOALS.find((g) => g.caseName === name && g.kind === kind)!;
const raindropsPillow = goal("miss/raindrops-800x500-jpeg", "pillow-ratio");

test("a goal whose case is absent is SKIPPED and says which case", (t) => {
  const r = evaluateGoal(raindropsPillow, {});
  t.is(r.verdict, "SKIPPED");
  t.is(r.value, null);
  t.regex(r.reason!, /miss\/raindrops-800x500-jpeg not in this run/);
});

test("pillow-ratio: MET at the limit, NOT MET just above, SKIPPED without Pillow", (t) => {
  t.is(raindropsPillow.limit, 1);
  const at = evaluateGoal(raindropsPillow, { "miss/raindrops-800x500-jpeg": { cpuMs: 30, pillowCpuMs: 30 } });
  t.is(at.verdict, "MET");
  t.is(at.value, 1);
  const over = evaluateGoal(raindropsPillow, { "miss/raindrops-800x500-jpeg": { cpuMs: 30.3, pillowCpuMs: 30 } });
  t.is(over.verdict, "NOT MET");
  t.regex(over.reason!, /1\.01x > 1\.00x/);
  const noPillow = evaluateGoal(raindropsPillow, { "miss/raindrops-800x500-jpeg": { cpuMs: 30, pillowSkip: "no Python with Pillow" } });
  t.is(noPillow.verdict, "SKIPPED");
  t.is(noPillow.reason, "no Python with Pillow");
});

test("thumbor-ratio uses the constant of its workload", (t) => {
  const g = goal("miss/raindrops-800x500-webp", "thumbor-ratio");
  const r = evaluateGoal(g, { "miss/raindrops-800x500-webp": { cpuMs: 40.6 } });
  t.is(r.thumborCpuMs, 81.2);
  t.is(r.value, 0.5);
  t.is(r.verdict, "MET");
  const elephants = goal("miss/elephants-progressive-300x200-jpeg", "thumbor-ratio");
  const e = evaluateGoal(elephants, { "miss/elephants-progressive-300x200-jpeg": { cpuMs: 700 } });
  t.is(e.thumborCpuMs, THUMBOR_SERVER.cases["miss/elephants-progressive-300x200-jpeg"]!.thumborCpuMs);
  t.is(e.verdict, "NOT MET");
});

test("every goal reads a case a bench makes: a miss workload of the profile, or a variant set", (t) => {
  const misses = new Set(WORKLOADS.map((w) => `miss/${w.id}`));
  for (const g of GOALS) t.true(misses.has(g.caseName) || g.caseName.startsWith("variant-set/"), `${g.caseName}: no bench makes this case`);
  // The progressive thumbnail's own miss includes the read of the original up to its DC scans.
  t.true(WORKLOADS.find((w) => `miss/${w.id}` === "miss/elephants-progressive-300x200-jpeg")!.dcOnly);
});

test("floor-overhead: our CPU minus sharp's floor against 3 ms; SKIPPED without a floor", (t) => {
  const g = goal("miss/twowings-800x500-jpeg", "floor-overhead");
  t.is(evaluateGoal(g, { "miss/twowings-800x500-jpeg": { cpuMs: 25, floorCpuMs: 22 } }).verdict, "MET");
  const over = evaluateGoal(g, { "miss/twowings-800x500-jpeg": { cpuMs: 25.5, floorCpuMs: 22 } });
  t.is(over.verdict, "NOT MET");
  t.is(over.value, 3.5);
  t.is(evaluateGoal(g, { "miss/twowings-800x500-jpeg": { cpuMs: 25 } }).verdict, "SKIPPED");
});

test("the progressive goal needs the byte-identical output as well as the ratio", (t) => {
  const g = goal("miss/elephants-progressive-300x200-jpeg", "pillow-ratio");
  const m = (identicalToFullDecode?: boolean): Measurements => ({
    "miss/elephants-progressive-300x200-jpeg": {
      cpuMs: 150,
      pillowCpuMs: 600,
      ...(identicalToFullDecode === undefined ? {} : { identicalToFullDecode }),
    },
  });
  t.is(evaluateGoal(g, m(true)).verdict, "MET");
  const differs = evaluateGoal(g, m(false));
  t.is(differs.verdict, "NOT MET");
  t.regex(differs.reason!, /differs from the full decode/);
  t.is(evaluateGoal(g, m()).verdict, "SKIPPED");
});

test("the variant-set goal needs the PSNR within 1 dB of today's", (t) => {
  const g = goal("variant-set/elephants-progressive-cached", "pillow-ratio");
  const m = (psnrDeltaDb?: number): Measurements => ({
    "variant-set/elephants-progressive-cached": { cpuMs: 1000, pillowCpuMs: 4000, ...(psnrDeltaDb === undefined ? {} : { psnrDeltaDb }) },
  });
  t.is(evaluateGoal(g, m(-1)).verdict, "MET");
  const worse = evaluateGoal(g, m(-1.2));
  t.is(worse.verdict, "NOT MET");
  t.regex(worse.reason!, /1\.20 dB below/);
  t.is(evaluateGoal(g, m()).verdict, "SKIPPED");
  // Both failures are reported together.
  const both = evaluateGoal(g, { "variant-set/elephants-progressive-cached": { cpuMs: 3000, pillowCpuMs: 4000, psnrDeltaDb: -2 } });
  t.regex(both.reason!, /0\.75x > 0\.50x; 2\.00 dB below/);
});

test("every goal of the brief has its rows, each reading a named case", (t) => {
  const rows = evaluateGoals({});
  t.is(rows.length, GOALS.length);
  t.true(rows.every((r) => r.verdict === "SKIPPED"));
  for (const kind of ["pillow-ratio", "thumbor-ratio", "floor-overhead"] as const) t.true(GOALS.some((g) => g.kind === kind));
  // Every thumbor constant is used by a row.
  for (const name of Object.keys(THUMBOR_SERVER.cases)) t.true(GOALS.some((g) => g.kind === "thumbor-ratio" && g.caseName === name));
  const table = goalTable(rows);
  t.notThrows(() => renderTable(table));
  t.is(table.rows[0]!.at(-1), "SKIPPED (case miss/raindrops-800x500-jpeg not in this run)");
});

test("halves agree within the band of their mean, and not beyond", (t) => {
  t.true(halvesAgree(100, 105, 0.05));
  t.false(halvesAgree(100, 106, 0.05));
  t.false(halvesAgree(0, 0, 0.05));
  const table = halvesTable({
    "miss/a": { cpuMs: 10, halves: { cpuMs: [10, 10.2], pillowCpuMs: [10, 10] } },
    "miss/b": { cpuMs: 10, halves: { cpuMs: [10, 10], pillowCpuMs: [10, 12] } },
    "miss/c": { cpuMs: 10 },
  })!;
  t.is(table.rows.length, 2);
  t.is(table.rows[0]!.at(-1), "agree");
  // Same CPU in both halves, but Pillow moved: the ratios disagree.
  t.is(table.rows[1]!.at(-1), "DISAGREE");
  t.is(halvesTable({ "miss/c": { cpuMs: 10 } }), null);
});

test("the goal section counts its verdicts in its title", (t) => {
  const s = goalSection({ "miss/raindrops-800x500-jpeg": { cpuMs: 20, pillowCpuMs: 25, floorCpuMs: 18 } });
  // RainDrops JPEG: the Pillow row, the thumbor row (20 / 50.7) and the overhead row are MET.
  t.regex(s.title, /^Goals \(3 MET, 0 NOT MET, \d+ SKIPPED\)$/);
});
