/**
 * What an attacker found on `npm start` with signed-only settings, replayed on the local edge
 * (real HTTP on loopback, the real handlers, the embedded s3rver): other spellings of a key
 * (`/%76ariants/`, `%2F`, `%74`) must not reach a different route, render, get cached beside the
 * canonical spelling, or outlive a purge; NUL is a 400, not S3's 500; dot segments stay literal.
 */
import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import sharp from "sharp";
import { validateSettings } from "../../handlers/core/settings.js";
import { startLocalEdge, type LocalEdgeServer } from "../../local/server.js";

const SIGNED_ONLY = validateSettings({ thumbor: { allowUnsafe: false, securityKey: "k123" }, sizes: ["300x200"] });
const ACCEPT = "image/webp,image/*,*/*;q=0.8";
const dataDir = mkdtempSync(join(tmpdir(), "hostile-spellings-"));
let edge: LocalEdgeServer;

test.before(async () => {
  edge = await startLocalEdge({ port: 0, dataDir, log: () => {}, settings: SIGNED_ONLY, recheck: () => {} });
});

test.after.always(async () => {
  await edge?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A GET with the path sent byte for byte as given (fetch would normalise dot segments and escapes). */
function rawGet(path: string): Promise<{ status: number; type: string | undefined; body: Buffer }> {
  const { hostname, port } = new URL(edge.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path, method: "GET", headers: { accept: ACCEPT } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, type: res.headers["content-type"], body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

async function variantKeys(): Promise<string[]> {
  const out = await edge.s3.client.send(new ListObjectsV2Command({ Bucket: edge.s3.bucket, Prefix: "variants/" }));
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

test.serial("an encoded variant prefix neither bypasses signing nor the allow-list: 400, nothing rendered or stored", async (t) => {
  t.is((await rawGet("/variants/samples/elephants.jpg/1000x1000,blur(10),q80.webp")).status, 403);
  const answers: [string, number][] = [
    ["/%76ariants/samples/elephants.jpg/1000x1000,blur(10),q80.webp", 400],
    ["/v%61riants/samples/elephants.jpg/1000x1000,blur(10),q80.webp", 400],
    ["/variants%2Fsamples/elephants.jpg/999x999,q80.webp", 400],
    ["/variants%2fsamples%2felephants.jpg%2f999x999,q80.webp", 400],
    // Encoded twice: one decoding gives the key "%76ariants/...", an original that does not exist.
    ["/%2576ariants/samples/elephants.jpg/999x999,q80.webp", 404],
  ];
  for (const [path, status] of answers) {
    const out = await rawGet(path);
    t.is(out.status, status, path);
    t.not(out.type, "image/webp", path);
  }
  t.deepEqual(await variantKeys(), []);
});

test.serial("an encoded unsafe segment is the thumbor route, refused like /unsafe/", async (t) => {
  for (const path of ["/%75nsafe/999x999/samples/elephants.jpg", "/unsafe/999x999/samples/elephants.jpg"]) {
    t.is((await rawGet(path)).status, 403, path);
  }
  t.deepEqual(await variantKeys(), []);
});

test.serial("NUL and control bytes in an original's path are viewer-request's 400, not S3's 500", async (t) => {
  for (const path of ["/samples/elephants%00.jpg", "/samples/%00/x.jpg", "/samples/a%0D%0Ab.jpg", "/samples/elephants.jpg%00?d=300x200"]) {
    const out = await rawGet(path);
    t.is(out.status, 400, path);
    t.regex(out.body.toString(), /control character/, path);
  }
});

test.serial("a direct .avif key is refused while autoAvif is off (?d= never makes one)", async (t) => {
  t.is((await rawGet("/variants/samples/elephants.jpg/300x200,q80.avif")).status, 403);
  t.deepEqual(await variantKeys(), []);
});

test.serial("dot segments are not resolved: /x/%2e%2e/ and /x/../ do not reach samples/", async (t) => {
  t.is((await rawGet("/samples/two-wings.jpg")).status, 200);
  for (const path of [
    "/x/%2e%2e/samples/two-wings.jpg",
    "/x/%2E%2E/samples/two-wings.jpg",
    "/x/../samples/two-wings.jpg",
    "/samples/./two-wings.jpg",
  ]) {
    const out = await rawGet(path);
    t.is(out.status, 400, path);
  }
});

test.serial("after an original is replaced and purged, no spelling answers the old bytes", async (t) => {
  const canonical = "/variants/samples/two-wings.jpg/300x200,q80.webp";
  const first = await rawGet("/samples/two-wings.jpg?d=300x200");
  t.is(first.status, 200);
  t.is((await rawGet(canonical)).status, 200);
  const spellings = ["/%76ariants/samples/two-wings.jpg/300x200,q80.webp", "/variants/samples/two-wings.jpg/300x200%2Cq80.webp"];
  const originals = ["/samples/%74wo-wings.jpg", "/samples/two%2Dwings.jpg"];
  for (const path of spellings) t.is((await rawGet(path)).status, 400, `${path} before the replacement`);
  for (const path of originals) t.is((await rawGet(path)).status, 301, `${path} before the replacement`);

  const replacement = await sharp({ create: { width: 600, height: 400, channels: 3, background: "#c03030" } })
    .jpeg()
    .toBuffer();
  await edge.s3.client.send(
    new PutObjectCommand({ Bucket: edge.s3.bucket, Key: "samples/two-wings.jpg", Body: replacement, ContentType: "image/jpeg" }),
  );
  await edge.purger.purge([{ kind: "original", key: "samples/two-wings.jpg" }], "all");
  await edge.purger.idle();

  const fresh = await rawGet(canonical);
  t.is(fresh.status, 200);
  t.false(fresh.body.equals(first.body), "the canonical spelling answers the new picture");
  const { dominant } = await sharp(fresh.body).stats();
  t.true(dominant.r > 150 && dominant.g < 100, `the new picture is red: ${JSON.stringify(dominant)}`);
  for (const path of [...spellings, ...originals]) {
    const out = await rawGet(path);
    t.is(out.status, originals.includes(path) ? 301 : 400, `${path} after the replacement`);
    t.false(out.body.equals(first.body), path);
  }
});

test.serial(
  "behind a viewer-request that lets anything through, the local edge still keeps dot segments literal, as S3 does",
  async (t) => {
    const passThroughDir = mkdtempSync(join(tmpdir(), "hostile-spellings-pass-"));
    const open = await startLocalEdge({
      port: 0,
      dataDir: passThroughDir,
      log: () => {},
      settings: SIGNED_ONLY,
      recheck: () => {},
      handlers: (real) => ({ ...real, viewerRequest: async (event) => event.Records[0]!.cf.request }),
    });
    try {
      const { hostname, port } = new URL(open.url);
      const get = (path: string) =>
        new Promise<number>((resolve, reject) => {
          const req = httpRequest({ host: hostname, port, path, method: "GET" }, (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode!));
          });
          req.on("error", reject);
          req.end();
        });
      t.is(await get("/samples/two-wings.jpg"), 200);
      // S3 would look for the key "x/../samples/two-wings.jpg", which does not exist.
      for (const path of ["/x/../samples/two-wings.jpg", "/x/%2e%2e/samples/two-wings.jpg", "/samples/./two-wings.jpg"]) {
        t.is(await get(path), 404, path);
      }
    } finally {
      await open.close();
      rmSync(passThroughDir, { recursive: true, force: true });
    }
  },
);
