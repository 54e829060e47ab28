/**
 * The render's one context: what every step of `renderVariant` reads, built once when the header,
 * the output format and the frames to render are known (the first three steps, which read the
 * part of it that exists before them). Each step is a function of it and of the pixels the step
 * before handed over, so a step's signature says what it works on, not which facts it was given.
 */
import type { RenderFacts } from "../core/render-budget.js";
import type { OutputFormat } from "../core/formats.js";
import type { TransformPlan } from "../core/plan.js";
import type { Settings } from "../core/settings.js";
import type { RenderDeadline } from "./deadline.js";
import type { BucketImage } from "./effects/bucket-image.js";
import { outputFormatFor } from "./format.js";
import { framesToRender, readHeader, type Header } from "./load.js";

/** What the handler hands the render. */
export interface RenderInput {
  plan: TransformPlan;
  original: Buffer;
  settings: Settings;
  /** Reads another object of the originals' bucket (watermark, frame). */
  loadObject?: (key: string) => Promise<Buffer | null>;
  /** Past it the render stops with a 422 "too costly to render" (deadline.ts); none: no limit. */
  deadline?: RenderDeadline;
  /**
   * The original's header when `original` holds its intermediate instead (render/intermediate.ts
   * says which plans may): the geometry is the original's, the pixels the intermediate's.
   */
  originalHeader?: Header;
  /**
   * `original` is a progressive JPEG's first bytes, enough for its decode at 1/8 from DC alone
   * (jpeg/prefix.ts); a render that needs more throws WholeOriginalNeeded (draft.ts).
   */
  dcPrefix?: boolean;
}

export interface RenderContext {
  readonly plan: TransformPlan;
  readonly original: Buffer;
  readonly settings: Settings;
  /** The original's header (load.ts), read before any pixel is decoded (the original's own when `original` is its intermediate). */
  readonly header: Header;
  /** `original` holds the original's intermediate (render/intermediate.ts), not the original. */
  readonly intermediate: boolean;
  /** `original` is a prefix of the original (RenderInput.dcPrefix): only the DC-only decode may read it. */
  readonly dcPrefix: boolean;
  /** The format the variant is encoded in (format.ts). */
  readonly outputFormat: OutputFormat;
  /** Frames decoded, filtered and encoded: all of an animation kept animated, else 1 (load.ts). */
  readonly frames: number;
  /** What the render budget (core/render-budget.ts) knows once the header is read. */
  readonly facts: RenderFacts;
  /** Past it the render stops with a 422 (deadline.ts); none: no limit. */
  readonly deadline?: RenderDeadline;
  /** Reads another object of the originals' bucket (watermark, frame); null when missing. */
  readonly loadObject: (key: string) => Promise<Buffer | null>;
  /** The other images this render has read (effects/bucket-image.ts), by bucket key: each is fetched and decoded once. */
  readonly bucketImages: Map<string, Promise<BucketImage>>;
}

/** The first steps (header, format, frames) and the context they complete. */
export async function openRenderContext(input: RenderInput): Promise<RenderContext> {
  const { plan, original, settings, deadline } = input;
  const header = input.originalHeader ?? (await readHeader({ original, settings }));
  const outputFormat = outputFormatFor({ plan, header });
  const frames = framesToRender({ plan, header, outputFormat, settings });
  return {
    plan,
    original,
    settings,
    header,
    intermediate: input.originalHeader !== undefined,
    dcPrefix: input.dcPrefix ?? false,
    outputFormat,
    frames,
    facts: renderFacts(header, frames, outputFormat),
    deadline,
    loadObject: input.loadObject ?? (async () => null),
    bucketImages: new Map(),
  };
}

/** What the header tells the render budget (the URL alone leaves the original's size, frames and format open). */
function renderFacts(header: Header, frames: number, format: OutputFormat): RenderFacts {
  return { source: { width: header.orientedWidth, height: header.orientedHeight, format: header.format }, frames, format };
}
