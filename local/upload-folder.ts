/**
 * Uploads a folder of originals into a bucket, recursively: one object per file, keyed by its
 * path relative to the folder (under an optional prefix). Files whose object is already there
 * with the same size and MD5 are skipped, so a second run of a large folder is cheap. Nothing
 * is ever written under the variant prefix: those keys belong to the resizer.
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { extname, join, relative, sep } from "node:path";
import { HeadObjectCommand, PutObjectCommand, S3ServiceException, type S3Client } from "@aws-sdk/client-s3";
import { contentTypeOfExtension } from "../handlers/core/formats.js";

export interface UploadOptions {
  client: S3Client;
  bucket: string;
  folder: string;
  /** Key prefix for every file ("" = the bucket's root); slashes at either end are ignored. */
  prefix?: string;
  /** The resizer's variant prefix (settings.variantPrefix): keys under it are refused. */
  variantPrefix: string;
  /** Keep only the files for which this returns true (path relative to `folder`, with `/`). */
  filter?: (relativePath: string) => boolean;
  /** Parallel uploads. */
  concurrency?: number;
  onProgress?: (progress: UploadProgress) => void;
}

export interface UploadProgress {
  /** Files handled so far (uploaded + unchanged + refused). */
  done: number;
  total: number;
  uploaded: number;
  unchanged: number;
  /** Bytes sent so far. */
  bytes: number;
}

export interface UploadResult extends UploadProgress {
  /** Keys that were not written because they fall under the variant prefix. */
  refused: string[];
  /** Every key of the folder (uploaded or unchanged), in path order. */
  keys: string[];
}

export class UploadError extends Error {
  override name = "UploadError";
}

function imageContentType(path: string): string | undefined {
  return contentTypeOfExtension(extname(path).slice(1).toLowerCase());
}

export function contentTypeOf(path: string): string {
  return imageContentType(path) ?? "application/octet-stream";
}

export function isImagePath(path: string): boolean {
  return imageContentType(path) !== undefined;
}

/** `prefix` + relative path as an S3 key, `/`-separated, no leading slash. */
export function objectKey(prefix: string, relativePath: string): string {
  const clean = prefix.replace(/^\/+|\/+$/g, "");
  const rel = relativePath.split(sep).join("/");
  return clean ? `${clean}/${rel}` : rel;
}

export function isUnderPrefix(key: string, prefix: string): boolean {
  return key === prefix || key.startsWith(prefix + "/");
}

/** Every regular file under `folder`, relative, sorted; hidden files and folders (`.git`, `.DS_Store`) are left out. */
export async function listFiles(folder: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      if (entry.name.startsWith(".")) continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) out.push(relative(folder, full));
    }
  };
  try {
    await walk(folder);
  } catch (err) {
    throw new UploadError(`cannot read folder ${folder}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return out.sort();
}

export async function uploadFolder(options: UploadOptions): Promise<UploadResult> {
  const prefix = (options.prefix ?? "").replace(/^\/+|\/+$/g, "");
  if (prefix && isUnderPrefix(prefix, options.variantPrefix)) {
    throw new UploadError(`prefix "${prefix}" is under the variant prefix "${options.variantPrefix}", where only the resizer writes`);
  }
  const files = (await listFiles(options.folder)).filter((f) => options.filter?.(f.split(sep).join("/")) ?? true);
  const progress: UploadProgress = { done: 0, total: files.length, uploaded: 0, unchanged: 0, bytes: 0 };
  const refused: string[] = [];
  const keys: string[] = [];
  options.onProgress?.({ ...progress });

  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const file = files[next++]!;
      const key = objectKey(prefix, file);
      if (isUnderPrefix(key, options.variantPrefix)) {
        refused.push(key);
      } else {
        const body = await readFile(join(options.folder, file));
        const md5 = createHash("md5").update(body).digest("hex");
        if (await isUnchanged(options.client, options.bucket, key, body.length, md5)) {
          progress.unchanged++;
        } else {
          await options.client.send(
            new PutObjectCommand({
              Bucket: options.bucket,
              Key: key,
              Body: body,
              ContentType: contentTypeOf(file),
              // Kept as metadata too: an ETag is not the MD5 with SSE-KMS, so compare both.
              Metadata: { md5 },
            }),
          );
          progress.uploaded++;
          progress.bytes += body.length;
        }
        keys.push(key);
      }
      progress.done++;
      options.onProgress?.({ ...progress });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 8, files.length)) }, worker));
  return { ...progress, refused, keys: keys.sort() };
}

async function isUnchanged(client: S3Client, bucket: string, key: string, size: number, md5: string): Promise<boolean> {
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    const etag = head.ETag?.replace(/"/g, "");
    return head.ContentLength === size && (etag === md5 || head.Metadata?.md5 === md5);
  } catch (err) {
    if (err instanceof S3ServiceException && (err.$metadata.httpStatusCode === 404 || err.$metadata.httpStatusCode === 403)) return false;
    throw err;
  }
}
