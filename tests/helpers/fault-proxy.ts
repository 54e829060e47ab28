/**
 * A fault-injecting HTTP proxy for tests: put it in front of the embedded s3rver, aim an S3
 * client at it, and make the next requests fail the ways S3 (or the network to it) can fail:
 *
 *   - `status`: an S3-style XML error (500 InternalError, 503 SlowDown...) without reaching S3;
 *   - `delay`: hold the request, then forward it (a slow S3);
 *   - `hang`: never answer (until the proxy closes) — a stuck connection;
 *   - `drop`: forward, send the answer's headers and the first bytes of its body, then destroy
 *     the socket (a connection lost mid-response);
 *   - `stall`: like drop, but keep the socket open without sending more (a body that stops);
 *   - `tamper`: forward a well-framed answer that is not the object: its body cut to `truncateTo`
 *     bytes (Content-Length rewritten to match) and/or one byte flipped at `flipByteAt`, and
 *     `headers` set over S3's (an ETag, an encryption header).
 *
 * Faults are queued with a count and an optional HTTP method, and consumed in order by the
 * requests that match; everything else is forwarded untouched. Every request is logged with the
 * fault it got, so tests can count attempts.
 */
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo, Socket } from "node:net";

export type Fault =
  | { kind: "status"; status: number; code?: string }
  | { kind: "delay"; ms: number }
  | { kind: "hang" }
  | { kind: "drop"; afterBytes: number }
  | { kind: "stall"; afterBytes: number }
  | { kind: "tamper"; truncateTo?: number; flipByteAt?: number; headers?: Record<string, string> };

export interface FaultRule {
  fault: Fault;
  /** How many matching requests get this fault (Infinity = until cleared). */
  remaining: number;
  /** Only requests with this method (GET, PUT, HEAD...) match; any method when undefined. */
  method?: string;
}

export interface ProxiedRequest {
  method: string;
  path: string;
  fault: Fault["kind"] | "none";
  /** The client's connection has closed (it gave up, or it was done). */
  closed: boolean;
}

export class FaultProxy {
  readonly log: ProxiedRequest[] = [];
  private rules: FaultRule[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly held = new Set<ServerResponse>();
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly server: Server,
    private readonly target: URL,
    readonly url: string,
  ) {}

  /** Starts a proxy on loopback (any free port) forwarding to `target` (e.g. s3rver's endpoint). */
  static async start(target: string): Promise<FaultProxy> {
    let proxy: FaultProxy | undefined;
    const server = createServer((req, res) => proxy!.handle(req, res));
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const { port } = server.address() as AddressInfo;
    proxy = new FaultProxy(server, new URL(target), `http://127.0.0.1:${port}`);
    server.on("connection", (socket) => {
      proxy!.sockets.add(socket);
      socket.on("close", () => proxy!.sockets.delete(socket));
    });
    return proxy;
  }

  /** Queues `fault` for the next `times` requests (of `method`, if given). */
  inject(fault: Fault, options: { times?: number; method?: string } = {}): void {
    this.rules.push({ fault, remaining: options.times ?? 1, method: options.method });
  }

  /** Removes every queued fault and releases hung requests (they get their socket destroyed). */
  clear(): void {
    this.rules = [];
    for (const res of this.held) res.socket?.destroy();
    this.held.clear();
  }

  /** Requests seen since the log was last cleared, optionally of one method. */
  requests(method?: string): ProxiedRequest[] {
    return method ? this.log.filter((r) => r.method === method) : [...this.log];
  }

  /** Resolves once `holds()` is true, checked as requests arrive and client connections close. */
  until(holds: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (!holds()) return;
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
      check();
    });
  }

  resetLog(): void {
    this.log.length = 0;
  }

  async close(): Promise<void> {
    this.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((done) => this.server.close(() => done()));
  }

  private notify(): void {
    for (const check of [...this.waiters]) check();
  }

  private take(method: string): Fault | undefined {
    const rule = this.rules.find((r) => r.remaining > 0 && (r.method === undefined || r.method === method));
    if (!rule) return undefined;
    rule.remaining--;
    if (rule.remaining <= 0) this.rules.splice(this.rules.indexOf(rule), 1);
    return rule.fault;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const method = req.method ?? "GET";
    const fault = this.take(method);
    const entry: ProxiedRequest = { method, path: req.url ?? "/", fault: fault?.kind ?? "none", closed: false };
    this.log.push(entry);
    req.socket.once("close", () => {
      entry.closed = true;
      this.notify();
    });
    this.notify();
    switch (fault?.kind) {
      case "status": {
        req.resume();
        const code = fault.code ?? (fault.status === 503 ? "SlowDown" : "InternalError");
        const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>injected by the fault proxy</Message><RequestId>FAULT</RequestId></Error>`;
        res.writeHead(fault.status, { "content-type": "application/xml", "content-length": Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      case "hang":
        req.resume();
        this.held.add(res);
        return;
      case "delay":
        setTimeout(() => this.forward(req, res, undefined), fault.ms);
        return;
      default:
        this.forward(req, res, fault);
    }
  }

  /** Sends the request to the target; `fault` (drop/stall) cuts the answer short. */
  private forward(req: IncomingMessage, res: ServerResponse, fault: Fault | undefined): void {
    const upstream = httpRequest(
      {
        host: this.target.hostname,
        port: this.target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        if (fault?.kind === "tamper") return void tampered(answer, fault).then((a) => res.writeHead(a.status, a.headers).end(a.body));
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        if (fault?.kind !== "drop" && fault?.kind !== "stall") {
          answer.pipe(res);
          return;
        }
        let sent = 0;
        let cut = false;
        answer.on("data", (chunk: Buffer) => {
          if (cut) return;
          const room = fault.afterBytes - sent;
          if (room > 0) res.write(chunk.subarray(0, room));
          sent += Math.min(room, chunk.length);
          if (sent >= fault.afterBytes) {
            cut = true;
            answer.destroy();
            if (fault.kind === "drop") res.socket?.destroy();
            else this.held.add(res);
          }
        });
        answer.on("end", () => {
          // The body was shorter than afterBytes: cut at its end all the same.
          if (cut) return;
          if (fault.kind === "drop") res.socket?.destroy();
          else this.held.add(res);
        });
      },
    );
    upstream.on("error", () => res.socket?.destroy());
    req.pipe(upstream);
  }
}

/** The whole answer, then changed as `fault` says, its Content-Length true to the changed body. */
async function tampered(
  answer: IncomingMessage,
  fault: Extract<Fault, { kind: "tamper" }>,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  const chunks: Buffer[] = [];
  for await (const chunk of answer) chunks.push(chunk as Buffer);
  let body = Buffer.concat(chunks);
  if (fault.truncateTo !== undefined) body = body.subarray(0, fault.truncateTo);
  if (fault.flipByteAt !== undefined && fault.flipByteAt < body.length) body[fault.flipByteAt] ^= 0xff;
  const headers: IncomingHttpHeaders = { ...answer.headers, ...fault.headers, "content-length": String(body.length) };
  delete headers["transfer-encoding"];
  return { status: answer.statusCode ?? 502, headers, body };
}
