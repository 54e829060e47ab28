/**
 * `npm start`: the local edge with its configuration read from the environment (all optional):
 *   PORT (8080), HOST (127.0.0.1), RESIZER_SETTINGS (a settings.json, or a stack's config: a
 *   Pulumi.<stack>.yaml or `pulumi config --json --show-secrets` output; default: the built-in defaults),
 *   S3_ENDPOINT + S3_BUCKET (an existing S3-compatible server instead of the embedded s3rver),
 *   RESIZER_ORIGINALS (a folder uploaded into the bucket at start), CACHE_BYTES (256 MiB).
 * Start-up problems are one line on stderr and exit code 1, never a stack.
 */
import { relative } from "node:path";
import { SettingsError, DEFAULT_SETTINGS } from "../handlers/core/settings.js";
import { loadSettingsOrStack } from "../cli/stack-file.js";
import { S3UnreachableError } from "./s3.js";
import { DEFAULT_DATA_DIR, REPO_ROOT } from "./locations.js";
import { DEFAULT_CACHE_BYTES, StartupError, startLocalEdge, type LocalEdgeOptions } from "./server.js";
import { UploadError } from "./upload-folder.js";

// Node 20 is this project's runtime (DEVELOPERS.md); the SDK's multi-line notice about Node 22
// would bury the one-line messages of this command.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

class ConfigError extends Error {}

function wholeNumber(name: string, fallback: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) > max) throw new ConfigError(`${name} must be a whole number from 0 to ${max}, got "${raw}"`);
  return Number(raw);
}

async function optionsFromEnvironment(): Promise<LocalEdgeOptions> {
  const env = process.env;
  const settingsPath = env.RESIZER_SETTINGS;
  const endpoint = env.S3_ENDPOINT || undefined;
  const bucket = env.S3_BUCKET || undefined;
  if (endpoint && !bucket) throw new ConfigError("S3_ENDPOINT is set but S3_BUCKET is not: name the bucket to serve from");
  if (endpoint && !/^https?:\/\/[^/]+/i.test(endpoint)) throw new ConfigError(`S3_ENDPOINT must be an http(s):// URL, got "${endpoint}"`);
  return {
    port: wholeNumber("PORT", 8080, 65535),
    host: env.HOST || "127.0.0.1",
    settings: settingsPath ? await loadSettingsOrStack(settingsPath) : DEFAULT_SETTINGS,
    // S3_BUCKET alone means the bucket on AWS S3 itself (standard AWS credentials and AWS_REGION).
    s3: bucket ? { endpoint, bucket, region: env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined } : undefined,
    originals: env.RESIZER_ORIGINALS || undefined,
    cacheBytes: wholeNumber("CACHE_BYTES", DEFAULT_CACHE_BYTES, Number.MAX_SAFE_INTEGER),
  };
}

async function main(): Promise<void> {
  const options = await optionsFromEnvironment();
  const edge = await startLocalEdge(options);
  const where = options.s3
    ? `bucket "${edge.s3.bucket}" at ${edge.s3.endpoint ?? "AWS S3"}`
    : `embedded S3 in ${relative(REPO_ROOT, DEFAULT_DATA_DIR)}/`;
  console.log(`edge-resizer local edge: ${edge.url}  (originals from ${where}; Ctrl-C stops)`);
  // Any S3 client may change originals there; the edge purges their variants as it sees the change.
  if (!options.s3) console.log(`embedded S3: ${edge.s3.endpoint}  bucket "${edge.s3.bucket}", access key and secret both S3RVER`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: shutting down`);
    edge.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

main().catch((err: unknown) => {
  const known =
    err instanceof ConfigError ||
    err instanceof SettingsError ||
    err instanceof StartupError ||
    err instanceof S3UnreachableError ||
    err instanceof UploadError;
  console.error(known ? (err as Error).message : `local edge failed to start: ${(err as Error).message ?? String(err)}`);
  process.exit(1);
});
