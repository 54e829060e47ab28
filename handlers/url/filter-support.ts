/**
 * The thumbor filters edge-resizer implements: the viewer-request side refuses (or, unless
 * strict, drops) any other filter before a variant key is made. Pure on purpose: the
 * viewer-request bundle imports it and must not pull in sharp.
 *
 * One name per line, so that each engineer adds the filters they implement without conflicts.
 * A test checks that every name here is handled by the pipeline (pipeline.ts) or registered in
 * effects/index.ts (POST_FILTER_EFFECTS), and that nothing is handled without being listed.
 */
export const IMPLEMENTED_FILTERS: ReadonlySet<string> = new Set([
  // handled by pipeline.ts / geometry.ts
  "autojpg",
  "background_color",
  "cover",
  "fill",
  "focal",
  "grayscale",
  "max_age",
  "max_bytes",
  "no_upscale",
  "proportion",
  "stretch",
  "strip_exif",
  "strip_icc",
  "upscale",
  // effects (effects/index.ts)
  "frame",
  "watermark",
  "rotate",
  "round_corner",
  "blur",
  "convolution",
  "sharpen",
  "brightness",
  "colorize",
  "contrast",
  "curve",
  "equalize",
  "noise",
  "rgb",
  "saturation",
]);
