/**
 * Step 1 of the render: read the original's header (no pixel decode) and decide how many frames
 * will be rendered. The original is untrusted: a pixel bomb, an unaccepted format or garbage is
 * refused here, before any pixel is decoded.
 */
import sharp, { type Metadata } from "sharp";
import { RequestError } from "../core/errors.js";
import { formatCan, formatOfOriginal, formatRow } from "../core/formats.js";
import type { Settings } from "../core/settings.js";
import type { RenderContext } from "./context.js";
import { hasFilter } from "../core/plan-queries.js";
import { shortReason } from "./common/sharp-errors.js";

export interface Header {
  format: string;
  width: number;
  /** One frame's height (the whole image for still images). */
  frameHeight: number;
  frames: number;
  orientedWidth: number;
  orientedHeight: number;
  hasAlpha: boolean;
  isPalette: boolean;
  hasProfile: boolean;
  /** The original's colour space as libvips reads it ("cmyk" for CMYK JPEGs). */
  space?: string;
  compression?: string;
  /** Animation timing, re-applied on output (materialised pixels lose it). */
  loop?: number;
  delay?: number[];
}

/** Reads the header only (no pixel decode). Garbage, HTML, empty input → 400. */
export async function readHeader({ original, settings }: Pick<RenderContext, "original" | "settings">): Promise<Header> {
  return checkedHeader(await readMetadata(original), settings);
}

/** The header as sharp reads it; an image it cannot read (garbage, HTML, empty) is a 400. */
export async function readMetadata(image: Buffer): Promise<Metadata> {
  if (image.length === 0) throw new RequestError(400, "not a supported image: empty file");
  try {
    // No pixel limit here: the header of a bomb must be readable so we can refuse it ourselves.
    return await sharp(image, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new RequestError(400, `not a supported image: ${shortReason(err)}`);
  }
}

/**
 * The checks every image the render decodes passes (the original, and the images watermark and
 * frame read): an accepted format, SVG only when allowed, at most maxInputPixels per frame.
 */
export function checkedHeader(m: Metadata, settings: Settings): Header {
  checkFormat(m, settings);
  const frames = m.pages && m.pages > 1 && formatCan(m.format, "animation") ? m.pages : 1;
  const frameHeight = m.pageHeight ?? m.height;
  if (m.width * frameHeight > settings.maxInputPixels) {
    throw new RequestError(400, `image too large: ${m.width}x${frameHeight} px exceeds maxInputPixels ${settings.maxInputPixels}`);
  }
  return {
    format: m.format,
    width: m.width,
    frameHeight,
    frames,
    orientedWidth: m.autoOrient?.width ?? m.width,
    orientedHeight: frames > 1 ? frameHeight : (m.autoOrient?.height ?? m.height),
    hasAlpha: m.hasAlpha,
    isPalette: m.isPalette,
    hasProfile: m.hasProfile,
    space: m.space,
    compression: m.compression,
    loop: m.loop,
    delay: m.delay,
  };
}

/**
 * The format table's word on an image's format (core/formats.ts): a 400 when it is not read
 * there (with the row's reason when it has one), a 415 when the setting its originals need is off.
 */
function checkFormat(m: Metadata, settings: Settings): void {
  const name = formatOfOriginal(m.format, m.compression);
  const row = name ? formatRow(name) : undefined;
  if (!name || !row?.readable) {
    throw new RequestError(400, `not a supported image: ${row?.unreadableReason ?? `${m.format} input is not accepted`}`);
  }
  if (row.readSetting && !settings[row.readSetting]) {
    throw new RequestError(415, `${name.toUpperCase()} originals are not enabled (${row.readSetting})`);
  }
}

/**
 * How many frames are rendered: all of an animation kept animated (GIF or WebP out, no `meta`,
 * no `cover`), else one. Every kept frame is decoded, so the pixel budget covers them all.
 */
export function framesToRender(ctx: Pick<RenderContext, "plan" | "header" | "outputFormat" | "settings">): number {
  const { plan, header, settings } = ctx;
  const keepFrames = header.frames > 1 && !plan.meta && !hasFilter(plan, "cover") && formatCan(ctx.outputFormat, "animation");
  if (!keepFrames) return 1;
  if (header.frames > settings.maxFrames) {
    throw new RequestError(400, `animated image has ${header.frames} frames, limit is ${settings.maxFrames}`);
  }
  if (header.width * header.frameHeight * header.frames > settings.maxInputPixels) {
    throw new RequestError(
      400,
      `animated image too large: ${header.frames} frames of ${header.width}x${header.frameHeight} px exceed maxInputPixels ${settings.maxInputPixels}`,
    );
  }
  return header.frames;
}
