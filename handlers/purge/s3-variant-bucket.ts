/**
 * The purge's VariantBucket on the S3 API (the deployed function, the command line and the local
 * edge's s3rver all go through it).
 */
import { DeleteObjectsCommand, HeadObjectCommand, ListObjectsV2Command, S3ServiceException, type S3Client } from "@aws-sdk/client-s3";
import { SOURCE_ETAG_METADATA } from "../core/variant-source.js";
import type { VariantBucket } from "./purger.js";

/** DeleteObjects takes at most 1,000 keys per call. */
const DELETE_BATCH = 1000;

export function s3VariantBucket(client: S3Client, bucket: string): VariantBucket {
  const head = async (key: string) => {
    try {
      return await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  };
  return {
    async listKeys(prefix) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys;
    },
    async etagOf(key) {
      return (await head(key))?.ETag;
    },
    async recordedSourceOf(variantKey) {
      return (await head(variantKey))?.Metadata?.[SOURCE_ETAG_METADATA];
    },
    async deleteKeys(keys) {
      for (let i = 0; i < keys.length; i += DELETE_BATCH) {
        const batch = keys.slice(i, i + DELETE_BATCH);
        const out = await client.send(
          new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
        );
        const failed = out.Errors ?? [];
        if (failed.length > 0)
          throw new Error(`S3 refused to delete ${failed.length} variant(s), e.g. ${failed[0]!.Key}: ${failed[0]!.Code}`);
      }
    },
  };
}

/** The purge may list only the variant prefix, so S3 answers a missing original with 403, not 404. */
function isMissing(err: unknown): boolean {
  const status = (err as S3ServiceException).$metadata?.httpStatusCode;
  return (err as Error).name === "NotFound" || (err as Error).name === "NoSuchKey" || status === 404 || status === 403;
}
