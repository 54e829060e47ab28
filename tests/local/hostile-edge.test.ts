/**
 * The local edge under attack, over real HTTP with the real handlers and an embedded s3rver:
 * the security headers on every kind of answer, non-image objects kept off the pass-through
 * route, cross-origin purges refused, CloudFront's origin response timeout, and an aborted
 * viewer request that must not leave its S3 connection open.
 */
import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import sharp from "sharp";
import { join } from "node:path";
import { request as httpRequest } from "node:http";
import { HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { SECURITY_HEADERS } from "../../handlers/cloudfront/security-headers.js";
import { PLAYGROUND_CSP, startLocalEdge, type LocalEdgeServer } from "../../local/server.js";
import { LOCAL_REGION, S3RVER_CREDENTIALS, createS3Client, startEmbeddedS3, type EmbeddedS3 } from "../../local/s3.js";
import { FaultProxy } from "../helpers/fault-proxy.js";

const ACCEPT = "image/avif;q=0,image/webp,image/*,*/*;q=0.8";
const dataDir = mkdtempSync(join(tmpdir(), "hostile-edge-"));
let edge: LocalEdgeServer;
/** A second S3 for the fault tests, which reach it through a fault proxy of their own. */
let faultyS3: EmbeddedS3;
const FAULTY_BUCKET = "faulty";
const proxies: FaultProxy[] = [];

test.before(async () => {
  edge = await startLocalEdge({ port: 0, dataDir, log: () => {} });
  faultyS3 = await startEmbeddedS3(join(dataDir, "faulty"), FAULTY_BUCKET);
  const direct = createS3Client({ endpoint: faultyS3.endpoint, region: LOCAL_REGION, credentials: S3RVER_CREDENTIALS });
  const jpeg = await sharp({ create: { width: 400, height: 300, channels: 3, background: "#369" } })
    .jpeg()
    .toBuffer();
  await direct.send(new PutObjectCommand({ Bucket: FAULTY_BUCKET, Key: "images/a.jpg", Body: jpeg, ContentType: "image/jpeg" }));
  direct.destroy();
  // An edge on another S3 signs with the credentials the SDK finds: here, s3rver's.
  process.env.AWS_ACCESS_KEY_ID = S3RVER_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = S3RVER_CREDENTIALS.secretAccessKey;
});

test.after.always(async () => {
  await edge?.close();
  for (const proxy of proxies) await proxy.close();
  await faultyS3?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A local edge whose S3 is reached through a fault proxy. */
async function edgeBehindProxy(originResponseTimeoutMs: number): Promise<{ proxy: FaultProxy; faulty: LocalEdgeServer }> {
  const proxy = await FaultProxy.start(faultyS3.endpoint);
  proxies.push(proxy);
  const faulty = await startLocalEdge({
    port: 0,
    s3: { endpoint: proxy.url, bucket: FAULTY_BUCKET },
    uploadSamples: false,
    originResponseTimeoutMs,
    log: () => {},
  });
  return { proxy, faulty };
}

/** Waits for `what`, failing the test (not hanging the run) if it has not happened after `ms`. */
function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`${what}: still waiting after ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

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

/** A POST to the edge's purge with exactly these headers (Host included, which fetch cannot set). */
function rawPurge(headers: Record<string, string>, body: string): Promise<{ status: number; body: string }> {
  const url = new URL(`${edge.url}/_edge/purge`);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: "POST", headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

test("a purge from another origin is refused with 403 and deletes nothing; the CLI's own request works", async (t) => {
  const made = await get("/samples/rain-drops.jpg?d=64x64");
  t.is(made.res.status, 200);
  const variantKey = (
    await fetch(
      `${edge.url}/_edge/explain?url=${encodeURIComponent("/samples/rain-drops.jpg?d=64x64")}&accept=${encodeURIComponent(ACCEPT)}`,
    ).then((r) => r.json())
  ).key as string;
  const body = JSON.stringify({ targets: ["samples/rain-drops.jpg"] });
  const host = new URL(edge.url).host;
  for (const [what, headers] of [
    ["a page of another origin", { host, origin: "http://evil.example", "content-type": "text/plain" }],
    ["a browser saying cross-site", { host, "sec-fetch-site": "cross-site" }],
    ["a browser saying same-site", { host, "sec-fetch-site": "same-site" }],
    [
      "a DNS name rebound to loopback",
      { host: `rebound.example:${new URL(edge.url).port}`, origin: `http://rebound.example:${new URL(edge.url).port}` },
    ],
  ] as Array<[string, Record<string, string>]>) {
    const answer = await rawPurge(headers, body);
    t.is(answer.status, 403, what);
    t.regex(answer.body, /refused|localhost or an IP address/, what);
  }
  await t.notThrowsAsync(
    edge.s3.client.send(new HeadObjectCommand({ Bucket: edge.s3.bucket, Key: variantKey })),
    "the variant is still stored",
  );
  const own = await fetch(`${edge.url}/_edge/purge`, {
    method: "POST",
    body: JSON.stringify({ targets: ["samples/rain-drops.jpg"], dryRun: true }),
  });
  t.is(own.status, 200, "the CLI's request (no Origin) is served");
  const sameOrigin = await rawPurge(
    { host, origin: `http://${host}`, "sec-fetch-site": "same-origin" },
    JSON.stringify({ targets: [], dryRun: true }),
  );
  t.is(sameOrigin.status, 200, "a page of the edge itself may purge");
});

test("S3 silent past the origin response timeout, before its headers or inside its body: 504, as CloudFront answers, and the S3 connection is closed", async (t) => {
  const { proxy, faulty } = await edgeBehindProxy(300);
  try {
    proxy.inject({ kind: "hang" }, { method: "GET", times: 1 });
    const silent = await within(10_000, "the hung GET", fetch(`${faulty.url}/images/a.jpg`));
    t.is(silent.status, 504);
    t.regex(await silent.text(), /504 Gateway Timeout: the S3 origin did not answer within 300 ms/);
    t.is(silent.headers.get("x-content-type-options"), "nosniff");
    await within(
      10_000,
      "the hung GET's connection to close",
      proxy.until(() => proxy.requests("GET")[0]?.closed === true),
    );
    t.is(faulty.stats.lambdaErrors, 0);

    proxy.resetLog();
    proxy.inject({ kind: "stall", afterBytes: 100 }, { method: "GET", times: 1 });
    const stalled = await within(10_000, "the stalled GET", fetch(`${faulty.url}/images/a.jpg`));
    t.is(stalled.status, 504, "S3's headers came, then its body stopped");
    await within(
      10_000,
      "the stalled GET's connection to close",
      proxy.until(() => proxy.requests("GET")[0]?.closed === true),
    );
    const whole = await within(10_000, "a GET without a fault", fetch(`${faulty.url}/images/a.jpg`));
    t.is(whole.status, 200, "504s are not cached");
  } finally {
    await faulty.close();
  }
});

test("a viewer that hangs up mid-request closes the S3 GET behind it, and the edge then closes at once", async (t) => {
  const { proxy, faulty } = await edgeBehindProxy(600_000);
  proxy.inject({ kind: "hang" }, { method: "GET", times: 1 });
  const viewer = new AbortController();
  const asked = fetch(`${faulty.url}/images/a.jpg`, { signal: viewer.signal }).catch((err: Error) => err.name);
  await within(
    10_000,
    "the GET to reach S3",
    proxy.until(() => proxy.requests("GET").length === 1),
  );
  viewer.abort();
  t.is(await asked, "AbortError");
  await within(
    10_000,
    "the abandoned GET's connection to close",
    proxy.until(() => proxy.requests("GET")[0]!.closed),
  );
  await within(10_000, "the edge to close", faulty.close());
  t.pass();
});
