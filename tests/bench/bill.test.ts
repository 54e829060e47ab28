import test from "ava";
import {
  BILL_ASSUMPTIONS,
  PRICES,
  billSection,
  billTable,
  billedMs,
  ec2PerMillion,
  invocationUsd,
  memoryTable,
  perMillionMisses,
  perMillionRequests,
} from "../../bench/bill.js";
import { renderTable } from "../../bench/report.js";

const close = (a: number, b: number) => Math.abs(a - b) < 1e-9 * Math.max(1, Math.abs(b));

test("billed ms: CPU stretched below 1,769 MB, not above; S3 wait as it is; rounded up to 1 ms", (t) => {
  t.is(billedMs(50, 0, 1769), 50);
  t.is(billedMs(50, 0, 3008), 50);
  // Half a vCPU: twice the wall time for the same CPU.
  t.is(billedMs(50, 0, 1769 / 2), 100);
  t.is(billedMs(50, 10, 1769 / 2), 110);
  t.is(billedMs(50.2, 0, 1769), 51);
  t.is(billedMs(0.01, 0, 128), 1);
});

test("an invocation costs its GB-seconds plus the request", (t) => {
  // 1 s at 1,024 MB is one GB-second.
  t.true(close(invocationUsd(1000, 1024), 0.00000625125 + 0.6 / 1e6));
  t.true(close(invocationUsd(100, 2048), 0.2 * 0.00000625125 + 0.6 / 1e6));
});

test("below one vCPU the CPU share of a miss costs the same whatever the memory", (t) => {
  // 100 ms CPU, no wait: 512 MB bills 346 ms, 1,024 MB 173 ms: the same GB-seconds within the 1 ms rounding.
  const at512 = perMillionMisses(100, 0, 512);
  const at1024 = perMillionMisses(100, 0, 1024);
  t.true(Math.abs(at512 - at1024) / at1024 < 0.01);
  // Above one vCPU the same CPU costs more: 3,008 / 1,769 times the duration (the request's $0.60 aside).
  const duration = (mb: number) => perMillionMisses(100, 0, mb) - PRICES.lambdaEdgePerMillionRequests;
  t.true(Math.abs(duration(3008) / duration(1769) - 3008 / 1769) < 0.001);
  // Waiting on S3 costs in proportion to memory: twice the memory, twice the wait's price.
  const wait = (mb: number) => perMillionMisses(0, 100, mb) - PRICES.lambdaEdgePerMillionRequests;
  t.true(Math.abs(wait(1024) / wait(512) - 2) < 1e-9);
});

test("per million misses: the worked numbers", (t) => {
  // 50 ms of CPU at 1,536 MB (0.87 vCPU): 57.6 ms, billed 58 ms × 1.5 GB = 0.087 GB-s per miss.
  t.true(close(perMillionMisses(50, 0, 1536), 0.087 * 0.00000625125 * 1e6 + 0.6));
  // At 1,769 MB and more, as measured.
  t.true(close(perMillionMisses(50, 0, 2048), 0.05 * 2 * 0.00000625125 * 1e6 + 0.6));
});

test("per million requests: viewer-request on each, origin-response on the CloudFront misses", (t) => {
  const viewer = (1 / 1000) * (128 / 1024) * PRICES.lambdaEdgeGbSecond * 1e6 + 0.6;
  t.true(close(perMillionRequests(10, 0.9), viewer + 0.1 * 10));
  t.true(close(perMillionRequests(10, 1), viewer));
  t.true(close(perMillionRequests(10), viewer + (1 - BILL_ASSUMPTIONS.cloudFrontHitRatio) * 10));
});

test("thumbor on EC2: the instance's hour over the renders it makes in that hour", (t) => {
  // 50 ms per render on 2 vCPU fully busy: 144,000 renders an hour.
  t.true(close(ec2PerMillion(50, 1), (0.08925 / 144_000) * 1e6));
  // Half as busy: twice the price per render.
  t.true(close(ec2PerMillion(50, 0.5), 2 * ec2PerMillion(50, 1)));
});

test("the bill's tables price the miss cases that carry a wait, with thumbor beside those with a constant", (t) => {
  const m = {
    "miss/a": { cpuMs: 50, ioWaitMs: 5 },
    "miss/b": { cpuMs: 10 },
    "variant-set/x": { cpuMs: 10, ioWaitMs: 1 },
  };
  const table = billTable(m, 1536, { "miss/a": 50 });
  t.is(table.rows.length, 1);
  t.is(table.rows[0]![3], String(billedMs(50, 5, 1536)));
  t.regex(table.rows[0]!.at(-1)!, /^\$\d+\.\d\d \/ \$\d+\.\d\d \/ \$\d+\.\d\d$/);
  t.notThrows(() => renderTable(table));
  t.is(memoryTable(m).columns.length, 1 + BILL_ASSUMPTIONS.memorySizesMb.length);
  t.deepEqual(billSection({}, 1536, {}).tables, []);
  t.regex(billSection(m, 1536, {}).text[0]!, /1536 MB/);
});
