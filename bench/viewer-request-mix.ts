/**
 * The viewer-request workload: a realistic mix of what CloudFront hands the function, as real
 * viewer-request events (local/events.ts builds them the way CloudFront does), with the kind of
 * answer each one must get so the suite can check it measures the intended path.
 */
import type { CloudFrontRequestEvent } from "aws-lambda";
import { DEFAULT_SETTINGS, type Settings } from "../handlers/core/settings.js";
import { signThumborPath } from "../handlers/url/signature.js";
import { viewerRequestEvent, type Distribution } from "../local/events.js";

export const BENCH_SECURITY_KEY = "bench-security-key-0123456789";

/** DEFAULT_SETTINGS plus a signing key (signed thumbor URLs are part of the mix). */
export const VIEWER_BENCH_SETTINGS: Settings = {
  ...DEFAULT_SETTINGS,
  thumbor: { ...DEFAULT_SETTINGS.thumbor, securityKey: BENCH_SECURITY_KEY },
};

export type Category = "?d=" | "unsafe thumbor" | "signed thumbor + filters" | "original" | "bad URL";
export type Expected = "variant" | "original" | "4xx";

export interface MixEntry {
  category: Category;
  url: string;
  accept: string;
  expected: Expected;
}

const CHROME = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";
const SAFARI =
  "image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5";
const FIREFOX = "image/avif,image/webp,*/*";
const CURL = "*/*";
const HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

function signed(path: string): string {
  return `/${signThumborPath(BENCH_SECURITY_KEY, path)}/${path}`;
}

/** 20 requests: 30 % `?d=`, 25 % unsafe thumbor, 20 % signed thumbor with filters, 15 % originals, 10 % bad. */
export const VIEWER_MIX: MixEntry[] = [
  { category: "?d=", url: "/images/cat.jpg?d=300x200", accept: CHROME, expected: "variant" },
  { category: "?d=", url: "/products/2024/shoe-123.jpg?d=640x0", accept: SAFARI, expected: "variant" },
  { category: "?d=", url: "/photos/summer%20holiday/IMG_0042.JPG?d=1200x800", accept: FIREFOX, expected: "variant" },
  { category: "?d=", url: "/images/cat.jpg?v=3&d=160x160", accept: CURL, expected: "variant" },
  { category: "?d=", url: "/blog/2023/11/hero-image.png?d=1024x0&utm_source=news", accept: CHROME, expected: "variant" },
  { category: "?d=", url: "/a/b/c/d/e/f/photo.webp?d=480x320", accept: SAFARI, expected: "variant" },
  { category: "unsafe thumbor", url: "/unsafe/300x200/smart/images/cat.jpg", accept: CHROME, expected: "variant" },
  { category: "unsafe thumbor", url: "/unsafe/fit-in/800x600/filters:quality(75)/photos/dog.png", accept: FIREFOX, expected: "variant" },
  {
    category: "unsafe thumbor",
    url: "/unsafe/-300x0/fit-in/filters:grayscale():fill(red,true):format(jpeg):quality(75)/images/cat.jpg",
    accept: CHROME,
    expected: "variant",
  },
  { category: "unsafe thumbor", url: "/unsafe/10x20:300x400/200x0/left/top/images/cat.jpg", accept: CURL, expected: "variant" },
  { category: "unsafe thumbor", url: "/unsafe/meta/10x10/images/cat.jpg", accept: CHROME, expected: "variant" },
  {
    category: "signed thumbor + filters",
    url: signed("300x200/smart/filters:brightness(10):contrast(5):quality(85)/images/cat.jpg"),
    accept: CHROME,
    expected: "variant",
  },
  {
    category: "signed thumbor + filters",
    url: signed("fit-in/640x480/filters:fill(blur):format(webp)/products/2024/shoe-123.jpg"),
    accept: SAFARI,
    expected: "variant",
  },
  {
    category: "signed thumbor + filters",
    url: signed(
      "trim/100x100/center/middle/filters:sharpen(1.5,0.5,true):round_corner(20,255,255,255)/photos/summer%20holiday/IMG_0042.JPG",
    ),
    accept: FIREFOX,
    expected: "variant",
  },
  {
    category: "signed thumbor + filters",
    url: signed("0x400/filters:watermark(logo.png,-10,-10,50):strip_exif()/images/cat.jpg"),
    accept: CURL,
    expected: "variant",
  },
  { category: "original", url: "/images/cat.jpg", accept: CHROME, expected: "original" },
  { category: "original", url: "/css/site.css?v=12", accept: "text/css,*/*;q=0.1", expected: "original" },
  { category: "original", url: "/favicon.ico", accept: HTML, expected: "original" },
  { category: "bad URL", url: "/unsafe/5000x10/a.jpg", accept: CHROME, expected: "4xx" },
  { category: "bad URL", url: "/AAAAAAAAAAAAAAAAAAAAAAAAAAA=/300x200/images/cat.jpg", accept: CHROME, expected: "4xx" },
];

const distribution: Distribution = {
  domainName: "d111111abcdef8.cloudfront.net",
  distributionId: "EDFDVBD6EXAMPLE",
  bucket: "images",
  region: "us-east-1",
};

/** The event CloudFront would send for `entry`, with a browser's usual headers. */
export function mixEvent(entry: MixEntry, requestId = "bench-request-id-0000000000000000000000000000000000"): CloudFrontRequestEvent {
  const rawHeaders = [
    "Host",
    distribution.domainName,
    "User-Agent",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Accept",
    entry.accept,
    "Accept-Encoding",
    "gzip, deflate, br, zstd",
    "Accept-Language",
    "en-GB,en;q=0.9,de;q=0.8",
    "Referer",
    "https://www.example.com/shop/category/shoes?page=2",
    "Sec-Fetch-Dest",
    "image",
    "Sec-Fetch-Mode",
    "no-cors",
    "Sec-Fetch-Site",
    "cross-site",
    "CloudFront-Viewer-Country",
    "DE",
  ];
  return viewerRequestEvent({ method: "GET", url: entry.url, rawHeaders, clientIp: "203.0.113.178" }, distribution, requestId);
}

/**
 * A fresh copy of a template event for one call: the handler assigns `uri` and `querystring`
 * and adds or deletes header entries, but never changes a header's array in place, so copying
 * the request object and the header map (not the arrays) is enough. The suite measures this
 * copy on its own and subtracts it.
 */
export function freshEvent(template: CloudFrontRequestEvent): CloudFrontRequestEvent {
  const cf = template.Records[0]!.cf;
  const r = cf.request;
  const headers: typeof r.headers = {};
  for (const name in r.headers) headers[name] = r.headers[name]!;
  return {
    Records: [
      { cf: { config: cf.config, request: { clientIp: r.clientIp, method: r.method, uri: r.uri, querystring: r.querystring, headers } } },
    ],
  };
}
