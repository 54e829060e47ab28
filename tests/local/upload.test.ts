/**
 * The upload command and its core (local/upload-folder.ts) against a real embedded s3rver:
 * recursive keys under a prefix, skip-if-unchanged by size + MD5, never a key under the
 * variant prefix, and the CLI's output and one-line errors.
 */
import test from "ava";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { S3RVER_CREDENTIALS, createS3Client, startEmbeddedS3, type EmbeddedS3 } from "../../local/s3.js";
import { UploadError, uploadFolder } from "../../local/upload-folder.js";

const run = promisify(execFile);
const REPO = resolve(__dirname, "..", "..");
const BUCKET = "upload-test";

let s3: EmbeddedS3;
let client: S3Client;
const scratch = mkdtempSync(join(tmpdir(), "local-upload-"));

test.before(async () => {
  s3 = await startEmbeddedS3(join(scratch, "s3"), BUCKET);
  client = createS3Client({ endpoint: s3.endpoint, region: "us-east-1", credentials: S3RVER_CREDENTIALS });
});

test.after.always(async () => {
  client?.destroy();
  await s3?.close();
  rmSync(scratch, { recursive: true, force: true });
});

function folderWith(name: string, files: Record<string, string | Buffer>): string {
  const root = join(scratch, name);
  for (const [path, body] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), body);
  }
  return root;
}

async function keys(prefix: string): Promise<string[]> {
  const out = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

async function text(key: string): Promise<string> {
  const out = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return out.Body!.transformToString();
}

test.serial("uploads a folder recursively under the prefix, leaving hidden files out", async (t) => {
  const folder = folderWith("tree", { "a.jpg": "aaaa", "sub/deeper/b.png": "bbbbbb", ".DS_Store": "x", ".git/config": "y" });
  const result = await uploadFolder({ client, bucket: BUCKET, folder, prefix: "/team/photos/", variantPrefix: "variants" });
  t.is(result.total, 2);
  t.is(result.uploaded, 2);
  t.is(result.bytes, 10);
  t.deepEqual(await keys("team/"), ["team/photos/a.jpg", "team/photos/sub/deeper/b.png"]);
  t.is(await text("team/photos/sub/deeper/b.png"), "bbbbbb");
  const head = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "team/photos/a.jpg" }));
  t.is(head.ContentType, "image/jpeg");
});

test.serial("a second run skips unchanged files and re-uploads a changed one of the same size", async (t) => {
  const folder = folderWith("again", { "one.jpg": "11111111", "two.jpg": "22222222" });
  const first = await uploadFolder({ client, bucket: BUCKET, folder, prefix: "again", variantPrefix: "variants" });
  t.like(first, { uploaded: 2, unchanged: 0 });
  const second = await uploadFolder({ client, bucket: BUCKET, folder, prefix: "again", variantPrefix: "variants" });
  t.like(second, { uploaded: 0, unchanged: 2, bytes: 0 });

  writeFileSync(join(folder, "two.jpg"), "33333333"); // same size, other bytes: only the MD5 tells
  const progress: number[] = [];
  const third = await uploadFolder({
    client,
    bucket: BUCKET,
    folder,
    prefix: "again",
    variantPrefix: "variants",
    onProgress: (p) => progress.push(p.done),
  });
  t.like(third, { uploaded: 1, unchanged: 1, total: 2 });
  t.is(await text("again/two.jpg"), "33333333");
  t.deepEqual(progress, [0, 1, 2]);
});

test.serial("never writes under the variant prefix", async (t) => {
  const folder = folderWith("sneaky", { "ok.jpg": "ok", "cache/v/x.jpg": "forged variant" });
  const result = await uploadFolder({ client, bucket: BUCKET, folder, variantPrefix: "cache/v" });
  t.deepEqual(result.refused, ["cache/v/x.jpg"]);
  t.is(result.uploaded, 1);
  t.deepEqual(await keys("cache/"), []);

  const err = await t.throwsAsync(uploadFolder({ client, bucket: BUCKET, folder, prefix: "cache/v/more", variantPrefix: "cache/v" }));
  t.true(err instanceof UploadError);
  t.regex(err!.message, /under the variant prefix "cache\/v"/);
  t.deepEqual(await keys("cache/"), []);
});

test.serial("a folder that does not exist is a precise error", async (t) => {
  const err = await t.throwsAsync(uploadFolder({ client, bucket: BUCKET, folder: join(scratch, "nope"), variantPrefix: "variants" }));
  t.true(err instanceof UploadError);
  t.regex(err!.message, /cannot read folder .*nope: ENOENT/);
});

const cliEnv = () => ({
  ...process.env,
  AWS_ACCESS_KEY_ID: "S3RVER",
  AWS_SECRET_ACCESS_KEY: "S3RVER",
  S3_ENDPOINT: "",
  S3_BUCKET: "",
  RESIZER_SETTINGS: "",
});

test.serial("npm run upload: counter lines off a TTY, then everything unchanged on a second run", async (t) => {
  const folder = folderWith("cli", { "c1.jpg": "c1", "nested/c2.jpg": "c2" });
  const args = ["--import=tsx", join(REPO, "local/upload.ts"), folder, "--endpoint", s3.endpoint, "--bucket", BUCKET, "--prefix", "cli"];
  const first = await run(process.execPath, args, { env: cliEnv(), cwd: REPO });
  t.regex(first.stdout, /^2\/2 files \(2 uploaded, 0 unchanged\)$/m);
  t.regex(first.stdout, /done: 2 uploaded/);
  t.deepEqual(await keys("cli/"), ["cli/c1.jpg", "cli/nested/c2.jpg"]);
  const second = await run(process.execPath, args, { env: cliEnv(), cwd: REPO });
  t.regex(second.stdout, /done: 0 uploaded \(0\.0 MB\), 2 unchanged, 2 files/);
});

test.serial("npm run upload: an unreachable endpoint is one line and exit code 1", async (t) => {
  const folder = folderWith("cli-dead", { "d.jpg": "d" });
  const err = (await t.throwsAsync(
    run(process.execPath, ["--import=tsx", join(REPO, "local/upload.ts"), folder, "--endpoint", "http://127.0.0.1:9", "--bucket", BUCKET], {
      env: cliEnv(),
      cwd: REPO,
    }),
  )) as Error & { code: number; stderr: string };
  t.is(err.code, 1);
  t.regex(err.stderr, /^cannot reach bucket "upload-test" at http:\/\/127\.0\.0\.1:9: ECONNREFUSED\n$/);
});
