/**
 * The filters of a thumbor URL the edge ignores, for the playground's notice. thumbor (and the
 * edge, unless `thumbor.strictFilters`) drops unknown filters and filters with bad arguments
 * without a word, so a typo such as `filters:qualty(50)` silently gives another picture. The
 * answer comes from the planner's own grammar: each piece of the list is read on its own, and
 * the planner in strict mode names what it would refuse.
 */
import { isRequestError } from "../handlers/core/errors.js";
import type { Settings } from "../handlers/core/settings.js";
import { parseFilterList } from "../handlers/url/filters.js";
import { createRequestPlanner } from "../handlers/url/request-plan.js";
import { parseThumborPath } from "../handlers/url/thumbor-url.js";

/** Each ignored filter as written in the URL (or the strict planner's reason); empty when none. */
export function ignoredFilters(path: string, settings: Settings): string[] {
  if (settings.thumbor.strictFilters) return [];
  let filters: string | null;
  try {
    filters = parseThumborPath(path).filters;
  } catch {
    return [];
  }
  if (!filters) return [];
  // thumbor splits the list on "):" (BaseFilter's pieces); the last piece keeps its ")".
  const pieces = filters.split("):").map((p, i, all) => (i === all.length - 1 ? p : `${p})`));
  const ignored = pieces.filter((piece) => parseFilterList(piece, { strict: false }).length === 0);
  if (ignored.length > 0) return ignored;
  const strict = createRequestPlanner({ ...settings, thumbor: { ...settings.thumbor, strictFilters: true } });
  try {
    strict.plan(path, "", undefined);
  } catch (err) {
    // Only what the planner drops (gifv); strict mode also refuses text after a match, which the edge still applies.
    if (isRequestError(err) && /^filter not supported/.test(err.reason)) return [err.reason];
  }
  return [];
}
