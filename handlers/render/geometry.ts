/**
 * Geometry: thumbor's transformer arithmetic as pure code (no sharp, no I/O).
 *
 * Given a TransformPlan and the size of the original *as thumbor's transformer sees it* (after
 * auto-orientation and after trim), `planOperations` computes every geometric step thumbor would
 * take: the clamped manual crop, the target size, the auto-crop box of `crop` mode, the fit-in
 * resize, the flips, and the request size that post filters such as `fill` read afterwards.
 * The sharp pipeline (pipeline.ts) only executes these numbers; the meta JSON document is built
 * from the same numbers, so both can never disagree.
 *
 * Rounding follows thumbor exactly (thumbor/transformer.py):
 *  - Python's `round` is round-half-to-even (`pyRound`), used for proportional sides and crops;
 *  - fit-in adds 1e-5 before rounding so that .5 rounds up;
 *  - aspect ratios are compared after rounding to 2 decimals.
 *
 * Deliberate deviations from thumbor, each forced by thumbor producing an unusable image:
 *  - a computed side of 0 px becomes 1 px. thumbor's plain resize already does `width or 1`
 *    ("avoiding 0px images"); its fit-in does not and Pillow then raises (940x2 →
 *    fit-in/134x134 computes 134x0, an upstream test marked skip). We clamp to 1 px there too,
 *    so that URL answers a valid 134x1 image rather than an error. The same applies to an
 *    auto-crop box of width or height 0 (200x400 → 0x1 gives thumbor the box (0,0,0,400)).
 */
import type { CropBox, HAlign, TransformPlan, TrimCorner, VAlign } from "../core/plan.js";
import { filterCalls, hasFilter } from "../core/plan-queries.js";
import { pyRound, pyRound2 } from "../core/python.js";

export interface Size {
  width: number;
  height: number;
}

/** A region to extract, in pixels of the image it applies to. */
export interface Region {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface FocalPoint {
  x: number;
  y: number;
  /** thumbor's weight (the `z` of the meta document): the area of an explicit box, 1 otherwise. */
  weight: number;
  width: number;
  height: number;
  origin: "alignment" | "Explicit";
}

/** One engine call as thumbor's meta document lists it. */
export type ThumborOperation =
  | { type: "crop"; left: number; top: number; right: number; bottom: number }
  | { type: "resize"; width: number; height: number }
  | { type: "flip_horizontally" }
  | { type: "flip_vertically" };

export interface Operations {
  /** The size the operations start from (after orientation and trim). */
  source: Size;
  /** Manual crop after thumbor's clamping, in source pixels; null when absent or dropped as empty. */
  manualCrop: Region | null;
  /** thumbor's auto-crop box of `crop` mode, in pixels of the manually cropped image. */
  autoCrop: Region | null;
  /**
   * `smart` crop: the pipeline positions the crop with sharp's attention strategy instead of
   * `autoCrop`'s focal point (the box *size* is the same). Only set when an auto-crop happens.
   */
  smartCrop: boolean;
  /** Resize to exactly this size (aspect ratio already decided here); null = keep the size. */
  resize: Size | null;
  flipHorizontal: boolean;
  flipVertical: boolean;
  /** Size of the image after the transformer, before post-transform filters. */
  target: Size;
  /**
   * thumbor's `request.width/height` after the transformer, which post filters read (`fill`
   * canvas). 0 = "use the image's side"; fit-in raises each side to at least the resized image's.
   */
  request: Size;
  /** Focal points that decided the auto-crop (in manually cropped pixels). */
  focalPoints: FocalPoint[];
  /** The engine calls in thumbor's order, for the meta document. */
  steps: ThumborOperation[];
}

const ALIGN_X: Record<HAlign, number> = { left: 0, center: 0.5, right: 1 };
const ALIGN_Y: Record<VAlign, number> = { top: 0, middle: 0.5, bottom: 1 };

const FOCAL_BOX = /^(\d+)x(\d+):(\d+)x(\d+)$/;

/**
 * `focal(LxT:RxB)` → one explicit focal point at the box's centre (thumbor's
 * `FocalPoint.from_square`: `left + width // 2`), weighted by its area. thumbor ignores a
 * zero-area box or an argument it cannot read, and so do we.
 */
export function parseFocalBox(arg: unknown): FocalPoint | null {
  if (typeof arg !== "string") return null;
  const m = FOCAL_BOX.exec(arg.trim());
  if (!m) return null;
  const [left, top, right, bottom] = m.slice(1).map(Number) as [number, number, number, number];
  const width = right - left;
  const height = bottom - top;
  if (width <= 0 || height <= 0) return null;
  return {
    x: left + Math.floor(width / 2),
    y: top + Math.floor(height / 2),
    weight: width * height,
    width,
    height,
    origin: "Explicit",
  };
}

/** Explicit focal points of the plan (`focal()` filters), in source pixels. */
export function explicitFocalPoints(plan: TransformPlan): FocalPoint[] {
  return filterCalls(plan, "focal")
    .map((f) => parseFocalBox(f.args[0]))
    .filter((p): p is FocalPoint => p !== null);
}

/**
 * thumbor's manual crop clamping: each coordinate into [0, side]; an empty box after clamping is
 * silently dropped (null). `offset` is what trim removed at the left/top (thumbor shifts the
 * crop box by it before clamping).
 */
export function clampManualCrop(
  crop: CropBox | null,
  sourceWidth: number,
  sourceHeight: number,
  offset: { left: number; top: number } = { left: 0, top: 0 },
): CropBox | null {
  if (!crop) return null;
  const limit = (v: number, max: number): number => Math.min(Math.max(v, 0), max);
  const box = {
    left: limit(crop.left - offset.left, sourceWidth),
    top: limit(crop.top - offset.top, sourceHeight),
    right: limit(crop.right - offset.left, sourceWidth),
    bottom: limit(crop.bottom - offset.top, sourceHeight),
  };
  if (box.left >= box.right || box.top >= box.bottom) return null;
  return box;
}

/** `no_upscale()` (after-load): requested sides are clamped to the source's. 0 and `orig` stay. */
function applyNoUpscale(side: TransformPlan["width"], sourceSide: number): TransformPlan["width"] {
  return typeof side === "number" && side > sourceSide ? sourceSide : side;
}

/** thumbor's `_calculate_target_dimensions` on an image of `w`×`h` (floats, like thumbor). */
export function targetDimensions(width: TransformPlan["width"], height: TransformPlan["height"], w: number, h: number): Size {
  if (!width && !height) return { width: w, height: h };
  const tw = width === "orig" ? w : width ? width : pyRound((Number(height === "orig" ? h : height) * w) / h);
  const th = height === "orig" ? h : height ? height : pyRound((Number(width === "orig" ? w : width) * h) / w);
  return { width: tw, height: th };
}

/**
 * Weighted centre of the focal points, with thumbor's floor division (`Σx·w // Σw`).
 */
export function centreOfMass(points: FocalPoint[]): { x: number; y: number } {
  let total = 0;
  let sx = 0;
  let sy = 0;
  for (const p of points) {
    total += p.weight;
    sx += p.x * p.weight;
    sy += p.y * p.weight;
  }
  return { x: Math.floor(sx / total), y: Math.floor(sy / total) };
}

/** The focal point alignment gives when nothing explicit is known (truncated to int, weight 1). */
export function alignmentFocalPoint(halign: HAlign, valign: VAlign, w: number, h: number): FocalPoint {
  return { x: Math.trunc(w * ALIGN_X[halign]), y: Math.trunc(h * ALIGN_Y[valign]), weight: 1, width: 1, height: 1, origin: "alignment" };
}

/**
 * thumbor's `auto_crop`: the smallest crop of the `w`×`h` image that has the target's aspect
 * ratio, placed around the focal point. Returns null when the ratios (rounded to 2 decimals) match.
 * The box is returned exactly as thumbor computes it (possibly 0 wide, see the module comment).
 */
export function autoCropBox(w: number, h: number, target: Size, focal: { x: number; y: number }): CropBox | null {
  const tw = target.width;
  const th = target.height;
  const twOr1 = tw || 1;
  const thOr1 = th || 1;
  if (pyRound2(w / h) === pyRound2(twOr1 / thOr1)) return null;
  let cropWidth: number;
  let cropHeight: number;
  if (tw / w > th / h) {
    cropWidth = w;
    cropHeight = pyRound((w * th) / twOr1);
  } else {
    cropWidth = pyRound(Math.ceil((tw * h) / thOr1));
    cropHeight = h;
  }
  const left = pyRound(Math.min(Math.max(focal.x - cropWidth / 2, 0), w - cropWidth));
  const top = pyRound(Math.min(Math.max(focal.y - cropHeight / 2, 0), h - cropHeight));
  return { left, top, right: Math.min(left + cropWidth, w), bottom: Math.min(top + cropHeight, h) };
}

/**
 * thumbor's `fit_in_resize`: the size the image is resized to, or null when plain fit-in leaves
 * it alone (the box is at least the image on both axes: fit-in never upscales). Also returns the
 * box after the adaptive swap.
 */
export function fitInSize(w: number, h: number, box: Size, full: boolean, adaptive: boolean): { resize: Size | null; box: Size } {
  let { width: bw, height: bh } = box;
  if (adaptive && ((w - h < 0 && bw - bh > 0) || (w - h > 0 && bw - bh < 0))) [bw, bh] = [bh, bw];
  const sign = full ? -1 : 1;
  if (sign === 1 && bw >= w && bh >= h) return { resize: null, box: { width: bw, height: bh } };
  let resize: Size;
  if ((w / bw) * sign >= (h / bh) * sign) resize = { width: bw, height: pyRound((h * bw) / w + 1e-5) };
  else resize = { width: pyRound((w * bh) / h + 1e-5), height: bh };
  return { resize, box: { width: bw, height: bh } };
}

/**
 * `upscale()` after fit-in: when the image is smaller than the box on both axes, enlarge it
 * proportionally to fit the box; otherwise null.
 */
export function upscaleSize(w: number, h: number, box: Size): Size | null {
  if (!(w < box.width && h < box.height)) return null;
  if (w / box.width >= h / box.height) return { width: box.width, height: pyRound((h * box.width) / w) };
  return { width: pyRound((w * box.height) / h), height: box.height };
}

/**
 * `proportion(p)`: the result is resized by p when 0 < p ≤ 1 (thumbor ignores other values as a
 * DoS guard, and a result under 1 px). Pillow truncates the float sizes.
 */
export function proportionSize(w: number, h: number, p: number): Size | null {
  if (!(p > 0 && p <= 1)) return null;
  const width = Math.floor(w * p);
  const height = Math.floor(h * p);
  if (width < 1 || height < 1) return null;
  if (width === w && height === h) return null;
  return { width, height };
}

/**
 * `fill(...)`: canvas = request W×H (a side of 0 uses the image's), image placed at
 * `(W-w)//2, (H-h)//2`. A negative offset means the image is larger than the canvas on that axis
 * and is clipped, as Pillow's paste clips.
 */
export function fillLayout(request: Size, image: Size): { canvas: Size; left: number; top: number } {
  const canvas = { width: request.width || image.width, height: request.height || image.height };
  return { canvas, left: Math.floor((canvas.width - image.width) / 2), top: Math.floor((canvas.height - image.height) / 2) };
}

const atLeast1 = (v: number): number => Math.max(1, v);

/**
 * Every geometric step thumbor's transformer takes for `plan` on a `sourceWidth`×`sourceHeight`
 * image (already oriented and trimmed). `trimOffset` is what trim removed at the left/top: the
 * manual crop and the explicit focal points are given in untrimmed pixels.
 */
export function planOperations(
  plan: TransformPlan,
  sourceWidth: number,
  sourceHeight: number,
  trimOffset: { left: number; top: number } = { left: 0, top: 0 },
): Operations {
  const steps: ThumborOperation[] = [];
  const source = { width: sourceWidth, height: sourceHeight };
  const noUpscale = hasFilter(plan, "no_upscale");
  const asked: RequestedSize = {
    width: noUpscale ? applyNoUpscale(plan.width, sourceWidth) : plan.width,
    height: noUpscale ? applyNoUpscale(plan.height, sourceHeight) : plan.height,
  };

  // Manual crop, clamped as thumbor clamps it (or dropped).
  const crop = clampManualCrop(plan.crop, sourceWidth, sourceHeight, trimOffset);
  const manualCrop = crop ? regionOf(crop) : null;
  if (crop) steps.push({ type: "crop", ...crop });
  const w = manualCrop ? manualCrop.width : sourceWidth;
  const h = manualCrop ? manualCrop.height : sourceHeight;

  const target = targetDimensions(asked.width, asked.height, w, h);
  const focalPoints = focalPointsIn(plan, crop, trimOffset, w, h);
  const transform = plan.fit !== "crop" ? fitInTransform(plan, w, h, target, asked) : cropTransform(plan, w, h, target, asked, focalPoints);
  steps.push(...transform.steps);

  if (plan.flipHorizontal) steps.push({ type: "flip_horizontally" });
  if (plan.flipVertical) steps.push({ type: "flip_vertically" });

  return {
    source,
    manualCrop,
    autoCrop: transform.autoCrop,
    smartCrop: plan.smart && plan.fit === "crop" && transform.autoCrop !== null,
    resize: transform.resize,
    flipHorizontal: plan.flipHorizontal,
    flipVertical: plan.flipVertical,
    target: transform.current,
    request: transform.request,
    focalPoints,
    steps,
  };
}

/** The plan's requested sides after no_upscale. */
interface RequestedSize {
  width: TransformPlan["width"];
  height: TransformPlan["height"];
}

/** What the fit-in or crop-mode transform decided, and the steps it takes. */
interface Transform {
  autoCrop: Region | null;
  resize: Size | null;
  current: Size;
  request: Size;
  steps: ThumborOperation[];
}

function regionOf(crop: CropBox): Region {
  return { left: crop.left, top: crop.top, width: crop.right - crop.left, height: crop.bottom - crop.top };
}

/**
 * Focal points: explicit ones (shifted into the cropped image, those outside the crop dropped),
 * else the alignment point.
 */
function focalPointsIn(
  plan: TransformPlan,
  crop: CropBox | null,
  trimOffset: { left: number; top: number },
  w: number,
  h: number,
): FocalPoint[] {
  let focalPoints = explicitFocalPoints(plan).map((p) => ({ ...p, x: p.x - trimOffset.left, y: p.y - trimOffset.top }));
  if (crop) {
    focalPoints = focalPoints
      .filter((p) => p.x >= crop.left && p.x <= crop.right && p.y >= crop.top && p.y <= crop.bottom)
      .map((p) => ({ ...p, x: p.x - crop.left, y: p.y - crop.top }));
  }
  if (focalPoints.length === 0) focalPoints = [alignmentFocalPoint(plan.halign, plan.valign, w, h)];
  return focalPoints;
}

/** The fit-in modes: resize into the box (or upscale into it), never crop. */
function fitInTransform(plan: TransformPlan, w: number, h: number, target: Size, asked: RequestedSize): Transform {
  const steps: ThumborOperation[] = [];
  let resize: Size | null = null;
  let current: Size = { width: w, height: h };
  const full = plan.fit === "full-fit-in" || plan.fit === "adaptive-full-fit-in";
  const adaptive = plan.fit === "adaptive-fit-in" || plan.fit === "adaptive-full-fit-in";
  const fit = fitInSize(w, h, target, full, adaptive);
  // thumbor's request sides, following the adaptive swap: 0 stays 0 ("use the image's side"),
  // `orig` is the image's side.
  const swapped = fit.box.width !== target.width || fit.box.height !== target.height;
  const side = (requested: TransformPlan["width"], imageSide: number): number => (requested === "orig" ? imageSide : requested);
  let rw = side(swapped ? asked.height : asked.width, w);
  let rh = side(swapped ? asked.width : asked.height, h);
  if (fit.resize) {
    current = { width: atLeast1(fit.resize.width), height: atLeast1(fit.resize.height) };
    resize = current;
    // After a fit-in resize thumbor sets each request side to max(requested, resized).
    rw = Math.max(rw, current.width);
    rh = Math.max(rh, current.height);
  } else if (hasFilter(plan, "upscale")) {
    const up = upscaleSize(w, h, fit.box);
    if (up) {
      current = { width: atLeast1(up.width), height: atLeast1(up.height) };
      resize = current;
    }
  }
  if (resize) steps.push({ type: "resize", ...resize });
  return { autoCrop: null, resize, current, request: { width: rw, height: rh }, steps };
}

/** crop mode: auto-crop to the target's aspect ratio around the focal points (unless stretch), then resize. */
function cropTransform(
  plan: TransformPlan,
  w: number,
  h: number,
  target: Size,
  asked: RequestedSize,
  focalPoints: FocalPoint[],
): Transform {
  const steps: ThumborOperation[] = [];
  let autoCrop: Region | null = null;
  let resize: Size | null = null;
  let current: Size = { width: w, height: h };
  const stretch = hasFilter(plan, "stretch");
  if (!stretch) {
    const box = autoCropBox(w, h, target, centreOfMass(focalPoints));
    if (box) {
      steps.push({ type: "crop", ...box });
      // A 0-wide (or 0-high) box cannot be extracted: keep 1 px (see the module comment).
      autoCrop = {
        left: Math.min(box.left, w - 1),
        top: Math.min(box.top, h - 1),
        width: atLeast1(box.right - box.left),
        height: atLeast1(box.bottom - box.top),
      };
      current = { width: autoCrop.width, height: autoCrop.height };
    }
  }
  const finalSize = { width: atLeast1(target.width), height: atLeast1(target.height) };
  if (finalSize.width !== current.width || finalSize.height !== current.height) {
    resize = finalSize;
    current = finalSize;
    steps.push({ type: "resize", ...resize });
  }
  const request = {
    width: asked.width === "orig" ? w : asked.width,
    height: asked.height === "orig" ? h : asked.height,
  };
  return { autoCrop, resize, current, request, steps };
}

/**
 * Trim's bounding box (thumbor's `_bounding_box`): the smallest box holding every pixel whose
 * Euclidean distance in RGB(A) from the reference corner pixel exceeds `tolerance`. Null when
 * nothing would remain (thumbor then ignores trim). `pixels` is interleaved 8-bit data.
 */
export function trimBox(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: number,
  corner: TrimCorner,
  tolerance: number,
): Region | null {
  const ref = corner === "top-left" ? 0 : (width * height - 1) * channels;
  const limit = tolerance * tolerance;
  let minX = width;
  let minY = height;
  let maxX = -1;
  let maxY = -1;
  for (let y = 0; y < height; y++) {
    let row = y * width * channels;
    for (let x = 0; x < width; x++, row += channels) {
      let d = 0;
      for (let c = 0; c < channels; c++) {
        const diff = pixels[row + c]! - pixels[ref + c]!;
        d += diff * diff;
      }
      if (d > limit) {
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        if (y > maxY) maxY = y;
      }
    }
  }
  if (maxX < minX || maxY < minY) return null;
  return { left: minX, top: minY, width: maxX - minX + 1, height: maxY - minY + 1 };
}
