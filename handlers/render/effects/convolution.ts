/**
 * convolution(matrix, columns[, normalize]): thumbor (`_convolution.c`) convolves R, G, B (and
 * alpha) with the kernel given as `a;b;c;...` in rows of `columns` items, divided by the sum of
 * its items when `normalize` (default true) and that sum is not 0; edges are extended, results
 * truncated and clamped. The kernel must have an odd number of items, rows and columns: thumbor
 * fails the request (500) otherwise; here that is a 400.
 *
 * Here: sharp's `convolve` with the same (normalised) kernel. Parity: exact or within 1 level in
 * the tests (libvips sums in float32 and floors; thumbor sums in doubles and truncates); alpha is
 * convolved premultiplied here, straight in thumbor.
 * sharp takes kernels up to 1001×1001.
 */
import { RequestError } from "../../core/errors.js";
import { booleanArg, integerArg, stringArg } from "../common/filter-args.js";
import { convolveRaw } from "./kernel.js";
import { perFrame } from "../common/raw.js";

/** Parses and checks a thumbor kernel; returns it normalised as thumbor would. */
export function thumborKernel(matrix: string, columns: number, normalize: boolean): number[] {
  if (!/^-?\d+(?:\.\d*)?(?:;-?\d+(?:\.\d*)?)*$/.test(matrix))
    throw new RequestError(400, "convolution: the matrix must be numbers separated by ';'");
  const items = matrix.split(";").map(Number);
  const rows = items.length / columns;
  if (columns < 1 || !Number.isInteger(rows) || items.length % 2 === 0 || rows % 2 === 0) {
    throw new RequestError(400, "convolution: the matrix must have an odd number of rows and of columns");
  }
  if (columns > 1001 || rows > 1001) throw new RequestError(400, "convolution: the matrix is larger than 1001x1001");
  const sum = items.reduce((a, b) => a + b, 0);
  return normalize && sum !== 0 ? items.map((v) => v / sum) : items;
}

export const convolution = perFrame((frame, args) => {
  const columns = integerArg("convolution", args, 1);
  const kernel = thumborKernel(stringArg("convolution", args, 0), columns, booleanArg("convolution", args, 2));
  return convolveRaw(frame, kernel, columns);
});
