/** Step: the format of the answer (its content type is in core/formats.ts). */
import { RequestError } from "../core/errors.js";
import { autojpgFormat, formatOfOriginal, servedFormat, type OutputFormat } from "../core/formats.js";
import { filterCalls } from "../core/plan-queries.js";
import { lenientBooleanArg } from "./common/filter-args.js";
import type { RenderContext } from "./context.js";
import type { Header } from "./load.js";

/** What the format step reads of the render's context: the plan, and the part of the header that names the original's format. */
type FormatFacts = Pick<RenderContext, "plan"> & { header: Pick<Header, "format" | "hasAlpha" | "compression"> };

/**
 * The format of the answer. `plan.format` wins; otherwise the original's own format as thumbor
 * serves it: each original format's row of core/formats.ts names its output (`servedAs`: thumbor's
 * engine keeps the source format unless it cannot write it). `autojpg()` turns an opaque variant
 * into the row's `autojpg` format (thumbor's AUTO_PNG_TO_JPG, per request).
 */
export function outputFormatFor({ plan, header }: FormatFacts): OutputFormat {
  if (plan.format) return plan.format;
  const original = formatOfOriginal(header.format, header.compression);
  // load.ts accepts only the table's formats: this is a header that did not pass it.
  if (!original) throw new RequestError(400, `not a supported image: ${header.format} input is not accepted`);
  const format = servedFormat(original);
  const autojpg = filterCalls(plan, "autojpg").at(-1);
  return autojpg && lenientBooleanArg("autojpg", autojpg.args, 0) && !header.hasAlpha ? autojpgFormat(format) : format;
}
