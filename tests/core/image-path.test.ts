import test from "ava";
import fc from "fast-check";
import { RequestError } from "../../handlers/core/errors.js";
import { checkOriginalKey, MAX_ORIGINAL_KEY_BYTES, originalKeyFromThumborImage } from "../../handlers/core/image-path.js";
import { DEFAULT_SETTINGS } from "../../handlers/core/settings.js";
import { parseThumborPath } from "../../handlers/url/thumbor-url.js";
import { requestVectors } from "../helpers/thumbor-vectors.js";

const none = { pathPrefix: "", stripHosts: [] as string[] };
const keyOf = (rawPath: string, thumbor = none) => originalKeyFromThumborImage(parseThumborPath(rawPath).image, thumbor);

function refused(t: import("ava").ExecutionContext, fn: () => unknown, reason: string | RegExp): void {
  const err = t.throws(fn, { instanceOf: RequestError }) as RequestError;
  t.is(err.status, 400);
  if (typeof reason === "string") t.is(err.reason, reason);
  else t.regex(err.reason, reason);
}

test("thumbor-aws's documented example: decoded once, relative to the root path", (t) => {
  // thumbor-aws's documented mapping: GET /unsafe/300x200/folder/my%20pic.jpg reads key "/st/folder/my pic.jpg" (root "/st");
  // our keys never start with "/".
  t.is(keyOf("/unsafe/300x200/folder/my%20pic.jpg", { pathPrefix: "/st", stripHosts: [] }), "st/folder/my pic.jpg");
  t.is(keyOf("/unsafe/300x200/folder/my%20pic.jpg"), "folder/my pic.jpg");
});

test("percent-encoding: decoded exactly once (by the parser), never twice", (t) => {
  t.is(keyOf("/unsafe/my%2520pic.jpg"), "my%20pic.jpg");
  t.is(keyOf("/unsafe/alabama1_ap620%C3%A9.jpg"), "alabama1_ap620é.jpg");
  t.is(keyOf("/unsafe/a%2Fb%2Fc.jpg"), "a/b/c.jpg");
  t.is(keyOf("/unsafe/image.jpg%3Fts%3D1"), "image.jpg?ts=1", "an encoded '?' is part of a relative key");
  t.is(keyOf("/unsafe/a+b.jpg"), "a+b.jpg");
  t.is(originalKeyFromThumborImage("100%25.jpg", none), "100%25.jpg", "the image is taken as given");
});

test("leading slashes are stripped like thumbor-aws's lstrip('/')", (t) => {
  t.is(keyOf("/unsafe//a.jpg"), "a.jpg");
  t.is(keyOf("/unsafe///a/b.jpg"), "a/b.jpg");
  t.is(originalKeyFromThumborImage("///a.jpg", none), "a.jpg");
});

test("pathPrefix is joined with exactly one '/'", (t) => {
  for (const pathPrefix of ["originals", "/originals", "originals/", "/originals//"]) {
    t.is(originalKeyFromThumborImage("/a/b.jpg", { pathPrefix, stripHosts: [] }), "originals/a/b.jpg", pathPrefix);
  }
  t.is(originalKeyFromThumborImage("a.jpg", { pathPrefix: "x/y", stripHosts: [] }), "x/y/a.jpg");
  t.is(originalKeyFromThumborImage("a.jpg", { pathPrefix: "/", stripHosts: [] }), "a.jpg");
  refused(t, () => originalKeyFromThumborImage("a.jpg", { pathPrefix: "x//y", stripHosts: [] }), /empty segment/);
});

test("absolute http(s) URLs: served by path for stripHosts, refused otherwise", (t) => {
  const s = { pathPrefix: "", stripHosts: ["images.example.com", "Cdn.Example.com:8080"] };
  t.is(keyOf("/unsafe/300x200/http://images.example.com/a/b.jpg", s), "a/b.jpg");
  t.is(keyOf("/unsafe/300x200/https%3A%2F%2Fimages.example.com%2Fa%2Fb.jpg", s), "a/b.jpg");
  t.is(keyOf("/unsafe/HTTPS://IMAGES.example.com//a.jpg", s), "a.jpg");
  t.is(originalKeyFromThumborImage("http://cdn.example.com:8080/x.png", s), "x.png");
  t.is(originalKeyFromThumborImage("http://images.example.com/a%20b.jpg", s), "a%20b.jpg", "not decoded again");
  t.is(originalKeyFromThumborImage("http://images.example.com/a.jpg", { ...s, pathPrefix: "st" }), "st/a.jpg");
  refused(
    t,
    () => keyOf("/unsafe/http://evil.example.net/a.jpg", s),
    "absolute image URLs are not served: evil.example.net is not in thumbor.stripHosts",
  );
  refused(
    t,
    () => keyOf("/unsafe/http://example.com/a.jpg"),
    "absolute image URLs are not served: example.com is not in thumbor.stripHosts",
  );
  refused(t, () => originalKeyFromThumborImage("http://cdn.example.com/x.png", s), /cdn.example.com is not in thumbor.stripHosts/);
  refused(
    t,
    () => originalKeyFromThumborImage("http://user:pw@images.example.com/a.jpg", s),
    "absolute image URLs with user information are not served",
  );
  refused(t, () => keyOf("/unsafe/http%3A%2F%2Fimages.example.com%2Fa.jpg%3Fw%3D1", s), /query string or fragment/);
  refused(t, () => originalKeyFromThumborImage("http://images.example.com/a.jpg#x", s), /query string or fragment/);
  refused(
    t,
    () => originalKeyFromThumborImage("ftp://images.example.com/a.jpg", s),
    "absolute image URLs are not served: scheme ftp is not http or https",
  );
  refused(t, () => originalKeyFromThumborImage("http://images.example.com", s), "empty image path");
  refused(t, () => originalKeyFromThumborImage("http://images.example.com/a/../../b.jpg", s), 'image path has a ".." segment');
});

test("checkOriginalKey refuses what could escape or confuse the key space", (t) => {
  t.is(checkOriginalKey("a/b c/ü.jpg"), "a/b c/ü.jpg");
  t.is(checkOriginalKey("...jpg"), "...jpg");
  t.is(checkOriginalKey("a/.hidden/..b"), "a/.hidden/..b");
  refused(t, () => checkOriginalKey(""), "empty image path");
  refused(t, () => checkOriginalKey("/a.jpg"), /empty segment/);
  refused(t, () => checkOriginalKey("a.jpg/"), /empty segment/);
  refused(t, () => checkOriginalKey("a//b.jpg"), /empty segment/);
  refused(t, () => checkOriginalKey("a/./b.jpg"), 'image path has a "." segment');
  refused(t, () => checkOriginalKey("../b.jpg"), 'image path has a ".." segment');
  refused(t, () => checkOriginalKey("a/.."), 'image path has a ".." segment');
  refused(t, () => checkOriginalKey("a\u0000.jpg"), "image path contains a control character");
  refused(t, () => checkOriginalKey("a\n.jpg"), "image path contains a control character");
  refused(t, () => checkOriginalKey("a\u007f.jpg"), "image path contains a control character");
  refused(t, () => checkOriginalKey("a\u0085.jpg"), "image path contains a control character");
  refused(t, () => checkOriginalKey("a\uD800.jpg"), "image path is not valid Unicode");
});

test("checkOriginalKey: at most 900 UTF-8 bytes", (t) => {
  t.is(MAX_ORIGINAL_KEY_BYTES, 900);
  t.is(checkOriginalKey("a".repeat(900)).length, 900);
  refused(t, () => checkOriginalKey("a".repeat(901)), "image path is longer than 900 bytes");
  t.is(checkOriginalKey("é".repeat(450)).length, 450, "900 bytes");
  refused(t, () => checkOriginalKey("é".repeat(451)), "image path is longer than 900 bytes");
  refused(t, () => checkOriginalKey("😀".repeat(226)), "image path is longer than 900 bytes");
});

test("decoded traversal and NUL from thumbor URLs are refused", (t) => {
  refused(t, () => keyOf("/unsafe/%2e%2e/secret.jpg"), 'image path has a ".." segment');
  refused(t, () => keyOf("/unsafe/a/%2E/b.jpg"), 'image path has a "." segment');
  refused(t, () => keyOf("/unsafe/a%00.jpg"), "image path contains a control character");
  refused(t, () => keyOf("/unsafe/a/"), /empty segment/);
});

test("every image of thumbor's request vectors maps onto its relative key", (t) => {
  let n = 0;
  let absolute = 0;
  for (const v of requestVectors) {
    if (v.parsed.handler_rejects_unsafe_or_hash) continue;
    const image = v.parsed.image;
    n++;
    if (image.startsWith("http://")) {
      // test_can_get_image_with_encoded_url (thumbor's HTTP loader): by path when the host is listed.
      refused(t, () => originalKeyFromThumborImage(image, DEFAULT_SETTINGS.thumbor), /test.com is not in thumbor.stripHosts/);
      t.is(originalKeyFromThumborImage(image, { pathPrefix: "", stripHosts: ["test.com"] }), "maracujá.jpg");
      absolute++;
      continue;
    }
    t.is(originalKeyFromThumborImage(image, DEFAULT_SETTINGS.thumbor), image.replace(/^\/+/, ""), v.url);
    t.is(originalKeyFromThumborImage(image, { pathPrefix: "orig", stripHosts: [] }), `orig/${image.replace(/^\/+/, "")}`);
  }
  t.is(n, 184);
  t.is(absolute, 1);
});

test("property: a key is either refused with a 400 or safe", (t) => {
  const segment = fc.oneof(
    fc.string({ unit: "grapheme", minLength: 0, maxLength: 6 }),
    fc.constantFrom(".", "..", "", "a", "http:", "%2e", "\u0000"),
  );
  const image = fc.oneof(
    fc.array(segment, { maxLength: 6 }).map((s) => s.join("/")),
    fc.string({ unit: "binary", maxLength: 40 }),
    fc.constantFrom("http://h/a.jpg", "https://h//x", "http://other/a", "http://h/a?b"),
  );
  fc.assert(
    fc.property(image, fc.constantFrom("", "st", "/a/b/"), (img, pathPrefix) => {
      try {
        const key = originalKeyFromThumborImage(img, { pathPrefix, stripHosts: ["h"] });
        const segments = key.split("/");
        return (
          checkOriginalKey(key) === key &&
          segments.every((s) => s !== "" && s !== "." && s !== "..") &&
          !/[\u0000-\u001f]/.test(key) &&
          Buffer.byteLength(key) <= 900
        );
      } catch (err) {
        return err instanceof RequestError && err.status === 400;
      }
    }),
    { numRuns: 3000 },
  );
  t.pass();
});
