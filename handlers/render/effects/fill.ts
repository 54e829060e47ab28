/**
 * fill(colour[, fill_transparent]): thumbor makes a canvas of the request size (a 0 side uses the
 * image's) and pastes the image centred on it ((W - w) // 2). `transparent` keeps an alpha
 * canvas, `auto` uses the automatic colour (colour.ts `meanColour`: thumbor's mean of the resized
 * image), `blur` the image itself stretched and blurred with radius 50. `fill_transparent` also
 * paints the image's own transparent pixels.
 * Here: sharp's extend on the same layout; `blur` stretches and blurs with sigma 25 (thumbor's
 * radius 50); animated images, which sharp cannot composite frame by frame, get the automatic
 * colour instead of `blur`. A JPEG encode flattens onto the fill colour.
 */
import sharp, { type Sharp } from "sharp";
import { RequestError } from "../../core/errors.js";
import { fillLayout } from "../geometry.js";
import { booleanArg, stringArg } from "../common/filter-args.js";
import { meanColour, parseColour } from "./colour.js";
import type { PostFilterEffect } from "./index.js";
import { fromRaw, hasAlphaChannel, materialise, type RawImage } from "../common/raw.js";

type Layout = ReturnType<typeof fillLayout>;

export const fill: PostFilterEffect = async (input, args, ctx) => {
  const mode = stringArg("fill", args, 0).toLowerCase();
  const fillTransparent = booleanArg("fill", args, 1);
  const raw = await materialise(input, "keep");
  const layout = fillLayout(ctx.request, { width: raw.width, height: raw.height });
  const { maxWidth, maxHeight } = ctx.settings;
  if (layout.canvas.width > maxWidth || layout.canvas.height > maxHeight) {
    throw new RequestError(400, `fill canvas ${layout.canvas.width}x${layout.canvas.height} exceeds the maximum ${maxWidth}x${maxHeight}`);
  }
  const { image, width, height } = await clipToCanvas(raw, layout);
  const left = Math.max(0, layout.left);
  const top = Math.max(0, layout.top);
  if (mode === "blur" && raw.frames === 1) return blurredBackdrop(raw, image, layout, left, top, fillTransparent);

  let colour: string | { r: number; g: number; b: number; alpha: number };
  if (mode === "transparent") colour = { r: 0, g: 0, b: 0, alpha: 0 };
  else if (mode === "auto" || mode === "blur") colour = meanColour(raw);
  else colour = parseColour(mode);
  let out = image;
  if (fillTransparent && hasAlphaChannel(raw) && typeof colour === "string")
    out = fromRaw(await materialise(out.flatten({ background: colour }), "keep", raw.frames));
  if (typeof colour === "string") ctx.flatten.colour = colour;
  else out = out.ensureAlpha();
  const pad = { left, top, right: layout.canvas.width - width - left, bottom: layout.canvas.height - height - top };
  return out.extend({ ...pad, background: colour });
};

/** The image is larger than the canvas on an axis: keep its centre (Pillow's paste clips). */
async function clipToCanvas(raw: RawImage, layout: Layout): Promise<{ image: Sharp; width: number; height: number }> {
  const image = fromRaw(raw);
  if (layout.left >= 0 && layout.top >= 0) return { image, width: raw.width, height: raw.height };
  const cut = {
    left: Math.max(0, -layout.left),
    top: Math.max(0, -layout.top),
    width: Math.min(raw.width, layout.canvas.width),
    height: Math.min(raw.height, layout.canvas.height),
  };
  return { image: fromRaw(await materialise(image.extract(cut), "keep", raw.frames)), width: cut.width, height: cut.height };
}

async function blurredBackdrop(
  raw: RawImage,
  image: Sharp,
  layout: Layout,
  left: number,
  top: number,
  fillTransparent: boolean,
): Promise<Sharp> {
  const sigma = 25; // thumbor blurs with radius 50
  const backdrop = await fromRaw(raw)
    .resize(layout.canvas.width, layout.canvas.height, { fit: "fill" })
    .blur(sigma)
    .removeAlpha()
    .png()
    .toBuffer();
  const fg = fillTransparent && hasAlphaChannel(raw) ? image.flatten({ background: meanColour(raw) }) : image;
  return sharp(backdrop).composite([{ input: await fg.png().toBuffer(), left, top }]);
}
