/**
 * origin-response's own S3 client (handlers/s3/): its SigV4 signatures against AWS's published
 * example and against the AWS SDK's signer, its path encoding against RFC 3986 (the rule AWS
 * documents), and its real requests against the embedded S3, which checks every signature with
 * the SDK's signer (local/signature-check.ts; s3rver itself accepts any V4 signature). Retries, timeouts and broken
 * connections are tests/s3/faults.test.ts.
 */
import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { S3BodyTooLargeError, S3HttpClient, requestTarget } from "../../handlers/s3/client.js";
import { EMPTY_SHA256, encodeS3Path, sha256Hex, signRequest } from "../../handlers/s3/sigv4.js";
import { StoreError, s3ObjectStore } from "../../handlers/s3/store.js";
import {
  LOCAL_REGION,
  S3RVER_CREDENTIALS,
  createHandlerS3Client,
  createS3Client,
  startEmbeddedS3,
  type EmbeddedS3,
} from "../../local/s3.js";
import { NodeSha256, sdkSignatureV4 } from "../../local/signature-check.js";

const EXAMPLE_CREDENTIALS = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
const BUCKET = "client-test";

let s3: EmbeddedS3;
let sdk: S3Client;
let client: S3HttpClient;
let dataDir: string;

test.before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "s3-client-"));
  s3 = await startEmbeddedS3(dataDir, BUCKET);
  sdk = createS3Client({ endpoint: s3.endpoint, region: LOCAL_REGION, credentials: S3RVER_CREDENTIALS });
  client = createHandlerS3Client(s3.endpoint);
});

test.after.always(async () => {
  client?.destroy();
  sdk?.destroy();
  await s3?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test("the signature of AWS's documented example (S3 API Reference, GET Object with a Range)", (t) => {
  const headers = signRequest(
    {
      method: "GET",
      host: "examplebucket.s3.amazonaws.com",
      path: "/test.txt",
      headers: { Range: "bytes=0-9" },
      payloadHash: EMPTY_SHA256,
    },
    EXAMPLE_CREDENTIALS,
    "us-east-1",
    new Date("2013-05-24T00:00:00Z"),
  );
  t.is(
    headers.authorization,
    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request," +
      "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date," +
      "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
  );
  t.is(headers["x-amz-date"], "20130524T000000Z");
});

/** The SDK's own signer, as an independent reference; it leaves cache-control unsigned unless told. */
function sdkSigner(credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, region: string) {
  const SignatureV4 = sdkSignatureV4();
  return new SignatureV4({ credentials, region, service: "s3", sha256: NodeSha256, uriEscapePath: false });
}

test("signatures equal the AWS SDK signer's for PUTs with metadata, session tokens and awkward keys", async (t) => {
  const at = new Date("2026-12-02T07:45:12Z");
  const cases = [
    { key: "photos/cat.jpg", method: "PUT", body: Buffer.from("variant bytes"), token: undefined },
    {
      key: "variants/a b/(1)!*'~.jpg/300x200,q80.webp",
      method: "PUT",
      body: Buffer.alloc(70_000, 7),
      token: "IQoJb3JpZ2luX2VjEJr//////////wEaCXVz",
    },
    { key: "ünïcødé/猫 photo+plus%percent.png", method: "GET", body: null, token: "token/with+plus=" },
    { key: "double//slash/./dot.jpg", method: "GET", body: null, token: undefined },
  ];
  for (const c of cases) {
    const credentials = { ...EXAMPLE_CREDENTIALS, ...(c.token ? { sessionToken: c.token } : {}) };
    const own: Record<string, string> = c.body
      ? {
          "content-type": "image/webp",
          "cache-control": "public, max-age=86400",
          "x-amz-meta-source-etag": "abc123",
          "content-length": String(c.body.length),
        }
      : {};
    const path = encodeS3Path(`/${c.key}`);
    const host = "bucket.s3.eu-west-1.amazonaws.com";
    const payloadHash = c.body ? sha256Hex(c.body) : EMPTY_SHA256;
    const ours = signRequest({ method: c.method, host, path, headers: own, payloadHash }, credentials, "eu-west-1", at);
    const theirs = await sdkSigner(credentials, "eu-west-1").sign(
      {
        method: c.method,
        protocol: "https:",
        hostname: host,
        path,
        query: {},
        headers: { ...own, host, "x-amz-content-sha256": payloadHash },
        body: c.body ?? undefined,
      },
      { signingDate: at, signableHeaders: new Set(Object.keys(own)) },
    );
    // The SDK separates the parts with ", ", we with ","; S3 takes both.
    t.is(ours.authorization, String(theirs.headers.authorization).replaceAll(", ", ","), c.key);
    t.deepEqual(ours["x-amz-security-token"] ?? null, c.token ?? null, `${c.key}: the session token is sent and signed`);
  }
});

test("paths are encoded as AWS documents: every byte but A-Z a-z 0-9 - _ . ~ and the slashes is %XX of its UTF-8", (t) => {
  t.is(encodeS3Path("/test$file.text"), "/test%24file.text");
  t.is(encodeS3Path("/a b/(c)!*'~.jpg"), "/a%20b/%28c%29%21%2A%27~.jpg");
  t.is(encodeS3Path("/ünï/猫+%"), "/%C3%BCn%C3%AF/%E7%8C%AB%2B%25");
  t.is(encodeS3Path("/double//slash/./x"), "/double//slash/./x", "never normalised");
  for (let i = 0; i < 300; i++) {
    const raw = `/${Array.from({ length: 12 }, () => String.fromCodePoint(32 + Math.floor(Math.random() * 400))).join("")}`;
    const encoded = encodeS3Path(raw);
    t.regex(encoded, /^(?:[A-Za-z0-9\-_.~/]|%[0-9A-F]{2})*$/, raw);
    t.is(decodeURIComponent(encoded), raw);
  }
});

test("requests go virtual-hosted to AWS, path-style for dotted buckets and for a custom endpoint", (t) => {
  const aws = requestTarget("my-images", "a/b c.jpg", "eu-west-1", null);
  t.like(aws, { host: "my-images.s3.eu-west-1.amazonaws.com", path: "/a/b%20c.jpg" });
  t.like(requestTarget("images.example.com", "a.jpg", "us-east-1", null), {
    host: "s3.us-east-1.amazonaws.com",
    path: "/images.example.com/a.jpg",
  });
  const local = requestTarget("originals", "a.jpg", "us-east-1", new URL("http://127.0.0.1:4568"));
  t.like(local, { host: "127.0.0.1", port: 4568, path: "/originals/a.jpg" });
  t.like(requestTarget("originals", "a.jpg", "us-east-1", new URL("https://minio.internal/s3/")), {
    host: "minio.internal",
    path: "/s3/originals/a.jpg",
  });
});

test("PUTs and GETs of awkward keys pass the signature check and land where the SDK finds them", async (t) => {
  const keys = ["variants/a b/(1)!*'~.jpg/300x200,q80.webp", "ünïcødé/猫 photo+plus%percent.png", "x/~segment~/y.avif"];
  for (const key of keys) {
    const body = Buffer.from(`bytes of ${key}`);
    const put = await client.put(BUCKET, key, body, {
      "content-type": "image/webp",
      "cache-control": "max-age=60",
      "x-amz-meta-source-etag": "e1",
    });
    t.is(put.status, 200, `${key}: ${put.body.toString()}`);
    const head = await sdk.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    t.like(head, { ContentType: "image/webp", CacheControl: "max-age=60", Metadata: { "source-etag": "e1" } }, key);
    const got = await client.get(BUCKET, key);
    t.is(got.status, 200);
    t.true(got.body.equals(body), key);
    t.is(got.headers.etag, head.ETag);
  }
  for (const method of ["PUT", "GET"])
    for (const key of keys)
      t.true(s3.signatures.verified.includes(`${method} ${encodeS3Path(`/${BUCKET}/${key}`)}`), `${method} ${key} checked`);
});

test("a wrong secret is a storage failure with S3's reason, never a missing original", async (t) => {
  await sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key: "exists.jpg", Body: Buffer.from("x") }));
  const wrong = new S3HttpClient({
    region: LOCAL_REGION,
    endpoint: s3.endpoint,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "wrong" },
  });
  t.teardown(() => wrong.destroy());
  const err = await t.throwsAsync(s3ObjectStore(wrong).get(BUCKET, "exists.jpg"), { instanceOf: StoreError });
  t.is(err?.message, "GET failed: SignatureDoesNotMatch (403)");
  t.is(await s3ObjectStore(client).get(BUCKET, "no/such/key.jpg"), null, "a really missing key is null");
  t.true(
    s3.signatures.refused.some((r) => r.startsWith("GET /client-test/exists.jpg: the signature does not match")),
    s3.signatures.refused.join("; "),
  );
  s3.signatures.refused.length = 0;
});

test("a body over the caller's limit is refused from the announced length, before it is read", async (t) => {
  await sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key: "big.bin", Body: Buffer.alloc(100_000) }));
  const err = await t.throwsAsync(client.get(BUCKET, "big.bin", { maxBytes: 99_999 }), { instanceOf: S3BodyTooLargeError });
  t.is(err?.bytes, 100_000);
  t.is((await client.get(BUCKET, "big.bin", { maxBytes: 100_000 })).body.length, 100_000);
});

test("enough sees the answer's headers before any of the body: true there reads none of it, and the ETag is S3's", async (t) => {
  const body = Buffer.alloc(2_000_000, 7);
  const put = await sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key: "stopped.bin", Body: body }));
  const asked: { received: number; etag: unknown }[] = [];
  const stopped = await client.get(BUCKET, "stopped.bin", {
    enough: (received, headers) => {
      asked.push({ received: received.byteLength, etag: headers.etag });
      return true;
    },
  });
  t.deepEqual(asked, [{ received: 0, etag: put.ETag }]);
  t.true(stopped.partial);
  t.is(stopped.body.byteLength, 0);
  t.is(stopped.headers.etag, put.ETag);
  // Asked again after every chunk while it answers false: the whole body, in more than one chunk.
  const seen: number[] = [];
  const whole = await client.get(BUCKET, "stopped.bin", { enough: (received) => (seen.push(received.byteLength), false) });
  t.true(whole.body.equals(body));
  t.falsy(whole.partial);
  t.is(seen[0], 0);
  t.true(seen.length > 2 && seen.every((n, i) => i === 0 || n > seen[i - 1]!), "growing prefixes");
});

test("the store tells a GET's ETag and metadata from the headers, and stops where enough says, keeping the rest readable", async (t) => {
  const body = Buffer.alloc(1_500_000, 3);
  const put = await sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key: "head.bin", Body: body, Metadata: { "source-etag": "abc" } }));
  const heads: unknown[] = [];
  const etags: (string | undefined)[] = [];
  const store = s3ObjectStore(client);
  const got = await store.get(BUCKET, "head.bin", {
    onHead: (head) => heads.push(head),
    enough: (received, etag) => (etags.push(etag), received.byteLength > 0),
  });
  t.deepEqual(heads, [{ etag: put.ETag, metadata: { "source-etag": "abc" } }], "once, as the headers arrived");
  t.deepEqual(etags.slice(0, 2), [put.ETag, put.ETag]);
  t.true(got!.body.byteLength > 0 && got!.body.byteLength < body.byteLength);
  t.true((await got!.rest!())!.body.equals(body));
});

test("without explicit credentials the client signs with the Lambda runtime's environment variables", async (t) => {
  const saved = { ...process.env };
  t.teardown(() => {
    process.env = saved;
  });
  process.env.AWS_ACCESS_KEY_ID = S3RVER_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = S3RVER_CREDENTIALS.secretAccessKey;
  process.env.AWS_ENDPOINT_URL_S3 = s3.endpoint;
  const fromEnv = new S3HttpClient({ region: LOCAL_REGION });
  t.teardown(() => fromEnv.destroy());
  await sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key: "env.txt", Body: Buffer.from("from env") }));
  process.env.AWS_SESSION_TOKEN = "a-session-token";
  t.is((await fromEnv.get(BUCKET, "env.txt")).body.toString(), "from env", "signed with the session token, which the check verifies");
  delete process.env.AWS_SECRET_ACCESS_KEY;
  await t.throwsAsync(fromEnv.get(BUCKET, "env.txt"), { message: /no AWS credentials/ });
  const stored = await sdk.send(new GetObjectCommand({ Bucket: BUCKET, Key: "env.txt" }));
  t.is(await stored.Body!.transformToString(), "from env", "nothing was changed by the failed call");
});

test("the embedded S3 refuses what S3 refuses: no signature, a body that is not the one signed", async (t) => {
  await sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key: "private.jpg", Body: Buffer.from("secret bytes") }));
  const anonymous = await fetch(`${s3.endpoint}/${BUCKET}/private.jpg`);
  t.is(anonymous.status, 403);
  t.regex(await anonymous.text(), /<Code>AccessDenied<\/Code>/);
  // Signed for one body, sent with another.
  const path = `/${BUCKET}/swapped.jpg`;
  const url = new URL(s3.endpoint);
  const signed = signRequest(
    { method: "PUT", host: url.host, path, headers: { "content-length": "4" }, payloadHash: sha256Hex("good") },
    S3RVER_CREDENTIALS,
    LOCAL_REGION,
    new Date(),
  );
  const { host: _host, ...headers } = signed;
  const swapped = await fetch(`${s3.endpoint}${path}`, { method: "PUT", headers, body: "evil" });
  t.is(swapped.status, 403);
  t.regex(await swapped.text(), /<Code>XAmzContentSHA256Mismatch<\/Code>/);
  await t.throwsAsync(sdk.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "swapped.jpg" })), undefined, "nothing was stored");
});

/** A server that answers the first request on each connection and resets the connection on the next one. */
async function resettingServer(): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  const { createServer } = await import("node:http");
  let requests = 0;
  const served = new WeakSet<object>();
  const server = createServer((req, res) => {
    requests++;
    req.resume();
    req.on("end", () => {
      if (served.has(req.socket)) return void req.socket.destroy();
      served.add(req.socket);
      res.writeHead(200, { "content-length": "2" });
      res.end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as import("node:net").AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

test("a kept-alive connection that died between invocations is tried again at once on a new one, once", async (t) => {
  const server = await resettingServer();
  const oneShot = new S3HttpClient({
    region: LOCAL_REGION,
    endpoint: server.url,
    credentials: S3RVER_CREDENTIALS,
    limits: { maxAttempts: 1 },
  });
  t.teardown(async () => {
    oneShot.destroy();
    await server.close();
  });
  t.is((await oneShot.get(BUCKET, "a.jpg")).body.toString(), "ok");
  // The pooled connection is reset on this request: with one attempt only, success means the stale retry.
  t.is((await oneShot.get(BUCKET, "a.jpg")).body.toString(), "ok");
  t.is(server.requests(), 3, "first request, the reset one, the retry on a new connection");
});
