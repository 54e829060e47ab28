/** Where the local edge keeps things: one place, shared by `npm start` and `npm run upload`. */
import { join, resolve } from "node:path";

export const REPO_ROOT = resolve(__dirname, "..");
/** The embedded s3rver's objects; git-ignored, kept across restarts. */
export const DEFAULT_DATA_DIR = join(REPO_ROOT, ".data", "s3");
/** The embedded S3's only bucket. */
export const LOCAL_BUCKET = "edge-resizer-local";
export const SAMPLES_DIR = join(__dirname, "samples");
/** Key prefix of the sample originals in the bucket. */
export const SAMPLES_PREFIX = "samples";
