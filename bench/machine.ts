/** The facts at the top of BENCHMARKS.md: which machine and which versions made these numbers. */
import { cpus, loadavg, totalmem } from "node:os";
import sharp from "sharp";

export async function machineFacts(): Promise<[string, string][]> {
  const cpu = cpus();
  return [
    ["date", new Date().toISOString().replace(/\.\d+Z$/, "Z")],
    ["CPU", `${cpu[0]?.model.trim() ?? "unknown"}, ${cpu.length} logical cores`],
    ["RAM", `${(totalmem() / 1024 ** 3).toFixed(1)} GiB`],
    ["Node", process.version],
    ["sharp / libvips", `${sharp.versions.sharp ?? "?"} / ${sharp.versions.vips}`],
    ["platform", `${process.platform}-${process.arch}`],
  ];
}

/** 1-minute load average, flagged when other work competes for the cores. */
export function loadNote(): string {
  const load = loadavg()[0]!;
  const cores = cpus().length;
  return `${load.toFixed(1)}${load > cores ? ` (above the ${cores} cores: shared machine, wall-clock numbers are inflated)` : ""}`;
}
