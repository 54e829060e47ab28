/**
 * Cold start of the built viewer-request bundle, in a fresh `node` process (bench/viewer-request.ts
 * runs it ~20 times): module load (`require` of index.js) plus the first call, which also reads
 * settings.json beside the bundle, as on Lambda. Plain CommonJS so nothing else is loaded first.
 *
 * argv: <bundle index.js> <event JSON>. Prints one JSON line.
 */
"use strict";
const { performance } = require("node:perf_hooks");

const bootMs = performance.now(); // Node's own start-up until this script runs (not counted in the cold start)
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const bundle = require(process.argv[2]);
const t1 = performance.now();
const event = JSON.parse(process.argv[3]);
Promise.resolve(bundle.handler(event)).then(
  (out) => {
    const t2 = performance.now();
    const cpu = process.cpuUsage(cpu0);
    process.stdout.write(
      JSON.stringify({
        bootMs,
        loadMs: t1 - t0,
        firstCallMs: t2 - t1,
        totalMs: t2 - t0,
        totalCpuMs: (cpu.user + cpu.system) / 1000,
        answer: out && typeof out === "object" && "status" in out ? `response ${out.status}` : `request ${out && out.uri}`,
      }) + "\n",
    );
  },
  (err) => {
    process.stderr.write(String((err && err.stack) || err) + "\n");
    process.exitCode = 1;
  },
);
