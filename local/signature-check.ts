/**
 * The embedded S3's signature check: a proxy in front of s3rver that checks Signature Version 4
 * as S3 does, because s3rver does not (its V4 check is "unimplemented": any signature passes, so
 * a handler that signs wrongly would work locally and fail on AWS). Each request's signature is
 * computed again from the bytes that arrived, with the AWS SDK's own signer
 * (@smithy/signature-v4, an implementation independent of handlers/s3/sigv4.ts), over the headers
 * the request says it signed. A request without a signature, a mismatch, a missing signed header
 * or a body that does not match its x-amz-content-sha256 is answered 403 (AccessDenied,
 * SignatureDoesNotMatch, XAmzContentSHA256Mismatch) as S3 answers it, and never reaches s3rver.
 */
import { readFileSync } from "node:fs";
import { createHash, createHmac } from "node:crypto";
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createRequire } from "node:module";

/** The SDK's signer, loaded from where @aws-sdk/core finds it. */
export function sdkSignatureV4(): typeof import("@smithy/signature-v4").SignatureV4 {
  if (!signerClass) {
    const fromCore = createRequire(createRequire(require.resolve("@aws-sdk/client-s3")).resolve("@aws-sdk/core"));
    signerClass = (fromCore("@smithy/signature-v4") as typeof import("@smithy/signature-v4")).SignatureV4;
  }
  return signerClass;
}

let signerClass: typeof import("@smithy/signature-v4").SignatureV4 | undefined;

/** node:crypto's SHA-256 in the shape the SDK's signer takes (HMAC when given a secret). */
export class NodeSha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

function bytes(data: string | ArrayBuffer | ArrayBufferView): string | Buffer {
  if (typeof data === "string") return data;
  return ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);
}

export interface SignatureCheck {
  url: string;
  /** The latest requests refused, with the reason (the last RECORDED). */
  refused: string[];
  /** The latest requests whose signature matched, as "METHOD /path" (the last RECORDED). */
  verified: string[];
  close(): Promise<void>;
}

/** How many requests each list keeps: enough for a test to find its own, bounded for a long `npm start`. */
const RECORDED = 2_000;

function record(list: string[], line: string): void {
  list.push(line);
  if (list.length > RECORDED) list.splice(0, list.length - RECORDED);
}

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

/** Starts the check on a free loopback port in front of `upstream`, knowing the secret of each access key. */
/** The key and certificate of an HTTPS server on 127.0.0.1, and the file clients trust it by. */
export interface LoopbackTls {
  key: Buffer;
  cert: Buffer;
  /** The certificate's file: NODE_EXTRA_CA_CERTS of a process that connects to it. */
  certFile: string;
}

/** The self-signed 127.0.0.1 certificate of local/tls/ (loopback only; not a secret). */
export function loopbackTls(): LoopbackTls {
  const dir = join(__dirname, "tls");
  const certFile = join(dir, "localhost.crt");
  return { key: readFileSync(join(dir, "localhost.key")), cert: readFileSync(certFile), certFile };
}

/** `tls`: answer over HTTPS with this key and certificate (as AWS's S3 endpoints do); plain HTTP by default. */
export async function startSignatureCheck(upstream: string, secrets: Record<string, string>, tls?: LoopbackTls): Promise<SignatureCheck> {
  const state = { refused: [] as string[], verified: [] as string[] };
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      signatureProblem(req, body, secrets)
        .then((problem) => {
          if (problem) {
            record(state.refused, `${req.method} ${req.url}: ${problem.reason}`);
            refuse(res, problem);
            return;
          }
          record(state.verified, `${req.method} ${req.url}`);
          forward(upstream, req, body, res);
        })
        .catch((err: unknown) => {
          res.writeHead(500);
          res.end(String(err));
        });
    });
  };
  const server: Server = tls ? createTlsServer(tls, handle) : createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? "https" : "http"}://127.0.0.1:${port}`,
    get refused() {
      return state.refused;
    },
    get verified() {
      return state.verified;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Problem {
  /** S3's error code for it. */
  code: string;
  reason: string;
}

/** What S3 would refuse in this request's signature, or null when it holds. */
async function signatureProblem(req: IncomingMessage, body: Buffer, secrets: Record<string, string>): Promise<Problem | null> {
  const auth = AUTHORIZATION.exec(req.headers.authorization ?? "");
  if (!auth) return { code: "AccessDenied", reason: "no SigV4 Authorization header" };
  const [, accessKeyId, , region, signedList, signature] = auth as unknown as string[];
  const secretAccessKey = secrets[accessKeyId!];
  if (!secretAccessKey) return { code: "InvalidAccessKeyId", reason: `unknown key ${accessKeyId}` };
  const payloadHash = String(req.headers["x-amz-content-sha256"] ?? "");
  if (payloadHash !== "UNSIGNED-PAYLOAD" && payloadHash !== createHash("sha256").update(body).digest("hex"))
    return { code: "XAmzContentSHA256Mismatch", reason: "the body does not match x-amz-content-sha256" };
  const signed = signedList!.split(";");
  const headers: Record<string, string> = {};
  for (const name of signed) {
    const value = req.headers[name];
    if (value === undefined) return { code: "SignatureDoesNotMatch", reason: `signed header ${name} was not sent` };
    headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  const SignatureV4 = sdkSignatureV4();
  const signer = new SignatureV4({
    credentials: { accessKeyId: accessKeyId!, secretAccessKey, sessionToken: headers["x-amz-security-token"] },
    region: region!,
    service: "s3",
    sha256: NodeSha256,
    uriEscapePath: false,
  });
  const [path, query = ""] = (req.url ?? "/").split("?");
  const expected = await signer.sign(
    {
      method: req.method!,
      protocol: "http:",
      hostname: headers.host ?? "",
      path: path!,
      query: Object.fromEntries(new URLSearchParams(query)),
      headers,
      body,
    },
    { signingDate: amzDateToDate(String(req.headers["x-amz-date"] ?? "")), signableHeaders: new Set(signed) },
  );
  const computed = /Signature=([0-9a-f]{64})/.exec(String(expected.headers.authorization))?.[1];
  return computed === signature ? null : { code: "SignatureDoesNotMatch", reason: "the signature does not match" };
}

/** `20130524T000000Z` → the Date. */
function amzDateToDate(date: string): Date {
  return new Date(`${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`);
}

function refuse(res: ServerResponse, problem: Problem): void {
  res.writeHead(403, { "content-type": "application/xml" });
  res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${problem.code}</Code><Message>${problem.reason}</Message></Error>`);
}

function forward(upstream: string, req: IncomingMessage, body: Buffer, res: ServerResponse): void {
  const target = new URL(upstream);
  const out = httpRequest(
    { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      // A client that stops reading early (origin-response once it has a JPEG's DC scans) closes
      // its connection: the upstream answer goes too, or s3rver would wait on it at close.
      res.on("close", () => {
        if (!answer.complete) answer.destroy();
      });
    },
  );
  out.on("error", () => res.destroy());
  out.end(body);
}
