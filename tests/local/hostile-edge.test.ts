/**
 * The local edge under attack, over real HTTP with the real handlers and an embedded s3rver:
 * the security headers on every kind of answer, non-image objects kept off the pass-through
 * route, cross-origin purges refused, CloudFront's origin response timeout, and an aborted
 * viewer request that must not leave its S3 connection open.
 */
import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { SECURITY_HEADERS } from "../../handlers/cloudfront/security-headers.js";
import { PLAYGROUND_CSP, startLocalEdge, type LocalEdgeServer } from "../../local/server.js";

const ACCEPT = "image/avif;q=0,image/webp,image/*,*/*;q=0.8";
const dataDir = mkdtempSync(join(tmpdir(), "hostile-edge-"));
let edge: LocalEdgeServer;

test.before(async () => {
  edge = await startLocalEdge({ port: 0, dataDir, log: () => {} });
});

test.after.always(async () => {
  await edge?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function get(path: string, init: RequestInit = {}): Promise<{ res: Response; body: Buffer }> {
  const res = await fetch(edge.url + path, { ...init, headers: { accept: ACCEPT, ...(init.headers as Record<string, string>) } });
  return { res, body: Buffer.from(await res.arrayBuffer()) };
}

async function put(key: string, body: string | Buffer, contentType: string): Promise<void> {
  await edge.s3.client.send(new PutObjectCommand({ Bucket: edge.s3.bucket, Key: key, Body: body, ContentType: contentType }));
}

test("the pass-through route serves images only: a stored JSON secret and a scripted SVG are 404s, never cached for long", async (t) => {
  await put("priv/secrets.json", JSON.stringify({ password: "hunter2" }), "application/json");
  await put("script.svg", '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>', "image/svg+xml");
  for (const path of ["/priv/secrets.json", "/script.svg"]) {
    const { res, body } = await get(path);
    t.is(res.status, 404, path);
    t.is(body.toString(), "404 not an image\n", path);
    t.notRegex(body.toString(), /hunter2|<script/, `${path}: none of the object's bytes`);
    t.is(res.headers.get("content-type"), "text/plain; charset=utf-8", path);
    t.is(res.headers.get("cache-control"), "public, max-age=10", path);
  }
  const image = await get("/samples/two-wings.jpg");
  t.is(image.res.status, 200);
  t.is(image.res.headers.get("content-type"), "image/jpeg");
});

test("every answer carries nosniff and the sandboxing CSP: an original, a variant, a refusal, a missing key, a refused method", async (t) => {
  const answers = {
    original: await get("/samples/elephants.jpg"),
    variant: await get("/samples/elephants.jpg?d=120x80"),
    "a refusal": await get("/samples/elephants.jpg?d=big"),
    "a missing original": await get("/samples/none.jpg"),
    "a refused method": await get("/samples/elephants.jpg", { method: "DELETE" }),
  };
  t.is(answers.original.res.status, 200);
  t.is(answers.variant.res.status, 200);
  t.is(answers["a refusal"].res.status, 400);
  t.is(answers["a missing original"].res.status, 404);
  t.is(answers["a refused method"].res.status, 403);
  for (const [what, { res }] of Object.entries(answers)) {
    t.is(res.headers.get("x-content-type-options"), "nosniff", what);
    t.is(res.headers.get("content-security-policy"), SECURITY_HEADERS["content-security-policy"], what);
    t.regex(res.headers.get("content-security-policy") ?? "", /(^|; )sandbox(;|$)/, `${what}: sandboxed`);
    t.regex(res.headers.get("content-security-policy") ?? "", /default-src 'none'/, `${what}: no script source`);
    // Plain HTTP on loopback: HSTS belongs to the deployed aliases only.
    t.is(res.headers.get("strict-transport-security"), null, what);
  }
});

test("the playground's page and endpoints carry nosniff and a policy of their own, without inline script", async (t) => {
  for (const path of ["/", "/_edge/playground.js", "/_edge/samples", "/_edge/nothing"]) {
    const { res } = await get(path);
    t.is(res.headers.get("x-content-type-options"), "nosniff", path);
    t.is(res.headers.get("content-security-policy"), PLAYGROUND_CSP, path);
  }
  t.notRegex(PLAYGROUND_CSP, /script-src[^;]*'unsafe-inline'/);
  t.regex(PLAYGROUND_CSP, /frame-ancestors 'none'/);
});
