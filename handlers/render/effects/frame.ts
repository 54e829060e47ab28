/**
 * frame(url): thumbor (`filters/frame.py`, `_nine_patch.c`) draws an Android-style nine-patch
 * image around the picture. The nine-patch's 1-pixel border carries the markers (opaque black
 * pixels): the top row and left column mark the stretchable columns and rows, the bottom row and
 * right column mark the content area. thumbor first pads the picture with opaque white by the
 * padding those content markers leave (left, top, right, bottom), then cuts the nine-patch
 * interior into alternating fixed and stretchable rows and columns: fixed ones keep their size,
 * stretchable ones share what the padded picture has left (each trunc(share + 0.5)); every cell
 * is stretched onto its place and composited "over" the picture (cells that would not fit are
 * skipped, as thumbor gives up on them).
 *
 * Here: the same padding, markers, cell sizes and placement. Difference: cells are stretched with
 * sharp's bilinear resize instead of thumbor's own bilinear sampler (which maps target x to
 * source x·(w-1)/w), so a gradient inside a stretched cell can differ slightly; uniform cells,
 * the common case for frames, come out the same. The nine-patch is read from the bucket like a
 * watermark; a missing or undecodable one is a 400 "frame image not found: <key>".
 */
import type { PostFilterEffect } from "./index.js";
import { stringArg } from "../common/filter-args.js";
import { checkDeadline, type RenderDeadline } from "../deadline.js";
import { loadBucketImage } from "./bucket-image.js";
import type { RawImage } from "../common/raw.js";
import { fromRaw, joinFrames, materialise, splitFrames } from "../common/raw.js";
import { compositeOver } from "./watermark.js";

export interface Padding {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** A run of nine-patch interior rows or columns with the same stretchiness. */
export interface Segment {
  /** Start in the nine-patch (border included, so the interior starts at 1). */
  source: number;
  length: number;
  stretchy: boolean;
}

function isMarker(np: RawImage, x: number, y: number): boolean {
  const i = (y * np.width + x) * 4;
  return np.data[i] === 0 && np.data[i + 1] === 0 && np.data[i + 2] === 0 && np.data[i + 3] === 255;
}

/** thumbor's `get_padding`: from the first/last marker of the bottom row (left/right) and right column (top/bottom). */
export function ninePatchPadding(np: RawImage): Padding {
  const pad: Padding = { left: 0, top: 0, right: 0, bottom: 0 };
  const bottomRow = np.height - 1,
    rightCol = np.width - 1;
  for (let x = 1; x < np.width - 1; x++)
    if (isMarker(np, x, bottomRow)) {
      pad.left = x - 1;
      break;
    }
  for (let x = np.width - 2; x >= 1; x--)
    if (isMarker(np, x, bottomRow)) {
      pad.right = np.width - 2 - x;
      break;
    }
  for (let y = 1; y < np.height - 1; y++)
    if (isMarker(np, rightCol, y)) {
      pad.top = y - 1;
      break;
    }
  for (let y = np.height - 2; y >= 1; y--)
    if (isMarker(np, rightCol, y)) {
      pad.bottom = np.height - 2 - y;
      break;
    }
  return pad;
}

/** The interior's runs of fixed and stretchy columns (axis "x", markers in the top row) or rows ("y", left column). */
export function ninePatchSegments(np: RawImage, axis: "x" | "y"): Segment[] {
  const size = axis === "x" ? np.width : np.height;
  const stretchy = (i: number) => (axis === "x" ? isMarker(np, i, 0) : isMarker(np, 0, i));
  const segments: Segment[] = [];
  for (let i = 1; i < size - 1;) {
    const kind = stretchy(i);
    let end = i + 1;
    while (end < size - 1 && stretchy(end) === kind) end++;
    segments.push({ source: i, length: end - i, stretchy: kind });
    i = end;
  }
  return segments;
}

/** Target lengths of the segments for a side of `target` pixels (thumbor's rounding). */
export function segmentLengths(segments: Segment[], target: number): number[] {
  const stretchyTotal = segments.filter((s) => s.stretchy).reduce((a, s) => a + s.length, 0);
  const fixedTotal = segments.filter((s) => !s.stretchy).reduce((a, s) => a + s.length, 0);
  const share = Math.max(0, target - fixedTotal);
  return segments.map((s) => (s.stretchy ? Math.trunc((s.length / stretchyTotal) * share + 0.5) : s.length));
}

function padWithWhite(frame: RawImage, pad: Padding): RawImage {
  const width = frame.width + pad.left + pad.right;
  const height = frame.height + pad.top + pad.bottom;
  const data = Buffer.alloc(width * height * 4, 255);
  for (let y = 0; y < frame.height; y++) {
    for (let x = 0; x < frame.width; x++) {
      const i = (y * frame.width + x) * frame.channels;
      const o = ((y + pad.top) * width + x + pad.left) * 4;
      data[o] = frame.data[i];
      data[o + 1] = frame.data[i + 1];
      data[o + 2] = frame.data[i + 2];
      data[o + 3] = frame.channels === 4 ? frame.data[i + 3] : 255;
    }
  }
  return { data, width, height, channels: 4, frames: 1 };
}

function cropRaw(img: RawImage, left: number, top: number, width: number, height: number): RawImage {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++)
    img.data.copy(data, y * width * 4, ((top + y) * img.width + left) * 4, ((top + y) * img.width + left + width) * 4);
  return { data, width, height, channels: 4, frames: 1 };
}

async function frameOne(frame: RawImage, np: RawImage, deadline: RenderDeadline | undefined): Promise<RawImage> {
  const padded = padWithWhite(frame, ninePatchPadding(np));
  const columns = ninePatchSegments(np, "x");
  const rows = ninePatchSegments(np, "y");
  const widths = segmentLengths(columns, padded.width);
  const heights = segmentLengths(rows, padded.height);
  const canvas = Buffer.alloc(padded.width * padded.height * 4);
  let ty = 0;
  for (let r = 0; r < rows.length; r++) {
    checkDeadline(deadline);
    let tx = 0;
    for (let c = 0; c < columns.length; c++) {
      const tw = widths[c],
        th = heights[r];
      if (tw > 0 && th > 0 && tx + tw <= padded.width && ty + th <= padded.height) {
        let cell = cropRaw(np, columns[c].source, rows[r].source, columns[c].length, rows[r].length);
        if (tw !== cell.width || th !== cell.height)
          cell = await materialise(fromRaw(cell).resize(tw, th, { fit: "fill", kernel: "linear" }));
        for (let y = 0; y < th; y++) cell.data.copy(canvas, ((ty + y) * padded.width + tx) * 4, y * tw * 4, (y + 1) * tw * 4);
      }
      tx += tw;
    }
    ty += heights[r];
  }
  const out = await compositeOver(padded, canvas);
  if (frame.channels === 4) return out;
  // The picture was opaque and the padding is opaque white: keep it RGB.
  const rgb = Buffer.alloc(out.width * out.height * 3);
  for (let i = 0, o = 0; i < out.data.length; i += 4, o += 3) out.data.copy(rgb, o, i, i + 3);
  return { ...out, data: rgb, channels: 3 };
}

export const frame: PostFilterEffect = async (image, args, ctx) => {
  const np = await loadBucketImage("frame", "frame image", stringArg("frame", args, 0), ctx);
  const frames: RawImage[] = [];
  for (const f of splitFrames(await materialise(image))) frames.push(await frameOne(f, np, ctx.deadline));
  return fromRaw(joinFrames(frames));
};
