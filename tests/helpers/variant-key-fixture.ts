/**
 * The variant-key fixture recorded before the issue-11 restructuring: every URL vector, planned
 * under fixed settings and Accept headers, and what the planner made of it (a key, "original", or
 * the refusal). tests/core/variant-keys-fixture.test.ts recomputes every entry; a restructuring that
 * changes one key (or one refusal) fails it.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RequestError } from "../../handlers/core/errors.js";
import { validateSettings, type Settings } from "../../handlers/core/settings.js";
import { createRequestPlanner, type RequestPlanner } from "../../handlers/url/request-plan.js";

export const FIXTURE_PATH = join(__dirname, "..", "fixtures", "variant-keys-before-restructure.json");

/** Every key a thumbor vector signs with, so that signed vectors reach the planner. */
const SIGNING_KEYS = ["ACME-SEC", "libthumbor-test-key", "my-security-key", "MY-SECURITY-KEY", "cafécompãodequeijo"];

/** The fixed settings/Accept combinations each URL is planned under. */
export const COMBINATIONS: Record<string, { accept: string | undefined; thumbor: Record<string, unknown> }> = {
  webp: { accept: "image/webp,*/*;q=0.8", thumbor: {} },
  none: { accept: undefined, thumbor: {} },
  strict: { accept: "image/webp,*/*;q=0.8", thumbor: { strictFilters: true } },
};

function settingsFor(thumbor: Record<string, unknown>): Settings {
  return validateSettings({
    thumbor: { securityKey: SIGNING_KEYS[0], retiredSecurityKeys: SIGNING_KEYS.slice(1), stripHosts: ["images.example.com"], ...thumbor },
  });
}

export interface FixtureCase {
  url: string;
  /** Per combination: the variant key, "original", or "<status>: <reason>". */
  results: Record<string, string>;
}

export interface Fixture {
  about: string;
  cases: FixtureCase[];
}

function outcome(planner: RequestPlanner, url: string, accept: string | undefined): string {
  const q = url.indexOf("?");
  const uri = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? "" : url.slice(q + 1);
  try {
    const route = planner.plan(uri, query, accept);
    return route.kind === "variant" ? route.key : "original";
  } catch (err) {
    if (err instanceof RequestError) return `${err.status}: ${err.reason}`;
    throw err;
  }
}

/** What the current code makes of each URL under every combination. */
export function computeResults(urls: readonly string[]): FixtureCase[] {
  const planners = Object.entries(COMBINATIONS).map(([name, c]) => [name, createRequestPlanner(settingsFor(c.thumbor)), c.accept] as const);
  return urls.map((url) => ({
    url,
    results: Object.fromEntries(planners.map(([name, planner, accept]) => [name, outcome(planner, url, accept)])),
  }));
}

export function readFixture(): Fixture {
  return JSON.parse(readFileSync(FIXTURE_PATH, "utf8")) as Fixture;
}

export function writeFixture(fixture: Fixture): void {
  writeFileSync(FIXTURE_PATH, `${JSON.stringify(fixture, null, 1)}\n`);
}
