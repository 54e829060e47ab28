/** Step: the format of the answer (its content type is in core/formats.ts). */
import type { OutputFormat } from "../core/formats.js";
import type { TransformPlan } from "../core/plan.js";
import { filterCalls } from "../core/plan-queries.js";
import { lenientBooleanArg } from "./common/filter-args.js";
import type { Header } from "./load.js";

/**
 * The format of the answer. `plan.format` wins; otherwise the original's own format as thumbor
 * serves it (thumbor's engine keeps the source format unless it cannot write it): TIFF → PNG (thumbor's FORMATS table), SVG → PNG (rasterised, as
 * cairosvg does), AVIF → AVIF, HEIC → JPEG (no HEVC encoder in sharp's build). `autojpg()` turns
 * an opaque PNG into JPEG (thumbor's AUTO_PNG_TO_JPG, per request).
 */
export function outputFormatFor(plan: TransformPlan, header: Pick<Header, "format" | "hasAlpha" | "compression">): OutputFormat {
  if (plan.format) return plan.format;
  let format: OutputFormat;
  switch (header.format) {
    case "jpeg":
    case "png":
    case "webp":
    case "gif":
      format = header.format;
      break;
    case "heif":
      format = header.compression === "av1" ? "avif" : "jpeg";
      break;
    default:
      format = "png";
  }
  const autojpg = filterCalls(plan, "autojpg").at(-1);
  if (autojpg && lenientBooleanArg("autojpg", autojpg.args, 0) && format === "png" && !header.hasAlpha) format = "jpeg";
  return format;
}
