/**
 * The S3 side of the local edge: a client aimed at an S3-compatible endpoint, the embedded
 * s3rver (data kept in a folder across restarts), and a start-up check that the bucket is
 * reachable, so a wrong endpoint is one clear line instead of a failure on the first request.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { CreateBucketCommand, HeadBucketCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import type { EventEmitter } from "node:events";
import https from "node:https";
import tls from "node:tls";
import S3rver from "s3rver";
import { S3HttpClient } from "../handlers/s3/client.js";
import type { S3rverEvent } from "./purge.js";
import { startSignatureCheck, type LoopbackTls, type SignatureCheck } from "./signature-check.js";

export interface S3Target {
  client: S3Client;
  bucket: string;
  region: string;
  /** `http://host:port` of an S3-compatible server; undefined = AWS S3 itself. */
  endpoint: string | undefined;
}

/** s3rver accepts only its own fixed credentials. */
export const S3RVER_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

export const LOCAL_REGION = "us-east-1";

/** The handlers' own S3 client (origin-response's) aimed at a local S3-compatible server. */
export function createHandlerS3Client(endpoint: string, credentials = S3RVER_CREDENTIALS): S3HttpClient {
  return new S3HttpClient({ region: LOCAL_REGION, endpoint, credentials });
}

/**
 * An S3 client for `endpoint` (or AWS S3 when undefined). Checksums only WHEN_REQUIRED: with
 * the SDK's default, a streamed upload to s3rver is stored with its aws-chunked framing.
 */
export function createS3Client(options: {
  endpoint: string | undefined;
  region: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** A certificate to trust besides the system's: the embedded S3's own over HTTPS (loopbackTls). */
  ca?: Buffer;
}): S3Client {
  return new S3Client({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    // Fail fast on a dead endpoint; a local or regional S3 answers well within this.
    requestHandler: {
      connectionTimeout: 3_000,
      ...(options.ca ? { httpsAgent: new https.Agent({ keepAlive: true, ca: [...tls.rootCertificates, options.ca.toString()] }) } : {}),
    },
  });
}

export interface EmbeddedS3 {
  /** Where clients go: s3rver behind the signature check (signature-check.ts). */
  endpoint: string;
  /** The requests the check let through and refused. */
  signatures: SignatureCheck;
  /** Listens to s3rver's S3-style event for each object PUT, POST, COPY and DELETE (the purge hook). */
  onObjectEvent(listener: (event: S3rverEvent) => void): void;
  close(): Promise<void>;
}

/**
 * Where the local edge announces its embedded S3 while it runs: `npm run upload` then writes
 * through it (not through a second s3rver on the same folder), so its events purge variants.
 */
export function embeddedEndpointFile(directory: string): string {
  return `${directory.replace(/[\\/]+$/, "")}.endpoint`;
}

/** The endpoint of the local edge's embedded S3 when one is running on `directory` and answers. */
export async function runningEmbeddedS3(directory: string, bucket: string): Promise<string | undefined> {
  let endpoint: string;
  try {
    endpoint = readFileSync(embeddedEndpointFile(directory), "utf8").trim();
  } catch {
    return undefined;
  }
  const client = createS3Client({ endpoint, region: LOCAL_REGION, credentials: S3RVER_CREDENTIALS });
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: AbortSignal.timeout(2_000) });
    return endpoint;
  } catch {
    return undefined; // a stale file from an edge that did not stop cleanly
  } finally {
    client.destroy();
  }
}

/**
 * Starts s3rver on loopback (any free port), keeping its objects in `directory`, with `bucket`
 * created, behind a check of every request's signature as S3 makes it (s3rver makes none).
 */
/**
 * `tls`: clients reach it over HTTPS with this certificate (loopbackTls), as they reach AWS's S3,
 * so what TLS costs a GET is measured too; plain HTTP by default.
 */
export async function startEmbeddedS3(
  directory: string,
  bucket: string,
  options: { announce?: boolean; tls?: LoopbackTls } = {},
): Promise<EmbeddedS3> {
  mkdirSync(directory, { recursive: true });
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    resetOnClose: false,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  const address = await server.run();
  const signatures = await startSignatureCheck(
    `http://127.0.0.1:${address.port}`,
    { [S3RVER_CREDENTIALS.accessKeyId]: S3RVER_CREDENTIALS.secretAccessKey },
    options.tls,
  );
  const endpoint = signatures.url;
  const announcement = embeddedEndpointFile(directory);
  if (options.announce) writeFileSync(announcement, `${endpoint}\n`);
  return {
    endpoint,
    signatures,
    onObjectEvent: (listener) => void (server as unknown as EventEmitter).on("event", listener),
    close: async () => {
      if (options.announce) rmSync(announcement, { force: true });
      await signatures.close();
      await server.close();
    },
  };
}

export class S3UnreachableError extends Error {
  override name = "S3UnreachableError";
}

/**
 * Checks that `target.bucket` answers; creates it when the server says it does not exist
 * (a fresh MinIO or s3rver). Any other failure becomes one S3UnreachableError line.
 */
export async function ensureBucket(target: S3Target): Promise<void> {
  const where = target.endpoint ?? `AWS S3 (${target.region})`;
  try {
    await target.client.send(new HeadBucketCommand({ Bucket: target.bucket }), { abortSignal: AbortSignal.timeout(10_000) });
    return;
  } catch (err) {
    if (!(err instanceof S3ServiceException && err.$metadata.httpStatusCode === 404)) {
      throw new S3UnreachableError(`cannot reach bucket "${target.bucket}" at ${where}: ${describeS3Error(err)}`);
    }
  }
  try {
    await target.client.send(new CreateBucketCommand({ Bucket: target.bucket }));
  } catch (err) {
    throw new S3UnreachableError(`bucket "${target.bucket}" does not exist at ${where} and cannot be created: ${describeS3Error(err)}`);
  }
}

/** A short, stack-free description of an S3 client failure (network code or S3 error name). */
export function describeS3Error(err: unknown): string {
  if (err instanceof S3ServiceException) {
    const status = err.$metadata.httpStatusCode;
    return `${err.name}${status ? ` (HTTP ${status})` : ""}${err.message && err.message !== "UnknownError" && err.message !== err.name ? `: ${err.message}` : ""}`;
  }
  const e = err as { code?: string; name?: string; message?: string; errors?: { code?: string }[] };
  // Node's AggregateError (IPv4 + IPv6 attempts) hides the code in its parts.
  const code = e.code ?? e.errors?.find((x) => x.code)?.code;
  if (code) return code;
  if (e.name === "TimeoutError" || e.name === "AbortError") return "no answer within the time limit";
  return e.message ?? String(err);
}
