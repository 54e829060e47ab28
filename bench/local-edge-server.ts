/**
 * The local edge for the load benchmark, in a process of its own so that autocannon (in the
 * parent) does not share its event loop. Run with `node --import tsx`; argv: one JSON object
 * { originals, dataDir, hitPath, accept }. Starts the edge on a free port with the originals
 * uploaded, makes `hitPath` a cache hit, and also serves the same bytes from a bare Node HTTP
 * server (the hit baseline: what HTTP alone costs on this machine). Prints one JSON line
 * { edgeUrl, staticUrl, hitBytes }, then runs until the parent ends it.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { startLocalEdge } from "../local/server.js";
import { DEFAULT_SETTINGS } from "../handlers/core/settings.js";

interface Args {
  originals: string;
  dataDir: string;
  hitPath: string;
  accept: string;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? "{}") as Args;
  const edge = await startLocalEdge({
    port: 0,
    settings: DEFAULT_SETTINGS,
    dataDir: args.dataDir,
    uploadSamples: false,
    originals: args.originals,
    log: () => {},
  });
  const first = await fetch(`${edge.url}${args.hitPath}`, { headers: { accept: args.accept } });
  const body = Buffer.from(await first.arrayBuffer());
  if (first.status !== 200) throw new Error(`priming ${args.hitPath} answered ${first.status}: ${body.toString().slice(0, 200)}`);
  const second = await fetch(`${edge.url}${args.hitPath}`, { headers: { accept: args.accept } });
  await second.arrayBuffer();
  if (!/^Hit/.test(second.headers.get("x-cache") ?? ""))
    throw new Error(`second request of ${args.hitPath} was not a hit: ${second.headers.get("x-cache")}`);
  const contentType = first.headers.get("content-type") ?? "application/octet-stream";

  const bare = createServer((_req, res) => {
    res.writeHead(200, { "content-type": contentType, "content-length": body.length, "cache-control": "public, max-age=31536000" });
    res.end(body);
  });
  await new Promise<void>((done) => bare.listen(0, "127.0.0.1", () => done()));
  const staticUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}`;
  process.stdout.write(`${JSON.stringify({ edgeUrl: edge.url, staticUrl, hitBytes: body.length })}\n`);

  const stop = async () => {
    bare.close();
    bare.closeAllConnections();
    await edge.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.stdin.on("end", () => void stop());
  process.stdin.resume();
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
