/**
 * `edge-resizer purge`: against a running local edge (its store and cache), the dry run, the
 * names read from `pulumi stack output --json`, and the audit's exit codes.
 */
import test from "ava";
import { spawnSync } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { PutObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import sharp from "sharp";
import { namesFromStackOutput, parsePurgeCommandLine, PurgeUsageError, runPurgeCommand } from "../../cli/purge.js";
import { startLocalEdge, type LocalEdgeServer } from "../../local/server.js";

const REPO = resolve(__dirname, "..", "..");
const dataDir = mkdtempSync(join(tmpdir(), "purge-cli-"));
let edge: LocalEdgeServer;

test.before(async () => {
  edge = await startLocalEdge({ port: 0, dataDir, uploadSamples: false, log: () => {}, recheck: () => {} });
  const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: "#336699" } })
    .png()
    .toBuffer();
  await edge.s3.client.send(new PutObjectCommand({ Bucket: edge.s3.bucket, Key: "cli/one.png", Body: png, ContentType: "image/png" }));
});

test.after.always(async () => {
  await edge?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function capture() {
  let out = "";
  let err = "";
  return {
    io: {
      out: {
        write: (s: string) => {
          out += s;
          return true;
        },
      },
      err: {
        write: (s: string) => {
          err += s;
          return true;
        },
      },
      readStdin: async () => "",
    } as any,
    get out() {
      return out;
    },
    get err() {
      return err;
    },
  };
}

async function variants(): Promise<string[]> {
  const out = await edge.s3.client.send(new ListObjectsV2Command({ Bucket: edge.s3.bucket, Prefix: "variants/cli/" }));
  return (out.Contents ?? []).map((o) => o.Key!);
}

test.serial("--local --dry-run lists what would go and changes nothing; then the purge deletes it and empties the cache", async (t) => {
  t.is((await fetch(`${edge.url}/cli/one.png?d=20x15`)).status, 200);
  t.is((await variants()).length, 1);
  const dry = capture();
  t.is(await runPurgeCommand(["cli/one.png", "--local", edge.url, "--dry-run"], dry.io), 0);
  t.regex(dry.out, /would delete variants\/cli\/one\.png\//);
  t.regex(dry.out, /dry run: 1 variant\(s\) would be deleted; invalidate \/variants\/cli\/one\.png\/\*/);
  t.is((await variants()).length, 1);
  t.is((await fetch(`${edge.url}/cli/one.png?d=20x15`)).headers.get("x-cache"), "Hit from cloudfront");

  const real = capture();
  t.is(await runPurgeCommand(["cli/", "--local", edge.url], real.io), 0);
  t.regex(real.out, /1 variant\(s\) deleted; invalidated \/variants\/cli\/\*/);
  t.deepEqual(await variants(), []);
  t.is((await fetch(`${edge.url}/cli/one.png?d=20x15`)).headers.get("x-cache"), "Miss from cloudfront");
});

test("targets: a trailing / is a prefix, / alone every original; names come from pulumi stack output", (t) => {
  const command = parsePurgeCommandLine(["images/cat.jpg", "images/", "/", "--bucket", "b", "--distribution", "E1"]);
  if (command === "help") return t.fail();
  t.deepEqual(command.targets, [
    { kind: "original", key: "images/cat.jpg" },
    { kind: "prefix", prefix: "images/" },
    { kind: "prefix", prefix: "" },
  ]);
  t.deepEqual(namesFromStackOutput(JSON.stringify({ bucketName: "bkt", distributionId: "E2", url: "https://x" })), {
    bucket: "bkt",
    distribution: "E2",
  });
  t.throws(() => namesFromStackOutput("not json"), { instanceOf: PurgeUsageError });
  t.throws(() => parsePurgeCommandLine([]), { instanceOf: PurgeUsageError });
  t.throws(() => parsePurgeCommandLine(["a", "--local", "http://x", "--bucket", "b"]), { instanceOf: PurgeUsageError });
});

test("exit codes: 2 for usage errors and missing names (one line, no stack); 1 when the local edge refuses", async (t) => {
  const run = (args: string[], input = "") =>
    spawnSync(process.execPath, [join(REPO, "bin", "edge-resizer.cjs"), ...args], { input, encoding: "utf8", cwd: REPO });
  const noNames = run(["purge", "images/cat.jpg"], JSON.stringify({ bucketName: "bkt" }));
  t.is(noNames.status, 2);
  t.regex(noNames.stderr, /^edge-resizer: name the bucket and distribution/);
  t.is(noNames.stderr.trim().split("\n").length, 1);
  t.is(run(["purge", "--nope", "x"]).status, 2);
  // A local edge that fails the purge (e.g. its S3 is gone): the purge failed, exit 1.
  const failing = createServer((req, res) =>
    req.resume().on("end", () => res.writeHead(500, { "content-type": "application/json" }).end('{"error":"S3 unreachable"}')),
  );
  await new Promise<void>((done) => failing.listen(0, "127.0.0.1", done));
  t.teardown(() => failing.close());
  const refused = capture();
  t.is(await runPurgeCommand(["a.png", "--local", `http://127.0.0.1:${(failing.address() as AddressInfo).port}`], refused.io), 1);
  t.regex(refused.err, /purge failed: .*S3 unreachable/);
});
