/**
 * proportion(p): thumbor scales the current image by p (0 < p ≤ 1), each side floored; other
 * values change nothing (geometry.ts `proportionSize`).
 * Here: a plain resize to that size. Parity: the resampling kernel differs (sharp's Lanczos 3
 * against Pillow's), as for every resize.
 */
import { proportionSize } from "../geometry.js";
import { numberArg } from "../common/filter-args.js";
import type { PostFilterEffect } from "./index.js";

export const proportion: PostFilterEffect = async (image, args, ctx) => {
  const to = proportionSize(ctx.width, ctx.height, numberArg("proportion", args, 0));
  return to ? image.resize(to.width, to.height, { fit: "fill" }) : image;
};
