/**
 * The team's bill: what this run's measured misses would cost on Lambda@Edge, per million misses
 * and per million requests, against a thumbor server on EC2 doing the same work. Pure arithmetic
 * from the prices below, so tests/bench/bill.test.ts checks it exactly; bench/run.ts feeds it the
 * miss cases' CPU and wait and the configured origin-response memory.
 */
import type { Section, Table } from "./report.js";
import { formatNumber } from "./stats.js";
import type { Measurements } from "./types.js";

/** The prices and the rules of the model, with where each comes from. */
export const PRICES = {
  /** Lambda@Edge duration, USD per GB-second (memory in GB = MB / 1024), billed per 1 ms. */
  lambdaEdgeGbSecond: 0.00000625125,
  /** Lambda@Edge requests, USD per million invocations. */
  lambdaEdgePerMillionRequests: 0.6,
  lambdaEdgeSource:
    "https://aws.amazon.com/lambda/pricing/ (Lambda@Edge section; the rates were given with the task and could not be read back on 7 Dec 2026: " +
    "the page renders its rate tables client-side) and https://aws.amazon.com/about-aws/whats-new/2021/03/cloudfront-lambda-at-edge-billing-granularity/ " +
    "(31 Mar 2021: Lambda@Edge duration billed in 1 ms steps, read 7 Dec 2026)",
  /** Below this memory a function gets less than one vCPU, in proportion (AWS Lambda, "Configuring function memory"). */
  fullVcpuMemoryMb: 1769,
  /** CloudFront HTTPS requests, USD per million (United States, Mexico, Canada: $0.0100 per 10,000). */
  cloudFrontHttpsPerMillion: 1.0,
  cloudFrontSource: "https://aws.amazon.com/cloudfront/pricing/ (pay-as-you-go, HTTPS requests; not read back on 7 Dec 2026)",
  ec2: { instance: "c7i.large", vcpus: 2, hourlyUsd: 0.08925, region: "us-east-1, Linux, on demand" },
  ec2Source: "https://aws.amazon.com/ec2/pricing/on-demand/ (given with the task; not read back on 7 Dec 2026)",
} as const;

/** What the per-request bill assumes, stated in the report. */
export const BILL_ASSUMPTIONS = {
  /** Share of requests CloudFront answers from its cache (no origin fetch, no origin-response). */
  cloudFrontHitRatio: 0.95,
  /** viewer-request runs on every request at 128 MB; its work is microseconds, billed as the 1 ms minimum. */
  viewerRequestMemoryMb: 128,
  viewerRequestBilledMs: 1,
  /** thumbor's EC2 instance kept this busy on average (it is billed by the hour whatever it does). */
  ec2Utilisations: [1, 0.5, 0.2],
  /** Memory sizes the memory table compares. */
  memorySizesMb: [512, 1024, 1536, 1769, 2048, 3008],
} as const;

/**
 * Billed ms of one invocation at `memoryMb`: below 1,769 MB the function has that share of a
 * vCPU, so CPU-bound work takes `cpuMs × 1769 / memory` of wall time; waiting on S3 is billed as
 * it is. Rounded up to the 1 ms step.
 */
export function billedMs(cpuMs: number, ioWaitMs: number, memoryMb: number): number {
  const cpuShare = Math.min(1, memoryMb / PRICES.fullVcpuMemoryMb);
  return Math.max(1, Math.ceil(cpuMs / cpuShare + ioWaitMs - 1e-9));
}

/** USD of one Lambda@Edge invocation billed `ms` at `memoryMb`: duration plus the request. */
export function invocationUsd(ms: number, memoryMb: number): number {
  return (ms / 1000) * (memoryMb / 1024) * PRICES.lambdaEdgeGbSecond + PRICES.lambdaEdgePerMillionRequests / 1e6;
}

/** USD per million misses of a case at `memoryMb`. */
export function perMillionMisses(cpuMs: number, ioWaitMs: number, memoryMb: number): number {
  return invocationUsd(billedMs(cpuMs, ioWaitMs, memoryMb), memoryMb) * 1e6;
}

/**
 * USD per million viewer requests of Lambda@Edge: viewer-request on every one, origin-response
 * on each CloudFront miss, every one counted as a variant miss (an upper bound: an S3 hit costs
 * origin-response about 1 ms). CloudFront's own request price is apart (PRICES.cloudFrontHttpsPerMillion).
 */
export function perMillionRequests(missUsdPerMillion: number, hitRatio: number = BILL_ASSUMPTIONS.cloudFrontHitRatio): number {
  const viewer = invocationUsd(BILL_ASSUMPTIONS.viewerRequestBilledMs, BILL_ASSUMPTIONS.viewerRequestMemoryMb) * 1e6;
  return viewer + (1 - hitRatio) * missUsdPerMillion;
}

/** USD per million renders of a thumbor server on the EC2 instance busy `utilisation` of the time, `cpuMs` per render. */
export function ec2PerMillion(cpuMs: number, utilisation: number): number {
  const rendersPerHour = (PRICES.ec2.vcpus * 3_600_000 * utilisation) / cpuMs;
  return (PRICES.ec2.hourlyUsd / rendersPerHour) * 1e6;
}

const usd = (v: number) => `$${v >= 100 ? v.toFixed(0) : v.toFixed(2)}`;

/** The miss cases the bill prices: those with a wall-clock split. */
function billedCases(measurements: Measurements): [string, { cpuMs: number; ioWaitMs: number }][] {
  return Object.entries(measurements)
    .filter(([name, m]) => name.startsWith("miss/") && m.ioWaitMs !== undefined)
    .map(([name, m]) => [name, { cpuMs: m.cpuMs, ioWaitMs: m.ioWaitMs! }]);
}

export function billTable(measurements: Measurements, memoryMb: number, thumborCpuMs: Record<string, number>): Table {
  const utilisations = BILL_ASSUMPTIONS.ec2Utilisations;
  return {
    columns: [
      "case",
      "CPU ms",
      "S3 wait ms",
      `billed ms at ${memoryMb} MB`,
      "Lambda@Edge $ per million misses",
      `Lambda@Edge $ per million requests (${BILL_ASSUMPTIONS.cloudFrontHitRatio * 100} % CloudFront hits)`,
      `thumbor on ${PRICES.ec2.instance} $ per million misses at ${utilisations.map((u) => `${u * 100} %`).join(" / ")} busy`,
    ],
    rows: billedCases(measurements).map(([name, m]) => {
      const miss = perMillionMisses(m.cpuMs, m.ioWaitMs, memoryMb);
      const thumbor = thumborCpuMs[name];
      return [
        name,
        formatNumber(m.cpuMs),
        formatNumber(m.ioWaitMs),
        String(billedMs(m.cpuMs, m.ioWaitMs, memoryMb)),
        usd(miss),
        usd(perMillionRequests(miss)),
        thumbor ? utilisations.map((u) => usd(ec2PerMillion(thumbor, u))).join(" / ") : "no thumbor constant",
      ];
    }),
  };
}

/** $ per million misses and billed ms (the miss's duration) for each memory size. */
export function memoryTable(measurements: Measurements): Table {
  const sizes = BILL_ASSUMPTIONS.memorySizesMb;
  return {
    columns: ["case", ...sizes.map((s) => `${s.toLocaleString("en-US")} MB: $/M misses (billed ms)`)],
    rows: billedCases(measurements).map(([name, m]) => [
      name,
      ...sizes.map((s) => `${usd(perMillionMisses(m.cpuMs, m.ioWaitMs, s))} (${billedMs(m.cpuMs, m.ioWaitMs, s)})`),
    ]),
  };
}

/** The bill's section of BENCHMARKS.md at the configured origin-response memory. */
export function billSection(measurements: Measurements, memoryMb: number, thumborCpuMs: Record<string, number>): Section {
  const section: Section = {
    title: "The team's bill",
    text: [
      `From this run's misses (CPU ms and the wait on S3 of the \`miss/\` cases, medians) at the configured origin-response memory, ` +
        `${memoryMb} MB (\`originResponseMemoryMb\`, components/image-resizer.ts). Lambda@Edge: $${PRICES.lambdaEdgeGbSecond} per GB-second ` +
        `billed per 1 ms, $${PRICES.lambdaEdgePerMillionRequests.toFixed(2)} per million requests (${PRICES.lambdaEdgeSource}). Below ` +
        `${PRICES.fullVcpuMemoryMb.toLocaleString("en-US")} MB a function has that share of one vCPU, so CPU-bound work takes ` +
        `\`CPU × ${PRICES.fullVcpuMemoryMb} / memory\` of billed time and costs the same per CPU-second at any memory up to there; above it ` +
        "a miss (one libvips thread) gets no faster and every MB costs more. Waiting on S3 is billed too, at the memory's price, and does " +
        "not shrink with more memory. The wait here is against s3rver on the same machine: S3 from an edge region waits longer.",
      `Per million requests: viewer-request on every request (${BILL_ASSUMPTIONS.viewerRequestMemoryMb} MB, billed the ` +
        `${BILL_ASSUMPTIONS.viewerRequestBilledMs} ms minimum), and origin-response on the ${((1 - BILL_ASSUMPTIONS.cloudFrontHitRatio) * 100).toFixed(0)} % ` +
        `that CloudFront does not answer from its cache (an assumed hit ratio of ${BILL_ASSUMPTIONS.cloudFrontHitRatio * 100} %), each counted as ` +
        "a miss (an upper bound). CloudFront bills its own requests on top, whichever the resizer: " +
        `$${PRICES.cloudFrontHttpsPerMillion.toFixed(2)} per million HTTPS requests in the United States, Mexico and Canada (${PRICES.cloudFrontSource}), plus data transfer.`,
      `thumbor on EC2: a ${PRICES.ec2.instance} (${PRICES.ec2.vcpus} vCPU, $${PRICES.ec2.hourlyUsd}/h, ${PRICES.ec2.region}; ${PRICES.ec2Source}) ` +
        "rendering with the thumbor server constants of the goal table (CPU ms on this machine, not on a c7i), at the stated share of its " +
        "2 vCPU kept busy; it is billed by the hour whether or not it renders, so a quiet site pays the 20 % column or worse.",
    ],
    tables: [billTable(measurements, memoryMb, thumborCpuMs), memoryTable(measurements)],
  };
  if (section.tables[0]!.rows.length === 0) {
    section.notes = ["SKIPPED: no `miss/` case in this run (`npm run bench -- --only miss`)."];
    section.tables = [];
  }
  return section;
}
