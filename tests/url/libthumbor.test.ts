/**
 * URLs signed by thumbor's official Python client must parse with the right options and verify;
 * tampered ones must not. The URLs are committed in tests/fixtures/libthumbor-vectors.json (made
 * by Debian's python3-libthumbor with scripts/libthumbor-vectors.py), so no Python runs here.
 *
 * Two keys: an ASCII one, and a non-ASCII one. For the non-ASCII key libthumbor's client encodes
 * the key as Latin-1 while thumbor's server (and we) use UTF-8 (see handlers/url/signature.ts):
 * those URLs must parse identically, carry exactly the Latin-1 HMAC, and be refused.
 *
 * Live cross-check: the npm package `thumbor` (0.1.5, a JavaScript port of the same builder)
 * rebuilds every case it can express and must give the same bytes. It covers size, flips, `orig`,
 * `fit-in`, manual crop, alignment, `smart`, `meta`, filters and percent-encoded images. It does
 * not cover `trim`, `full-fit-in` and the `adaptive-` forms (it cannot write them) nor a zero crop
 * (it writes `0x0:0x0/` where libthumbor leaves it out). It signs with a UTF-8 key, so for the
 * non-ASCII key it must match thumbor's server (our signature), not libthumbor's client.
 */
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { RequestError } from "../../handlers/core/errors.js";
import { signThumborPath, verifyThumborSignature } from "../../handlers/url/signature.js";
import { parseThumborPath, type ThumborUrl } from "../../handlers/url/thumbor-url.js";

/** Keyword arguments of libthumbor's CryptoURL.generate (image_url as given: libthumbor does not encode). */
interface LibthumborOptions {
  image_url: string;
  width?: number | "orig";
  height?: number | "orig";
  smart?: boolean;
  meta?: boolean;
  fit_in?: boolean;
  full_fit_in?: boolean;
  adaptive_fit_in?: boolean;
  adaptive_full_fit_in?: boolean;
  flip?: boolean;
  flop?: boolean;
  halign?: "left" | "center" | "right";
  valign?: "top" | "middle" | "bottom";
  crop?: [[number, number], [number, number]];
  trim?: boolean | [string, number | null];
  filters?: string[];
}

interface Vector {
  title: string;
  key: string;
  options: LibthumborOptions;
  /** CryptoURL(key).generate(**options): "/<signature>/<signed part>". */
  signed: string;
  /** generate(unsafe=True, **options): "unsafe/<signed part>" (no leading slash). */
  unsafe: string;
}

const FIXTURE = JSON.parse(readFileSync(join(__dirname, "..", "fixtures", "libthumbor-vectors.json"), "utf8")) as {
  libthumbor: string;
  vectors: Vector[];
};
const VECTORS = FIXTURE.vectors;
const OTHER_KEY = "another-key";

/** What our parser must read from each case's URL. */
const EXPECT: Record<string, Partial<ThumborUrl>> = {
  "width and height": { width: 300, height: 200, image: "my.server.com/some/path/to/image.jpg" },
  "width only, smart": { width: 300, height: 0, smart: true, image: "images/cat.jpg" },
  "fit-in, height only": { fitIn: true, full: false, adaptive: false, width: 0, height: 120 },
  "full-fit-in": { fitIn: true, full: true, adaptive: false, width: 640, height: 480 },
  "adaptive-fit-in": { fitIn: true, full: false, adaptive: true, width: 300, height: 100 },
  "adaptive-full-fit-in": { fitIn: true, full: true, adaptive: true, width: 100, height: 400 },
  "flip and flop without size": { flipHorizontal: true, flipVertical: true, width: 0, height: 0 },
  "flip with a width": { flipHorizontal: true, flipVertical: false, width: 120, height: 80 },
  "flop with a height only": { flipHorizontal: false, flipVertical: true, width: 0, height: 80 },
  "manual crop and alignment": {
    crop: { left: 10, top: 20, right: 30, bottom: 40 },
    halign: "left",
    valign: "bottom",
    width: 50,
    height: 60,
  },
  "right and top": { crop: null, halign: "right", valign: "top", width: 50, height: 60 },
  "zero crop is left out": { crop: null, width: 10, height: 0, image: "a.jpg" },
  "trim and meta": { meta: true, trim: { corner: "bottom-right", tolerance: 15 } },
  "plain trim": { meta: false, trim: { corner: "top-left", tolerance: 0 }, width: 20, height: 20 },
  "trim with a corner only": { trim: { corner: "top-left", tolerance: 0 }, width: 0, height: 0 },
  "orig sides": { width: "orig", height: 250 },
  "everything at once": {
    meta: true,
    trim: { corner: "top-left", tolerance: 5 },
    crop: { left: 1, top: 2, right: 300, bottom: 400 },
    fitIn: true,
    full: false,
    width: 200,
    height: 100,
    halign: "left",
    valign: "top",
    smart: true,
    filters: "brightness(10):quality(70)",
    image: "photos/2024/x.jpg",
  },
  filters: { filters: "fill(ff00aa,true):round_corner(20|10,255,255,255):format(webp):quality(85)" },
  "non-ASCII, space, '+', parentheses and '?' percent-encoded": {
    width: 64,
    image: "dossier/été & co+(1).jpg?v=2",
    imageUrl: "dossier/%C3%A9t%C3%A9%20%26%20co%2B%281%29.jpg%3Fv%3D2",
  },
  "Cyrillic path (thumbor's own vector)": { image: "15967251_212831_19242645_АгатавЗоопарке.jpg" },
  "percent-encoded absolute URL": { image: "http://images.example.com/a b.jpg", imageUrl: "http%3A//images.example.com/a%20b.jpg" },
  "smart with filters and encoded filter argument": { smart: true, filters: "watermark(http://a.com/w.png,-10,center,50)", image: "x.jpg" },
};

const isAscii = (s: string): boolean => /^[\x20-\x7e]*$/.test(s);

/** libthumbor's client signature: HMAC-SHA1 under the key's Latin-1 bytes (six.b), base64url with padding. */
function latin1KeySignature(key: string, signedPart: string): string {
  return createHmac("sha1", Buffer.from(key, "latin1")).update(signedPart, "utf8").digest("base64").replace(/\+/g, "-").replace(/\//g, "_");
}

/** The URL thumbor's server accepts for this path under `key`: ours (UTF-8 key). */
function serverSignedUrl(key: string, signedPart: string): string {
  return `/${signThumborPath(key, signedPart)}/${signedPart}`;
}

/** A tampered URL is refused: not valid UTF-8 any more (400), or its signature does not verify. */
function accepted(url: string, key: string): boolean {
  let u: ThumborUrl;
  try {
    u = parseThumborPath(url);
  } catch (err) {
    if (err instanceof RequestError && err.status === 400) return false;
    throw err;
  }
  return verifyThumborSignature(u.signature!, u.signedPart, [key]);
}

/** One character changed, and the result still a character the path can carry. */
function changeCharAt(s: string, i: number): string {
  const c = s[i]!;
  const replacement = c === "a" ? "b" : c === "A" ? "B" : c === "0" ? "1" : "a";
  return s.slice(0, i) + replacement + s.slice(i + 1);
}

test("the fixture holds every case for both keys, one of them non-ASCII, and each case has expectations", (t) => {
  t.is(FIXTURE.libthumbor, "1.3.3");
  const keys = [...new Set(VECTORS.map((v) => v.key))];
  t.is(keys.length, 2);
  t.is(keys.filter(isAscii).length, 1);
  const titles = Object.keys(EXPECT);
  t.is(VECTORS.length, titles.length * keys.length);
  for (const key of keys)
    t.deepEqual(
      VECTORS.filter((v) => v.key === key)
        .map((v) => v.title)
        .sort(),
      [...titles].sort(),
      key,
    );
  for (const v of VECTORS) t.regex(v.signed, /^\/[A-Za-z0-9_-]{27}=\//);
});

/** One case: the signed and unsafe forms parse alike, and the signature means what it should. */
function checkVector(t: ExecutionContext, v: Vector): void {
  const u = parseThumborPath(v.signed);
  t.false(u.unsafe);
  t.like(u, EXPECT[v.title]!);
  t.is(u.signature, latin1KeySignature(v.key, u.signedPart), "libthumbor signs with the key's Latin-1 bytes");

  // libthumbor's unsafe form has no leading slash; the options are the same.
  t.true(v.unsafe.startsWith("unsafe/"));
  const plain = parseThumborPath(`/${v.unsafe}`);
  t.true(plain.unsafe);
  t.like(plain, EXPECT[v.title]!);
  t.is(plain.signedPart, u.signedPart);

  const serverUrl = serverSignedUrl(v.key, u.signedPart);
  if (isAscii(v.key)) {
    t.true(verifyThumborSignature(u.signature!, u.signedPart, [v.key]), v.signed);
    t.true(verifyThumborSignature(u.signature!, u.signedPart, [OTHER_KEY, v.key]), "rotation: a retired key still verifies");
    t.is(serverUrl, v.signed, "we sign exactly what libthumbor signs");
  } else {
    t.false(
      verifyThumborSignature(u.signature!, u.signedPart, [v.key]),
      "the client's Latin-1 signature is refused, as by thumbor's server",
    );
    t.not(serverUrl, v.signed);
    t.true(accepted(serverUrl, v.key), "the UTF-8 signature verifies");
  }
  t.false(verifyThumborSignature(u.signature!, u.signedPart, [OTHER_KEY]), "wrong key");
  checkTampering(t, serverUrl, v);
}

/** Every one-character change of a valid URL, and its signature on another path, is refused. */
function checkTampering(t: ExecutionContext, url: string, v: Vector): void {
  const key = v.key;
  t.true(accepted(url, key));
  const sigEnd = url.indexOf("/", 1) + 1;
  for (const at of [sigEnd, Math.floor((sigEnd + url.length) / 2), url.length - 1]) {
    const tampered = changeCharAt(url, at);
    t.false(accepted(tampered, key), tampered);
  }
  for (const at of [1, 14, 27]) {
    const tampered = changeCharAt(url, at);
    t.not(tampered, url);
    t.false(accepted(tampered, key), tampered);
  }
  const sameKey = VECTORS.filter((v) => v.key === key);
  const other = sameKey[(sameKey.indexOf(v) + 1) % sameKey.length]!.signed;
  const swapped = parseThumborPath(`/${parseThumborPath(url).signature}/${parseThumborPath(other).signedPart}`);
  t.false(verifyThumborSignature(swapped.signature!, swapped.signedPart, [key]));
}

VECTORS.forEach((v) => {
  test(`libthumbor (${isAscii(v.key) ? "ASCII key" : "non-ASCII key"}): ${v.title}`, (t) => checkVector(t, v));
});

test("libthumbor signs the percent-encoded form: the decoded form does not verify", (t) => {
  const vector = VECTORS.find((v) => isAscii(v.key) && v.title.startsWith("non-ASCII"))!;
  const u = parseThumborPath(vector.signed);
  const decodedPath = u.signedPart.replace("%C3%A9t%C3%A9", "été");
  t.not(decodedPath, u.signedPart);
  const d = parseThumborPath(`/${u.signature}/${decodedPath}`);
  t.is(d.image, u.image, "same image once decoded");
  t.false(verifyThumborSignature(d.signature!, d.signedPart, [vector.key]), "but a different signed string");
});

// ---- Live cross-check against the npm `thumbor` builder --------------------------------------

/** The builder's chainable API (the package ships no types). */
interface ThumborJsBuilder {
  setImagePath(path: string): ThumborJsBuilder;
  resize(width: number | string, height: number | string): ThumborJsBuilder;
  fitIn(width: number | string, height: number | string): ThumborJsBuilder;
  flipHorizontally(): ThumborJsBuilder;
  flipVertically(): ThumborJsBuilder;
  halign(value: string): ThumborJsBuilder;
  valign(value: string): ThumborJsBuilder;
  smartCrop(on: boolean): ThumborJsBuilder;
  metaDataOnly(on: boolean): ThumborJsBuilder;
  filter(call: string): ThumborJsBuilder;
  crop(left: number, top: number, right: number, bottom: number): ThumborJsBuilder;
  buildUrl(): string;
}
const ThumborJs = require("thumbor") as new (securityKey: string, serverUrl: string) => ThumborJsBuilder;

/** Why the builder cannot express a case, or null when it can. */
function outOfBuilderReach(o: LibthumborOptions): string | null {
  if (o.trim) return "no trim";
  if (o.full_fit_in || o.adaptive_fit_in || o.adaptive_full_fit_in) return "no full-fit-in or adaptive-fit-in";
  if (o.crop && o.crop.flat().every((n) => n === 0)) return "writes a zero crop that libthumbor leaves out";
  return null;
}

/** The same options through the JavaScript builder; an empty key gives the unsafe URL. */
function buildWithThumborJs(key: string, o: LibthumborOptions): string {
  const b = new ThumborJs(key, "").setImagePath(o.image_url);
  if (o.meta) b.metaDataOnly(true);
  if (o.crop) b.crop(o.crop[0][0], o.crop[0][1], o.crop[1][0], o.crop[1][1]);
  if (o.fit_in) b.fitIn(o.width ?? 0, o.height ?? 0);
  else b.resize(o.width ?? 0, o.height ?? 0);
  if (o.flip) b.flipHorizontally();
  if (o.flop) b.flipVertically();
  if (o.halign) b.halign(o.halign);
  if (o.valign) b.valign(o.valign);
  if (o.smart) b.smartCrop(true);
  for (const f of o.filters ?? []) b.filter(f);
  return b.buildUrl();
}

test("the npm `thumbor` builder covers the cases it can express, and the rest are the ones named above", (t) => {
  const titles = Object.keys(EXPECT);
  const outOfReach = VECTORS.filter((v) => isAscii(v.key) && outOfBuilderReach(v.options) !== null).map((v) => v.title);
  t.deepEqual(outOfReach, [
    "full-fit-in",
    "adaptive-fit-in",
    "adaptive-full-fit-in",
    "zero crop is left out",
    "trim and meta",
    "plain trim",
    "trim with a corner only",
    "everything at once",
  ]);
  t.is(titles.length - outOfReach.length, 14);
  // The zero crop really is a difference in the builder, not a case we merely skipped.
  const zero = VECTORS.find((v) => v.title === "zero crop is left out")!;
  t.not(buildWithThumborJs("", zero.options), `/${zero.unsafe}`);
});

VECTORS.filter((v) => outOfBuilderReach(v.options) === null).forEach((v) => {
  test(`npm thumbor builder (${isAscii(v.key) ? "ASCII key" : "non-ASCII key"}): ${v.title}`, (t) => {
    t.is(buildWithThumborJs("", v.options), `/${v.unsafe}`, "same unsafe URL");
    const built = buildWithThumborJs(v.key, v.options);
    const signedPart = parseThumborPath(v.signed).signedPart;
    // ASCII key: byte-identical to libthumbor. Non-ASCII key: identical to the server's UTF-8 signature.
    t.is(built, isAscii(v.key) ? v.signed : serverSignedUrl(v.key, signedPart));
    t.true(accepted(built, v.key));
  });
});
