import { execFileSync } from "node:child_process";
import test from "ava";
import fc from "fast-check";
import { RequestError } from "../../handlers/core/errors.js";
import { quoteLikePython, unquoteLikePython, unquoteToBytes } from "../../handlers/core/python.js";
import { parseThumborPath, THUMBOR_URL_PATTERN, THUMBOR_URL_REGEX, type ThumborUrl } from "../../handlers/url/thumbor-url.js";
import { requestVectors, urlVectors, type ParsedByUpstream, type UrlVector } from "../helpers/thumbor-vectors.js";

function rejects400(t: import("ava").ExecutionContext, path: string, reason?: RegExp | string): RequestError {
  const err = t.throws(() => parseThumborPath(path), { instanceOf: RequestError }) as RequestError;
  t.is(err.status, 400);
  if (typeof reason === "string") t.is(err.reason, reason);
  else if (reason) t.regex(err.reason, reason);
  return err;
}

/** Our result, spelled in the upstream field names of `parsed` (thumbor's defaults filled in). */
function asUpstream(
  u: ThumborUrl,
): Omit<ParsedByUpstream, "route_matched" | "trim" | "handler_rejects_unsafe_or_hash" | "signed_string" | "signature_valid_with_key"> {
  return {
    unsafe: u.unsafe,
    hash: u.signature,
    debug: u.debug,
    meta: u.meta,
    crop: u.crop ?? { left: 0, top: 0, right: 0, bottom: 0 },
    adaptive: u.adaptive,
    full: u.full,
    fit_in: u.fitIn,
    horizontal_flip: u.flipHorizontal,
    width: u.width,
    vertical_flip: u.flipVertical,
    height: u.height,
    halign: u.halign ?? "center",
    valign: u.valign ?? "middle",
    smart: u.smart,
    filters: u.filters,
    image: u.image,
    image_url: u.imageUrl,
  };
}

test("the route pattern is libthumbor's Url.regex() literally (libthumbor tests/test_url.py:24)", (t) => {
  // libthumbor/url.py:161-196, literally.
  const upstream =
    "/?(?:(?:(?P<unsafe>unsafe)|(?P<hash>.+?))/)?(?:(?P<debug>debug)/)?(?:(?P<meta>meta)/)?(?:(?P<trim>trim(?::(?:top-left|bottom-right))?(?::\\d+)?)/)?(?:(?P<crop_left>\\d+)x(?P<crop_top>\\d+):(?P<crop_right>\\d+)x(?P<crop_bottom>\\d+)/)?(?:(?P<adaptive>adaptive-)?(?P<full>full-)?(?P<fit_in>fit-in)/)?(?:(?P<horizontal_flip>-)?(?P<width>(?:\\d+|orig))?x(?P<vertical_flip>-)?(?P<height>(?:\\d+|orig))?/)?(?:(?P<halign>left|right|center)/)?(?:(?P<valign>top|bottom|middle)/)?(?:(?P<smart>smart)/)?(?:filters:(?P<filters>.+?\\))/)?(?P<image>.+)";
  t.is(THUMBOR_URL_PATTERN, upstream);
  const source = THUMBOR_URL_REGEX.source.replace(/\\\//g, "/"); // RegExp#source escapes "/"
  t.true(source.startsWith("^/?(?:(?:(?<unsafe>unsafe)|(?<hash>[^\\n]+?))/)?"));
  t.true(source.endsWith("(?<image>[^\\n]+)$"));
  t.false(THUMBOR_URL_REGEX.source.includes("(?P<"));
});

// ---------------------------------------------------------------------------------------------
// thumbor_vectors.json, kind "request": every URL thumbor's handler tests send (186).
// `parsed` is the upstream regex + tornado decoding (cross-checked with tornado's PathMatches).
// ---------------------------------------------------------------------------------------------

/**
 * Requests whose upstream status is not 200 although the URL grammar accepts them: the status
 * comes from a later stage. Every such vector must be listed here with the stage that decides
 * it (the test fails on an unexplained one). The grammar part is still asserted for all of them.
 */
const DECIDED_AFTER_PARSING: Record<string, string> = {
  "ImagingOperationsTestCase.test_get_unknown_image_returns_not_found": "404: the original is missing (origin-response)",
  "ImagingOperationsTestCase.test_getting_invalid_image_returns_bad_request": "400: undecodable original (sharp pipeline)",
  "ImagingOperationsTestCase.test_getting_invalid_watermark_returns_bad_request":
    "400: watermark source cannot be loaded (watermark is not implemented by us)",
  "ImageOperationsWithAutoWebPTestCase.test_converting_return_etags": "no status asserted upstream (ETag header test)",
  "ImageBadRequestDecompressionBomb.test_should_bad_request_if_bigger_than_75_megapixels":
    "400: decompression bomb (settings.maxInputPixels, pipeline)",
  "ImageBadRequestDecompressionBomb.test_should_bad_request_if_bigger_than_75_megapixels_jpeg":
    "400: decompression bomb (settings.maxInputPixels, pipeline)",
  "ImageOperationsWithMaxPixels.test_should_error": "400: MAX_PIXELS=1000 (settings.maxInputPixels, pipeline)",
  "EngineLoadException.test_should_error_on_engine_load_exception": "500: thumbor's engine patched to raise; not applicable",
  "EngineLoadException.test_should_fail_with_500_upon_engine_read_exception": "500: thumbor's engine patched to raise; not applicable",
  "ImageOperationsWithLastModifiedTestCase.test_can_get_304_with_last_modified": "304: conditional request, answered by CloudFront/S3",
  "LoaderErrorTestCase.test_should_propagate_custom_loader_error": "409: a custom thumbor loader's status; not applicable",
  "ImageOperationsResultStorageOnlyTestCase.test_loads_image_from_result_storage_fails_on_exception":
    "500: thumbor result storage patched to raise; not applicable",
  "ImageOperationsWithoutUnsafeTestCase.test_getting_unsafe_image_fails":
    "400: ALLOW_UNSAFE_URL=False is thumbor.allowUnsafe, decided in request-plan.ts",
  "ImageOperationsWithoutUnsafeTestCase.test_hash_injection_in_image_path_is_rejected":
    "400: signature does not verify (tests/url/signature.test.ts)",
  "ImageOperationsWithoutUnsafeTestCase.test_url_encoded_hash_injection_in_image_path_is_rejected":
    "400: signature does not verify (tests/url/signature.test.ts)",
  "ImagingOperationsTestCase.test_url_with_encoded_hash": "400: signature does not verify (tests/url/signature.test.ts)",
  "BlacklistHandlerTestCase.test_cant_get_blacklisted_image": "400: thumbor's blacklist.txt; not implemented (delete the original instead)",
};

for (const v of requestVectors) {
  test(`request vector #${v.index} ${v.url} (${v.test})`, (t) => {
    const p = v.parsed;
    t.true(p.route_matched, "every request vector matches the upstream route");
    const status = (v.expect as { status?: number }).status;
    if (p.handler_rejects_unsafe_or_hash) {
      rejects400(t, v.url, "URL does not have hash or unsafe");
      t.is(status, 400, "upstream answers 400 too");
      return;
    }
    const u = parseThumborPath(v.url);
    const { route_matched, trim, handler_rejects_unsafe_or_hash, signed_string, signature_valid_with_key, ...fields } = p;
    t.deepEqual(asUpstream(u), fields);
    t.is(trim, null); // no request vector uses trim; trim is covered by the parse-segment vectors
    t.is(u.trim, null);
    if (signed_string !== undefined) t.is(u.signedPart, signed_string);
    if (status !== 200) t.truthy(DECIDED_AFTER_PARSING[v.test!], `unexplained upstream status ${status}`);
  });
}

// ---------------------------------------------------------------------------------------------
// thumbor_vectors.json, the other kinds (63): libthumbor's parser and composer tests, thumbor's
// RequestParameters tests. Each case says how it applies to a server-side parser.
// ---------------------------------------------------------------------------------------------

const MD5_OF_IMAGE = /^[0-9a-f]{32}$/;

/** What a composer option set means in our field names, for the options the vectors use. */
function expectedFromComposeOptions(e: Record<string, unknown>): Partial<ThumborUrl> {
  const out: Partial<ThumborUrl> = {};
  for (const [k, val] of Object.entries(e)) {
    switch (k) {
      case "width":
        out.width = val as number | "orig";
        break;
      case "height":
        out.height = val as number | "orig";
        break;
      case "smart":
        out.smart = val as boolean;
        break;
      case "meta":
        out.meta = val as boolean;
        break;
      case "debug":
        out.debug = val as boolean;
        break;
      case "fit_in":
        out.fitIn = val as boolean;
        break;
      case "full":
        out.full = val as boolean;
        break;
      case "adaptive":
        out.adaptive = val as boolean;
        break;
      case "adaptive_fit_in":
        Object.assign(out, { fitIn: true, adaptive: true, full: false });
        break;
      case "full_fit_in":
        Object.assign(out, { fitIn: true, adaptive: false, full: true });
        break;
      case "adaptive_full_fit_in":
        Object.assign(out, { fitIn: true, adaptive: true, full: true });
        break;
      case "flip":
      case "horizontal_flip":
        out.flipHorizontal = val as boolean;
        break;
      case "flop":
      case "vertical_flip":
        out.flipVertical = val as boolean;
        break;
      case "halign":
        out.halign = val === "center" ? null : (val as ThumborUrl["halign"]);
        break;
      case "valign":
        out.valign = val === "middle" ? null : (val as ThumborUrl["valign"]);
        break;
      case "filters":
        out.filters = Array.isArray(val) ? val.join(":") : (val as string);
        break;
      case "crop_left":
      case "crop_top":
      case "crop_right":
      case "crop_bottom": {
        out.crop = { ...(out.crop ?? { left: 0, top: 0, right: 0, bottom: 0 }), [k.slice(5)]: Number(val) };
        break;
      }
      case "crop": {
        if (Array.isArray(val)) {
          const [[l, tp], [r, b]] = val as [[number, number], [number, number]];
          out.crop = l || tp || r || b ? { left: l, top: tp, right: r, bottom: b } : null;
        } else out.crop = val as ThumborUrl["crop"];
        break;
      }
      case "trim": {
        if (val === true) out.trim = { corner: "top-left", tolerance: 0 };
        else if (Array.isArray(val))
          out.trim = { corner: val[0] === "bottom-right" ? "bottom-right" : "top-left", tolerance: (val[1] as number | null) ?? 0 };
        break;
      }
      default:
        break; // image_url, unsafe, options...: handled by each case
    }
  }
  return out;
}

function pick(u: ThumborUrl, like: Partial<ThumborUrl>): Partial<ThumborUrl> {
  return Object.fromEntries(Object.keys(like).map((k) => [k, u[k as keyof ThumborUrl]]));
}

/** Per-vector handling; returns a short note of what was asserted. */
function checkOtherVector(t: import("ava").ExecutionContext, v: UrlVector): void {
  const e = v.expect ?? {};
  const api = v.api ?? "";
  if (v.kind === "parse" && v.url === "") {
    // Url.parse_decrypted("") is None; the route does not match an empty path either.
    t.is(v.expect, null);
    rejects400(t, "", /not a thumbor URL/);
    return;
  }
  if (v.kind === "parse") {
    // parse_decrypted uses the regex without the unsafe/hash part; behind "/unsafe" it is the
    // same grammar (with a hash-less path the full route would read "debug" as the hash).
    const u = parseThumborPath(`/unsafe${v.url}`);
    const { trim, image, ...rest } = e as Record<string, unknown>;
    t.deepEqual(pick(u, expectedFromComposeOptions(rest)), expectedFromComposeOptions(rest));
    t.is(u.image, image as string);
    t.deepEqual(u.trim, trim === "trim" ? { corner: "top-left", tolerance: 0 } : null);
    return;
  }
  if (v.kind === "parse-segment") {
    if (api.includes("trim")) {
      const u = parseThumborPath(`/unsafe/${v.url}/a.jpg`);
      t.deepEqual(u.trim, { corner: e.trim_pos as "top-left" | "bottom-right", tolerance: e.trim_tolerance as number });
    } else if (api.includes("width='orig'")) {
      const u = parseThumborPath(`/unsafe/${v.url}/a.jpg`);
      t.is(u.width, e.width as "orig");
      t.is(u.height, e.height as "orig");
    } else if (api.includes("crop_left") || api.includes("--crop")) {
      const u = parseThumborPath(`/unsafe/${v.url}/a.jpg`);
      const c = (e.crop as Record<string, number> | undefined) ?? {
        left: Number(e.crop_left),
        top: Number(e.crop_top),
        right: Number(e.crop_right),
        bottom: Number(e.crop_bottom),
      };
      t.deepEqual(u.crop, { left: c.left!, top: c.top!, right: c.right!, bottom: c.bottom! });
    } else if (api === "thumbor.context.RequestParameters()") {
      // RequestParameters' defaults: a URL with no options parses to exactly those defaults.
      const u = parseThumborPath("/unsafe/a.jpg");
      t.deepEqual(
        { ...asUpstream(u), crop: u.crop ?? e.crop, trim: u.trim, filters: u.filters ?? [] },
        {
          unsafe: true,
          hash: null,
          debug: e.debug,
          meta: e.meta,
          crop: e.crop,
          adaptive: e.adaptive,
          full: e.full,
          fit_in: e.fit_in,
          horizontal_flip: e.horizontal_flip,
          width: e.width,
          vertical_flip: e.vertical_flip,
          height: e.height,
          halign: e.halign,
          valign: e.valign,
          smart: e.smart,
          filters: e.filters,
          image: "a.jpg",
          image_url: "a.jpg",
          trim: e.trim,
        },
      );
      t.is(u.crop, null, "no crop segment -> null (thumbor: all zeros, should_crop false)");
    } else {
      t.fail(`unhandled parse-segment vector ${api}`);
    }
    return;
  }
  if (v.kind === "compose" && api.includes("generate_options")) {
    // Not applicable: we do not compose URLs. Asserted: the composed options parse back,
    // except the documented composer/parser mismatch (trim:300x200 is not valid trim syntax).
    const url = `/unsafe/${v.url === "" ? "" : `${v.url}/`}a.jpg`;
    const u = parseThumborPath(url);
    if (e.trim === "300x200") {
      t.is(u.trim, null);
      t.true(u.image.startsWith("trim:300x200/"), "the unparseable trim and everything after it become the image path");
      return;
    }
    const want = expectedFromComposeOptions(e);
    t.deepEqual(pick(u, want), want);
    t.is(u.image, "a.jpg");
    return;
  }
  if (v.kind === "compose" && v.url === null) {
    // Composer-only validation errors (libthumbor raises ValueError before emitting a URL). The
    // server grammar has no such rule; asserted: what the server does with the equivalent path.
    if (String(v.expect_error).includes("image_url argument is mandatory")) {
      rejects400(t, "/unsafe/", "URL does not have hash or unsafe");
    } else if (String(v.expect_error).includes("fit-in")) {
      const u = parseThumborPath("/unsafe/fit-in/a.jpg");
      t.true(u.fitIn);
      t.is(u.width, 0);
      t.is(u.height, 0);
    } else if (String(v.expect_error).includes("alignment")) {
      const u = parseThumborPath("/unsafe/wrong/a.jpg");
      t.is(u.halign, null);
      t.is(u.valign, null);
      t.is(u.image, "wrong/a.jpg");
    } else {
      t.fail(`unhandled compose error vector ${v.expect_error}`);
    }
    return;
  }
  if (v.kind === "compose" && api.includes("url_for")) {
    // url_for appends md5(image_url) (legacy, Latin-1 md5): composer-only, not implemented.
    // Asserted: the options it emits parse back, and the md5 is just an image path to us.
    const u = parseThumborPath(`/unsafe/${v.url}`);
    const last = v.url!.split("/").pop()!;
    t.regex(last, MD5_OF_IMAGE);
    if (Array.isArray(e.trim) && e.trim[0] === null) {
      // COMPOSER/PARSER MISMATCH: "trim::15" is not valid trim syntax for the server.
      t.is(u.trim, null);
      t.is(u.image, v.url!);
      return;
    }
    const want = expectedFromComposeOptions(e);
    t.deepEqual(pick(u, want), want);
    t.is(u.image, last);
    return;
  }
  if (v.kind === "compose" && api.includes("unsafe_url")) {
    const u = parseThumborPath(`/${v.url}`);
    const want = expectedFromComposeOptions(e);
    t.true(u.unsafe);
    t.deepEqual(pick(u, want), want);
    t.is(u.image, e.image_url as string);
    return;
  }
  if (v.kind === "compose+sign" && v.url === null) {
    // Composer-only: CryptoURL(unsafe=...) chooses the prefix. Asserted: the two forms it emits
    // ("unsafe/..." and "/<sig>/...") parse as unsafe / signed respectively.
    const opts = e.options as { unsafe: boolean };
    const u = parseThumborPath(
      opts.unsafe ? "/unsafe/10x20:30x40/my.server.com/some/path/to/image.jpg" : "/abc=/10x20:30x40/my.server.com/some/path/to/image.jpg",
    );
    t.is(u.unsafe, opts.unsafe);
    t.deepEqual(u.crop, { left: 10, top: 20, right: 30, bottom: 40 });
    return;
  }
  if (v.kind === "compose+sign") {
    // The generated signed URL parses with the right options; the signature itself is checked
    // in tests/url/signature.test.ts (including the Latin-1 key quirk of "cafécompãodequeijo").
    const u = parseThumborPath(v.url!);
    t.false(u.unsafe);
    t.is(u.signature, v.url!.split("/")[1]);
    const want = expectedFromComposeOptions(e);
    t.deepEqual(pick(u, want), want);
    t.is(u.image, (e.image_url as string | undefined) ?? (e.argv as string[])[6]);
    return;
  }
  t.fail(`unhandled vector kind ${v.kind} ${api}`);
}

urlVectors.forEach((v, index) => {
  if (v.kind === "request") return;
  test(`${v.kind} vector #${index} ${JSON.stringify(v.url)} (${v.source})`, (t) => checkOtherVector(t, v));
});

test("every one of the 249 vectors is run by this file", (t) => {
  t.is(urlVectors.length, 249);
  t.is(requestVectors.length, 186);
});

// ---------------------------------------------------------------------------------------------
// Edge cases observed by running tornado's real PathMatches on thumbor's route.
// ---------------------------------------------------------------------------------------------

test("absolute image URLs: plain, and percent-encoded with a query that survives", (t) => {
  const a = parseThumborPath("/unsafe/300x200/http://example.com/a.jpg");
  t.like(a, { width: 300, height: 200, image: "http://example.com/a.jpg", imageUrl: "http%3A//example.com/a.jpg" });
  const b = parseThumborPath("/unsafe/300x200/http%3A%2F%2Fexample.com%2Fa.jpg%3Fw%3D1");
  t.is(b.image, "http://example.com/a.jpg?w=1");
  t.is(b.imageUrl, "http%3A//example.com/a.jpg%3Fw%3D1");
});

test("segment edge cases observed upstream", (t) => {
  t.is(parseThumborPath("/unsafe//a.jpg").image, "/a.jpg");
  t.like(parseThumborPath("/unsafe/fit-in/smart/a.jpg"), { fitIn: true, width: 0, height: 0, smart: true });
  t.like(parseThumborPath("/unsafe/10x20:30x40/100x0/a.jpg"), {
    crop: { left: 10, top: 20, right: 30, bottom: 40 },
    width: 100,
    height: 0,
  });
  t.like(parseThumborPath("/unsafe/adaptive-full-fit-in/300x200/a.jpg"), { adaptive: true, full: true, fitIn: true });
  t.like(parseThumborPath("/unsafe/full-adaptive-fit-in/300x200/a.jpg"), {
    adaptive: false,
    full: false,
    fitIn: false,
    width: 0,
    height: 0,
    image: "full-adaptive-fit-in/300x200/a.jpg",
  });
  t.like(parseThumborPath("/unsafe/filters:watermark(http://a.com/w.png,10,10,50)/a.jpg"), {
    filters: "watermark(http://a.com/w.png,10,10,50)",
    image: "a.jpg",
  });
  t.like(parseThumborPath("/unsafe/filters:watermark(http://a.com/x)/w.png,10,10,50)/a.jpg"), {
    filters: "watermark(http://a.com/x)",
    image: "w.png,10,10,50)/a.jpg",
  });
  t.like(parseThumborPath("/unsafe/filters:a(1)/filters:b(2)/x.jpg"), { filters: "a(1)", image: "filters:b(2)/x.jpg" });
  t.like(parseThumborPath("/unsafe/filters:/a.jpg"), { filters: null, image: "filters:/a.jpg" });
  t.like(parseThumborPath("/unsafe/filters:q(80):/a.jpg"), { filters: null, image: "filters:q(80):/a.jpg" });
  t.like(parseThumborPath("/unsafe/smart/300x200/a.jpg"), { smart: true, width: 0, image: "300x200/a.jpg" });
  t.like(parseThumborPath("/unsafe/Smart/a.jpg"), { smart: false, image: "Smart/a.jpg" });
  t.like(parseThumborPath("/unsafe/middle/center/a.jpg"), { valign: "middle", halign: null, image: "center/a.jpg" });
  t.like(parseThumborPath("/unsafe/left/top/a.jpg"), { halign: "left", valign: "top" });
});

test("dimensions: empty sides, orig, and flips", (t) => {
  t.like(parseThumborPath("/unsafe/300x/a.jpg"), { width: 300, height: 0 });
  t.like(parseThumborPath("/unsafe/x300/a.jpg"), { width: 0, height: 300 });
  t.like(parseThumborPath("/unsafe/x/a.jpg"), { width: 0, height: 0, image: "a.jpg" });
  t.like(parseThumborPath("/unsafe/-0x-0/a.jpg"), { width: 0, height: 0, flipHorizontal: true, flipVertical: true });
  t.like(parseThumborPath("/unsafe/-300x-200/a.jpg"), { width: 300, height: 200, flipHorizontal: true, flipVertical: true });
  t.like(parseThumborPath("/unsafe/-x-/a.jpg"), { width: 0, height: 0, flipHorizontal: true, flipVertical: true });
  t.like(parseThumborPath("/unsafe/origx250/a.jpg"), { width: "orig", height: 250 });
  t.like(parseThumborPath("/unsafe/010x007/a.jpg"), { width: 10, height: 7 });
});

test("trim: every spelling, including thumbor's quirks", (t) => {
  t.deepEqual(parseThumborPath("/unsafe/trim/a.jpg").trim, { corner: "top-left", tolerance: 0 });
  t.deepEqual(parseThumborPath("/unsafe/trim:top-left/a.jpg").trim, { corner: "top-left", tolerance: 0 });
  t.deepEqual(parseThumborPath("/unsafe/trim:bottom-right/a.jpg").trim, { corner: "bottom-right", tolerance: 0 });
  t.deepEqual(parseThumborPath("/unsafe/trim:top-left:10/a.jpg").trim, { corner: "top-left", tolerance: 10 });
  // Quirk: pos = "10", tolerance 0, and any position but top-left is bottom-right.
  t.deepEqual(parseThumborPath("/unsafe/trim:10/a.jpg").trim, { corner: "bottom-right", tolerance: 0 });
  // "trim::10" (libthumbor's composer output for a tolerance alone) is not trim syntax.
  t.like(parseThumborPath("/unsafe/trim::10/a.jpg"), { trim: null, image: "trim::10/a.jpg" });
});

test("security segment: unsafe, a hash, or neither", (t) => {
  rejects400(t, "/a.jpg", "URL does not have hash or unsafe");
  rejects400(t, "/unsafe/", "URL does not have hash or unsafe");
  rejects400(t, "/", "URL does not have hash or unsafe");
  const h = parseThumborPath("/300x200/a.jpg");
  t.like(h, { unsafe: false, signature: "300x200", width: 0, image: "a.jpg", signedPart: "a.jpg" });
  t.like(parseThumborPath("/unsafex/a.jpg"), { unsafe: false, signature: "unsafex" });
  t.like(parseThumborPath("/unsafe/a.jpg"), { unsafe: true, signature: null, signedPart: "a.jpg" });
  t.like(parseThumborPath("unsafe/a.jpg"), { unsafe: true, signedPart: "a.jpg" });
});

test("signedPart strips only the leading /<hash>/ or /<quote(hash)>/", (t) => {
  t.is(parseThumborPath("/abc=/smart/abc=/x.jpg").signedPart, "smart/abc=/x.jpg");
  const q = parseThumborPath("/abc%3D/smart/x.jpg");
  t.is(q.signature, "abc=");
  t.is(q.signedPart, "smart/x.jpg");
  // Lower-case %3d is neither the hash nor quote(hash): the whole path is the signed string (as upstream).
  t.is(parseThumborPath("/abc%3d/smart/x.jpg").signedPart, "/abc%3d/smart/x.jpg");
  // The signed string is the raw, still-encoded path.
  t.is(parseThumborPath("/sig/smart/caf%C3%A9%20x.jpg").signedPart, "smart/caf%C3%A9%20x.jpg");
});

// ---------------------------------------------------------------------------------------------
// Decoding: Python's unquote_to_bytes + strict UTF-8, and quote(safe='/').
// ---------------------------------------------------------------------------------------------

test("decoding: '+' is not a space, malformed % stays literal", (t) => {
  t.is(parseThumborPath("/unsafe/a+b.jpg").image, "a+b.jpg");
  t.is(parseThumborPath("/unsafe/a%2Bb.jpg").image, "a+b.jpg");
  t.is(parseThumborPath("/unsafe/100%.jpg").image, "100%.jpg");
  t.is(parseThumborPath("/unsafe/a%zz%4.jpg").image, "a%zz%4.jpg");
  t.is(parseThumborPath("/unsafe/a%4").image, "a%4");
  t.is(parseThumborPath("/unsafe/a%2fb%2Fc.jpg").image, "a/b/c.jpg");
  t.is(parseThumborPath("/unsafe/my%2520pic.jpg").image, "my%20pic.jpg", "decoded exactly once");
  t.is(parseThumborPath("/unsafe/filters:fill(%27a%2Cb%27)/x.jpg").filters, "fill('a,b')");
  t.is(parseThumborPath("/unsafe/caf\u00e9.jpg").image, "caf\u00e9.jpg", "a raw non-ASCII path is taken as is");
});

test("decoding: invalid UTF-8 in any decoded group answers 400", (t) => {
  rejects400(t, "/unsafe/a%C3.jpg", /image path is not valid UTF-8/);
  rejects400(t, "/unsafe/%FF.jpg", /image path is not valid UTF-8/);
  rejects400(t, "/unsafe/%ED%A0%80.jpg", /image path is not valid UTF-8/); // an encoded surrogate
  rejects400(t, "/unsafe/%C0%AF.jpg", /image path is not valid UTF-8/); // overlong "/"
  rejects400(t, "/%FF%FE/a.jpg", /signature is not valid UTF-8/);
  rejects400(t, "/unsafe/filters:fill(%FF)/a.jpg", /filter list is not valid UTF-8/);
  rejects400(t, "/unsafe/a\uD800.jpg", /not valid Unicode/);
});

test("decoding: a line break is not part of the grammar", (t) => {
  rejects400(t, "/unsafe/a.jpg\n", /not a thumbor URL/);
  t.is(parseThumborPath("/unsafe/a%0A.jpg").image, "a\n.jpg", "an encoded one is just a decoded character");
  t.is(parseThumborPath("/unsafe/a\r.jpg").image, "a\r.jpg", "Python's '.' matches \\r (JS's would not)");
});

test("unquoteToBytes and quoteLikePython match Python", (t) => {
  t.deepEqual([...unquoteToBytes("a%41%4a%4A%%2")], [0x61, 0x41, 0x4a, 0x4a, 0x25, 0x25, 0x32]);
  t.deepEqual([...unquoteToBytes("é")], [0xc3, 0xa9]);
  t.is(unquoteLikePython("%FF%41"), "\uFFFDA");
  t.is(quoteLikePython("http://a.com/b c.jpg?x=1#y"), "http%3A//a.com/b%20c.jpg%3Fx%3D1%23y");
  t.is(quoteLikePython("A-Z_a.z~0/9"), "A-Z_a.z~0/9");
  t.is(quoteLikePython("maracujá%+'()!*"), "maracuj%C3%A1%25%2B%27%28%29%21%2A");
  t.is(quoteLikePython("😀"), "%F0%9F%98%80");
});

test("property: parse never throws anything but a 400 RequestError", (t) => {
  const segment = fc.constantFrom(
    "unsafe",
    "debug",
    "meta",
    "trim",
    "trim:10",
    "trim:top-left:3",
    "10x20:30x40",
    "fit-in",
    "adaptive-full-fit-in",
    "-300x-200",
    "origx",
    "left",
    "middle",
    "smart",
    "filters:a(1):b('x,y')",
    "%",
    "%C3",
    "%C3%A9",
    "%FF",
    "+",
    "a.jpg",
    "",
    "http:",
    "%2F",
    "=",
    "\n",
    "\uD800",
    "é",
  );
  const path = fc.oneof(
    fc.string({ unit: "grapheme-ascii" }),
    fc.string({ unit: "binary" }),
    fc.array(segment, { maxLength: 8 }).map((parts) => "/" + parts.join("/")),
  );
  fc.assert(
    fc.property(path, (p) => {
      try {
        const u = parseThumborPath(p);
        // What the parser returns is self-consistent: imageUrl decodes back to image.
        return unquoteLikePython(u.imageUrl) === u.image && (u.unsafe ? u.signature === null : u.signature !== null);
      } catch (err) {
        return err instanceof RequestError && err.status === 400;
      }
    }),
    { numRuns: 3000 },
  );
  t.pass();
});

test("property: decoding and quoting equal the byte-by-byte definitions of Python's functions", (t) => {
  const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
  const pythonQuote = (s: string): string =>
    [...Buffer.from(s, "utf8")]
      .map((b) =>
        /[A-Za-z0-9_.\-~/]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, "0")}`,
      )
      .join("");
  const percentish = fc.string({
    unit: fc.constantFrom(
      "%",
      "C3",
      "A9",
      "e2",
      "82",
      "AC",
      "ED",
      "A0",
      "80",
      "FF",
      "2F",
      "zz",
      "4",
      "a",
      "/",
      "é",
      "😀",
      "+",
      " ",
      "!",
      "'",
      "(",
      ")",
      "*",
      "~",
    ),
    maxLength: 16,
  });
  fc.assert(
    fc.property(percentish, fc.string({ unit: "grapheme", maxLength: 12 }), (s, text) => {
      let expected: string | undefined;
      try {
        expected = strictUtf8.decode(unquoteToBytes(s));
      } catch {
        expected = undefined;
      }
      let got: string | undefined;
      try {
        got = parseThumborPath(`/unsafe/i${s}`).image.slice(1); // "i" starts no option segment
      } catch (err) {
        if (!(err instanceof RequestError)) throw err;
        got = undefined;
      }
      return (
        got === expected &&
        quoteLikePython(text) === pythonQuote(text) &&
        (expected === undefined || quoteLikePython(expected) === pythonQuote(expected))
      );
    }),
    { numRuns: 5000 },
  );
  t.pass();
});

// ---------------------------------------------------------------------------------------------
// Differential check against Python itself: the upstream pattern run by Python's `re` (as
// tornado does: pattern + "$", re.match on the raw path), groups decoded like tornado
// (unquote_to_bytes, strict UTF-8), image re-quoted like thumbor (quote(image, safe='/')).
// Only Python's standard library is used (/usr/bin/python3, also needed by libthumbor.test.ts).
// ---------------------------------------------------------------------------------------------

const PYTHON_ROUTE = String.raw`
import json, re, sys
from urllib.parse import quote, unquote_to_bytes
req = json.load(sys.stdin)
rx = re.compile(req["pattern"] + "$")
out = []
for path in req["paths"]:
    m = rx.match(path)
    if m is None:
        out.append(None)
        continue
    g = {}
    bad = False
    for k, v in m.groupdict().items():
        if v is None:
            g[k] = None
            continue
        try:
            g[k] = unquote_to_bytes(v).decode("utf-8")
        except UnicodeDecodeError:
            bad = True
    if bad:
        out.append("invalid-utf8")
        continue
    g["image_url"] = quote(g["image"].encode("utf-8"))
    out.append(g)
print(json.dumps(out))
`;

test("differential: Python's re and urllib agree with parseThumborPath on random paths", (t) => {
  const segment = fc.oneof(
    fc.constantFrom(
      "unsafe",
      "debug",
      "meta",
      "trim",
      "trim:10",
      "trim:bottom-right",
      "trim:top-left:7",
      "trim::3",
      "1x2:3x4",
      "fit-in",
      "full-fit-in",
      "adaptive-fit-in",
      "adaptive-full-fit-in",
      "full-adaptive-fit-in",
      "300x200",
      "-0x-0",
      "origx",
      "x",
      "-x-",
      "left",
      "right",
      "center",
      "top",
      "bottom",
      "middle",
      "smart",
      "filters:a(1)",
      "filters:a(1):b(x,y)",
      "filters:q(80):",
      "filters:",
      "abc%3D",
      "%D1%80=",
      "http:",
      "",
      "a.jpg",
      "caf%C3%A9",
      "%C3",
      "%zz",
      "a+b",
      "é",
    ),
    fc.string({ unit: fc.constantFrom("a", "x", "1", "-", ":", "(", ")", "%", "3", "D", "/", "=", ".", "\r"), maxLength: 6 }),
  );
  const paths = fc.sample(
    fc.tuple(fc.boolean(), fc.array(segment, { minLength: 1, maxLength: 9 })).map(([slash, s]) => (slash ? "/" : "") + s.join("/")),
    { numRuns: 3000, seed: 20261125 },
  );
  let python: (null | "invalid-utf8" | Record<string, string | null>)[];
  try {
    python = JSON.parse(
      execFileSync("/usr/bin/python3", ["-c", PYTHON_ROUTE], {
        input: JSON.stringify({ pattern: THUMBOR_URL_PATTERN, paths }),
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
      }),
    );
  } catch (err) {
    return t.fail(`/usr/bin/python3 could not run the reference (${(err as Error).message}); install python3`);
  }
  let matched = 0;
  paths.forEach((path, i) => {
    const py = python[i]!;
    let ours: ThumborUrl | RequestError;
    try {
      ours = parseThumborPath(path);
    } catch (err) {
      if (!(err instanceof RequestError)) throw err;
      ours = err;
    }
    if (py === null) {
      t.true(ours instanceof RequestError && /not a thumbor URL/.test(ours.reason), path);
    } else if (py === "invalid-utf8") {
      t.true(ours instanceof RequestError && /not valid UTF-8/.test(ours.reason), path);
    } else if (!py.unsafe && !py.hash) {
      t.true(ours instanceof RequestError && ours.reason === "URL does not have hash or unsafe", path);
    } else {
      matched++;
      if (ours instanceof RequestError) return t.fail(`${path}: ${ours.reason}`);
      const crop =
        py.crop_left === null
          ? null
          : { left: Number(py.crop_left), top: Number(py.crop_top), right: Number(py.crop_right), bottom: Number(py.crop_bottom) };
      const dim = (v: string | null) => (v === null || v === "" ? 0 : v === "orig" ? "orig" : Number(v));
      t.deepEqual(
        {
          unsafe: ours.unsafe,
          signature: ours.signature,
          debug: ours.debug,
          meta: ours.meta,
          crop: ours.crop,
          fitIn: ours.fitIn,
          full: ours.full,
          adaptive: ours.adaptive,
          width: ours.width,
          height: ours.height,
          flipHorizontal: ours.flipHorizontal,
          flipVertical: ours.flipVertical,
          halign: ours.halign,
          valign: ours.valign,
          smart: ours.smart,
          filters: ours.filters,
          image: ours.image,
          imageUrl: ours.imageUrl,
          trimmed: ours.trim !== null,
        },
        {
          unsafe: py.unsafe !== null,
          signature: py.hash,
          debug: py.debug !== null,
          meta: py.meta !== null,
          crop,
          fitIn: py.fit_in !== null,
          full: py.full !== null,
          adaptive: py.adaptive !== null,
          width: dim(py.width),
          height: dim(py.height),
          flipHorizontal: py.horizontal_flip !== null,
          flipVertical: py.vertical_flip !== null,
          halign: py.halign,
          valign: py.valign,
          smart: py.smart !== null,
          filters: py.filters,
          image: py.image,
          imageUrl: py.image_url,
          trimmed: py.trim !== null,
        },
        path,
      );
    }
  });
  t.true(matched > 1000, `enough paths exercise the full grammar (${matched})`);
});
