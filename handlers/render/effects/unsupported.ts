/**
 * thumbor filters with pixel effects that edge-resizer does not implement, and why. The
 * compatibility table and the audit read the reasons from here.
 *
 * red_eye(): thumbor's `redeye` module (not in thumbor's BUILTIN_FILTERS: an installation must
 * add it to FILTERS) runs OpenCV Haar-cascade eye detection inside the face focal points found by
 * thumbor's face detector, then lowers the red channel where the red dominates in those eye boxes.
 * Without a face and eye detector (none fits in a Lambda@Edge bundle, and sharp has none) there is
 * nowhere to apply it; desaturating red everywhere would damage pictures that thumbor leaves alone.
 * So it is not implemented: as for any filter thumbor does not know by default, the grammar drops
 * the call (or, with `thumbor.strictFilters`, answers 400 "filter not supported: red_eye").
 */
export const UNSUPPORTED_FILTER_REASONS: Readonly<Record<string, string>> = Object.freeze({
  red_eye: "needs face and eye detection (OpenCV in thumbor); not available at the edge",
});
