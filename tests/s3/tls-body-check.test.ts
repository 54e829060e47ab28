/**
 * Over TLS the body is not hashed again: TLS's records authenticate every byte between S3 and
 * the handler, so a GET over https checks the body's length only, while over plain HTTP (an
 * S3-compatible server, the local edge) the MD5 ETag is checked too. One server answers both
 * ways with bytes that are not its ETag's MD5, so the two answers can only differ by that check.
 * The certificate is the self-signed one for 127.0.0.1 in local/tls/, trusted here by
 * switching verification off in this test's own process.
 */
import test from "ava";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { S3HttpClient } from "../../handlers/s3/client.js";
import { StoreError, s3ObjectStore } from "../../handlers/s3/store.js";
import { LOCAL_REGION, S3RVER_CREDENTIALS, createS3Client, startEmbeddedS3 } from "../../local/s3.js";
import { loopbackTls } from "../../local/signature-check.js";

process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
const TLS = loopbackTls();
const body = Buffer.from("the bytes of an original, not the ones its ETag hashes");
const etag = `"${createHash("md5").update("other bytes").digest("hex")}"`;

function answer(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  res.writeHead(200, { "content-length": String(body.length), etag, "content-type": "image/jpeg" });
  res.end(body);
}

async function listening(server: http.Server | https.Server, scheme: string): Promise<{ url: string; close: () => Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `${scheme}://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function getThrough(url: string) {
  const client = new S3HttpClient({ region: LOCAL_REGION, endpoint: url, credentials: S3RVER_CREDENTIALS, limits: { maxAttempts: 1 } });
  try {
    const raw = await client.get("originals", "a.jpg");
    const stored = await s3ObjectStore(client).get("originals", "a.jpg");
    return { raw, stored };
  } finally {
    client.destroy();
  }
}

test("a GET over https is marked overTls and not hashed; over http the same bytes fail their MD5 ETag", async (t) => {
  const tls = await listening(https.createServer({ key: TLS.key, cert: TLS.cert }, answer), "https");
  const plain = await listening(http.createServer(answer), "http");
  t.teardown(async () => {
    await tls.close();
    await plain.close();
  });

  const overTls = await getThrough(tls.url);
  t.true(overTls.raw.overTls);
  t.deepEqual(overTls.stored?.body, body, "TLS authenticated the bytes; their length is S3's");

  const client = new S3HttpClient({
    region: LOCAL_REGION,
    endpoint: plain.url,
    credentials: S3RVER_CREDENTIALS,
    limits: { maxAttempts: 1 },
  });
  t.teardown(() => client.destroy());
  t.is((await client.get("originals", "a.jpg")).overTls, undefined);
  await t.throwsAsync(s3ObjectStore(client).get("originals", "a.jpg"), {
    instanceOf: StoreError,
    message: /does not match its ETag \(MD5\)/,
  });
});

test("the embedded S3 over HTTPS (as the bench reads it): the SDK trusting its certificate stores, the handler's client reads over TLS", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "s3-tls-"));
  const s3 = await startEmbeddedS3(dir, "originals", { tls: TLS });
  const sdk = createS3Client({ endpoint: s3.endpoint, region: LOCAL_REGION, credentials: S3RVER_CREDENTIALS, ca: TLS.cert });
  const client = new S3HttpClient({ region: LOCAL_REGION, endpoint: s3.endpoint, credentials: S3RVER_CREDENTIALS });
  t.teardown(async () => {
    sdk.destroy();
    client.destroy();
    await s3.close();
    rmSync(dir, { recursive: true, force: true });
  });
  t.regex(s3.endpoint, /^https:\/\/127\.0\.0\.1:\d+$/);
  await sdk.send(new PutObjectCommand({ Bucket: "originals", Key: "a.jpg", Body: body, ContentType: "image/jpeg" }));
  const stored = await s3ObjectStore(client).get("originals", "a.jpg");
  t.deepEqual(stored?.body, body);
  t.true((await client.get("originals", "a.jpg")).overTls);
  t.true(s3.signatures.verified.length >= 3, "the signature check sits in front of it over TLS too");
});
