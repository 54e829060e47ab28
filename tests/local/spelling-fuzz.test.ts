/**
 * 20,000 random and mutated requests — random percent-encodings of valid URLs, "%2F", mixed-case
 * hex, double encoding, "+", NUL, dot segments — sent to the local edge (its cache, its origin
 * trips to the embedded s3rver, the real handlers) with signed-only settings. In-process: the
 * LocalEdge the HTTP server drives, without the sockets, so the run stays a few seconds.
 *
 * Whatever is sent: no 5xx; every 200 is an original reached by its canonical spelling (with its
 * own bytes) or a variant `?d=300x200` could have made; afterwards every variant in the bucket is
 * one `?d=300x200` could have made, and every cache key is a canonical spelling.
 */
import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import sharp from "sharp";
import { keyToUri, uriToKey } from "../../handlers/core/canonical-uri.js";
import { validateSettings } from "../../handlers/core/settings.js";
import { signThumborPath } from "../../handlers/url/signature.js";
import { createRequestPlanner } from "../../handlers/url/request-plan.js";
import { EdgeCache } from "../../local/cloudfront-cache.js";
import { LocalEdge, type EdgeHandlers } from "../../local/edge.js";
import { startLocalEdge, type LocalEdgeServer } from "../../local/server.js";

const SECURITY_KEY = "k123";
const SIGNED_ONLY = validateSettings({ thumbor: { allowUnsafe: false, securityKey: SECURITY_KEY }, sizes: ["300x200"] });
const REQUESTS = 20_000;
/** Originals with a space, a comma, a "+" and non-ASCII in their keys: each has one canonical spelling. */
const ORIGINAL_KEYS = ["img/a.jpg", "img/b c.png", "img/é,x+y.jpg"];
const ACCEPTS = [undefined, "*/*", "image/webp,*/*", "image/avif,image/webp,*/*", "image/avif"];

const dataDir = mkdtempSync(join(tmpdir(), "spelling-fuzz-"));
let server: LocalEdgeServer;
let edge: LocalEdge;
const originals = new Map<string, Buffer>();
const loggedErrors: string[] = [];

test.before(async () => {
  let handlers: EdgeHandlers | undefined;
  server = await startLocalEdge({
    port: 0,
    dataDir,
    settings: SIGNED_ONLY,
    uploadSamples: false,
    log: () => {},
    recheck: () => {},
    handlers: (real) => (handlers = real),
  });
  const distribution = { domainName: "localhost", distributionId: "FUZZ", bucket: server.s3.bucket, region: server.s3.region };
  edge = new LocalEdge(handlers!, server.s3, distribution, new EdgeCache(64 * 1024 * 1024), uriToKey, (line) => loggedErrors.push(line));
  for (const [i, key] of ORIGINAL_KEYS.entries()) {
    const image = sharp({ create: { width: 48, height: 32, channels: 3, background: { r: 40 * i, g: 120, b: 200 } } });
    const body = key.endsWith(".png") ? await image.png().toBuffer() : await image.jpeg().toBuffer();
    await server.s3.client.send(new PutObjectCommand({ Bucket: server.s3.bucket, Key: key, Body: body }));
    originals.set(key, body);
  }
});

test.after.always(async () => {
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** mulberry32: a seeded generator, so a failure replays exactly. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Valid URLs of every route: allowed ones, refused ones, and signed ones (one that ?d= could make, one it could not). */
function seedUrls(): string[] {
  const signed = (part: string) => `/${signThumborPath(SECURITY_KEY, part)}/${part}`;
  const urls: string[] = [];
  for (const key of ORIGINAL_KEYS) {
    const uri = keyToUri(key);
    urls.push(uri, `${uri}?d=300x200`, `${uri}?d=301x199`, `${uri}?d=999x999`);
    urls.push(`/variants/${uri.slice(1)}/300x200,q80.webp`, `/variants/${uri.slice(1)}/300x200,q80.orig`);
    urls.push(`/variants/${uri.slice(1)}/300x200,q80.avif`, `/variants/${uri.slice(1)}/999x999,q80.webp`);
    urls.push(`/variants/${uri.slice(1)}/1000x1000,blur(10),q80.webp`, `/variants/${uri.slice(1)}/300x200.json`);
    urls.push(`/unsafe/300x200${uri}`, `/unsafe/999x999/filters:blur(10)${uri}`);
    urls.push(signed(`300x200${uri}`), breakSignature(signed(`999x999/filters:blur(10)${uri}`)));
  }
  return urls;
}

/** The same URL with the first character of its signature changed (so it no longer verifies). */
function breakSignature(url: string): string {
  return `/${url[1] === "A" ? "B" : "A"}${url.slice(2)}`;
}

const HOSTILE_INSERTS = [
  "%00",
  "%2e%2e/",
  "%2E%2E/",
  "../",
  "./",
  "//",
  "+",
  "%2B",
  "%20",
  "é",
  "%",
  "%zz",
  "%2F",
  "%2f",
  "%0A",
  "~",
  "*",
  "?d=300x200",
];

/** One mutation of a URL; the query string may be touched too (it is part of what a viewer sends). */
function mutate(url: string, random: () => number): string {
  const at = 1 + Math.floor(random() * Math.max(1, url.length - 1));
  const c = url[at] ?? "";
  switch (Math.floor(random() * 7)) {
    case 0: {
      // Percent-encode one character, upper- or lower-case hex.
      if (c === "" || c === "%") return url;
      const hex = Buffer.from(c, "utf8").toString("hex");
      const escaped = hex.replace(/(..)/g, "%$1");
      return url.slice(0, at) + (random() < 0.5 ? escaped.toUpperCase() : escaped) + url.slice(at + 1);
    }
    case 1:
      return url.replace(/\//g, (slash, i: number) => (i > 0 && random() < 0.3 ? (random() < 0.5 ? "%2F" : "%2f") : slash));
    case 2:
      return url.replace(/%/g, () => (random() < 0.5 ? "%25" : "%"));
    case 3:
      return url.replace(/%[0-9A-Fa-f]{2}/, (m) => (random() < 0.5 ? m.toLowerCase() : decodeURIComponentOr(m)));
    case 4:
      return url.slice(0, at) + HOSTILE_INSERTS[Math.floor(random() * HOSTILE_INSERTS.length)] + url.slice(at);
    case 5:
      return url.slice(0, at) + (random() < 0.5 ? c.toUpperCase() : c.toLowerCase()) + url.slice(at + 1);
    default:
      return url.slice(0, at) + url.slice(at + 1);
  }
}

function decodeURIComponentOr(m: string): string {
  try {
    return decodeURIComponent(m);
  } catch {
    return m;
  }
}

/** Every variant key `?d=300x200` can make of the originals, under any Accept. */
function keysDimensionsCanMake(): Set<string> {
  const planner = createRequestPlanner(SIGNED_ONLY);
  const keys = new Set<string>();
  for (const key of ORIGINAL_KEYS) {
    for (const accept of ACCEPTS) {
      const route = planner.plan(keyToUri(key), "d=300x200", accept);
      if (route.kind === "variant") keys.add(route.key);
    }
  }
  return keys;
}

test.serial(
  `${REQUESTS} hostile spellings: no 5xx, no forbidden render, every 200 is an original by its canonical spelling or an allowed variant`,
  async (t) => {
    const random = seededRandom(20261207);
    const seeds = seedUrls();
    const allowedVariants = keysDimensionsCanMake();
    const byCanonicalUri = new Map(ORIGINAL_KEYS.map((key) => [keyToUri(key), key]));
    const problems: string[] = [];
    const statuses = new Map<number, number>();
    for (let i = 0; i < REQUESTS; i++) {
      let url = seeds[Math.floor(random() * seeds.length)]!;
      const mutations = Math.floor(random() * 4);
      for (let m = 0; m < mutations; m++) url = mutate(url, random);
      const accept = ACCEPTS[Math.floor(random() * ACCEPTS.length)];
      const rawHeaders = accept === undefined ? [] : ["Accept", accept];
      const answer = await edge.handle({ method: "GET", url, rawHeaders, clientIp: "203.0.113.9" });
      const { status, body } = answer.response;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status >= 500) problems.push(`${status} for ${JSON.stringify(url)}: ${body.toString().slice(0, 120)}`);
      if (status === 301) {
        // Another spelling of an original or a ?d= path: sent on to the same key's one spelling, same-site.
        const location = answer.response.headers.get("location")?.[0] ?? "";
        const [path, query] = location.split("?", 2);
        const [asked, askedQuery] = url.split("?", 2);
        const sameKey = path!.startsWith("/") && !path!.startsWith("//") && uriToKey(path!) === uriToKey(asked!);
        if (!sameKey || keyToUri(uriToKey(path!)) !== path || (query !== undefined && !askedQuery?.includes(query))) {
          problems.push(`301 for ${JSON.stringify(url)} to ${JSON.stringify(location)}`);
        }
      }
      if (status !== 200) continue;
      const rewritten = answer.rewrittenUri!;
      const original = byCanonicalUri.get(rewritten);
      if (original !== undefined) {
        // viewer-request passes originals on untouched: the viewer must have sent the canonical spelling.
        if (url.split("?", 1)[0] !== rewritten) problems.push(`original reached by ${JSON.stringify(url)}`);
        if (!body.equals(originals.get(original)!)) problems.push(`original ${original} answered other bytes`);
      } else if (!allowedVariants.has(uriToKey(rewritten)) || keyToUri(uriToKey(rewritten)) !== rewritten) {
        problems.push(`200 for ${JSON.stringify(url)} as ${rewritten}`);
      }
      if (problems.length > 20) break;
    }
    t.deepEqual(problems, []);
    t.deepEqual(loggedErrors, []);
    t.is(edge.stats.lambdaErrors, 0);

    const listed = await server.s3.client.send(new ListObjectsV2Command({ Bucket: server.s3.bucket, Prefix: "variants/" }));
    const stored = (listed.Contents ?? []).map((o) => o.Key!);
    t.deepEqual(
      stored.filter((key) => !allowedVariants.has(key)),
      [],
      "every stored variant is one ?d=300x200 could make",
    );
    t.true(stored.length > 0, "the allowed renders happened: the run reached origin-response");
    const cached = edge.cache.keys();
    t.deepEqual(
      cached.filter((uri) => keyToUri(uriToKey(uri)) !== uri),
      [],
      "only canonical spellings are cached",
    );
    // The mix reached every kind of answer, so the assertions above were exercised.
    for (const status of [200, 301, 400, 403, 404])
      t.true((statuses.get(status) ?? 0) > 0, `some ${status}: ${JSON.stringify([...statuses])}`);
  },
);
