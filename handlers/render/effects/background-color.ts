/**
 * background_color(colour): thumbor pastes the image with merge onto a canvas of its size filled
 * with the colour (a CSS name or hex without "#"; `transparent` changes nothing). The paste makes
 * both RGBA, so an image with alpha comes out RGBA (opaque where the colour is), and a later JPEG
 * encode flattens onto this colour.
 * Here: the same merge (composite.ts, thumbor's arithmetic) frame by frame for images with alpha;
 * an opaque image is left as it is (merging over an opaque colour changes no pixel). `auto` takes
 * fill's automatic colour (thumbor's gen_image would not accept it).
 * Parity: exact for images with alpha; an opaque PNG stays RGB where thumbor adds an opaque alpha.
 */
import { stringArg } from "../common/filter-args.js";
import { colourBytes, meanColour, parseColour } from "./colour.js";
import { pasteMerged } from "./composite.js";
import type { PostFilterEffect } from "./index.js";
import { fromRaw, greyToRgb, hasAlphaChannel, joinFrames, materialise, splitFrames, type RawImage } from "../common/raw.js";

export const backgroundColor: PostFilterEffect = async (image, args, ctx) => {
  const name = stringArg("background_color", args, 0).toLowerCase();
  if (name === "" || name === "transparent") return image;
  const raw = await materialise(image, "keep");
  const colour = name === "auto" ? meanColour(raw) : parseColour(name);
  ctx.flatten.colour = colour;
  if (!hasAlphaChannel(raw)) return fromRaw(raw);
  const rgb = await colourBytes(colour);
  const frames = splitFrames(greyToRgb(raw)).map((frame) => pasteMerged(solidCanvas(frame, rgb), frame, 0, 0));
  return fromRaw(joinFrames(frames));
};

/** An opaque RGBA frame of `like`'s size filled with one colour. */
function solidCanvas(like: RawImage, [r, g, b]: number[]): RawImage {
  const data = Buffer.alloc(like.width * like.height * 4);
  for (let i = 0; i < data.length; i += 4) {
    data[i] = r!;
    data[i + 1] = g!;
    data[i + 2] = b!;
    data[i + 3] = 255;
  }
  return { data, width: like.width, height: like.height, channels: 4, frames: 1 };
}
