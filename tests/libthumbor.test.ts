/**
 * URLs signed by thumbor's official Python client (Debian's python3-libthumbor, run with
 * /usr/bin/python3) must parse with the right options and verify; tampered ones must not.
 * If libthumbor is missing the test fails (it is a declared test dependency, see DEVELOPERS.md).
 */
import { execFileSync } from "node:child_process";
import test from "ava";
import { RequestError } from "../handlers/core/errors.js";
import { signThumborPath, verifyThumborSignature } from "../handlers/url/signature.js";
import { parseThumborPath, type ThumborUrl } from "../handlers/url/thumbor-url.js";

const PYTHON = "/usr/bin/python3";
const KEY = "libthumbor-test-key";
const OTHER_KEY = "another-key";

interface Case {
  title: string;
  /** Keyword arguments of libthumbor's CryptoURL.generate (image_url is sent as given: libthumbor does not encode). */
  options: Record<string, unknown>;
  expect: Partial<ThumborUrl>;
}

const CASES: Case[] = [
  { title: "width and height", options: { width: 300, height: 200, image_url: "my.server.com/some/path/to/image.jpg" }, expect: { width: 300, height: 200, image: "my.server.com/some/path/to/image.jpg" } },
  { title: "width only, smart", options: { width: 300, smart: true, image_url: "images/cat.jpg" }, expect: { width: 300, height: 0, smart: true, image: "images/cat.jpg" } },
  { title: "fit-in, height only", options: { fit_in: true, height: 120, image_url: "a/b.png" }, expect: { fitIn: true, full: false, adaptive: false, width: 0, height: 120 } },
  { title: "adaptive-full-fit-in", options: { adaptive_full_fit_in: true, width: 100, height: 400, image_url: "a.jpg" }, expect: { fitIn: true, full: true, adaptive: true, width: 100, height: 400 } },
  { title: "flip and flop without size", options: { flip: true, flop: true, image_url: "a.jpg" }, expect: { flipHorizontal: true, flipVertical: true, width: 0, height: 0 } },
  { title: "manual crop and alignment", options: { crop: [[10, 20], [30, 40]], width: 50, height: 60, halign: "left", valign: "bottom", image_url: "a.jpg" }, expect: { crop: { left: 10, top: 20, right: 30, bottom: 40 }, halign: "left", valign: "bottom", width: 50, height: 60 } },
  { title: "trim and meta", options: { meta: true, trim: ["bottom-right", 15], image_url: "a.jpg" }, expect: { meta: true, trim: { corner: "bottom-right", tolerance: 15 } } },
  { title: "orig sides", options: { width: "orig", height: 250, image_url: "a.jpg" }, expect: { width: "orig", height: 250 } },
  {
    title: "filters",
    options: { width: 300, height: 200, filters: ["fill(ff00aa,true)", "round_corner(20|10,255,255,255)", "format(webp)", "quality(85)"], image_url: "a.png" },
    expect: { filters: "fill(ff00aa,true):round_corner(20|10,255,255,255):format(webp):quality(85)" },
  },
  {
    title: "non-ASCII, space, '+', parentheses and '?' percent-encoded",
    options: { width: 64, image_url: "dossier/%C3%A9t%C3%A9%20%26%20co%2B%281%29.jpg%3Fv%3D2" },
    expect: { width: 64, image: "dossier/été & co+(1).jpg?v=2", imageUrl: "dossier/%C3%A9t%C3%A9%20%26%20co%2B%281%29.jpg%3Fv%3D2" },
  },
  {
    title: "Cyrillic path (thumbor's own vector)",
    options: { image_url: "15967251_212831_19242645_%D0%90%D0%B3%D0%B0%D1%82%D0%B0%D0%B2%D0%97%D0%BE%D0%BE%D0%BF%D0%B0%D1%80%D0%BA%D0%B5.jpg" },
    expect: { image: "15967251_212831_19242645_АгатавЗоопарке.jpg" },
  },
  {
    title: "percent-encoded absolute URL",
    options: { width: 10, height: 10, image_url: "http%3A//images.example.com/a%20b.jpg" },
    expect: { image: "http://images.example.com/a b.jpg", imageUrl: "http%3A//images.example.com/a%20b.jpg" },
  },
  { title: "smart with filters and encoded filter argument", options: { smart: true, filters: ["watermark(http%3A%2F%2Fa.com%2Fw.png,-10,center,50)"], image_url: "x.jpg" }, expect: { smart: true, filters: "watermark(http://a.com/w.png,-10,center,50)", image: "x.jpg" } },
];

const GENERATE = `
import json, sys
try:
    from libthumbor import CryptoURL
except ImportError as e:
    sys.stderr.write("IMPORT-FAILED %s" % e)
    sys.exit(3)
req = json.load(sys.stdin)
crypto = CryptoURL(key=req["key"])
out = []
for options in req["cases"]:
    for k in ("crop", "trim"):
        if k in options:
            options[k] = tuple(tuple(x) if isinstance(x, list) else x for x in options[k])
    out.append({"signed": crypto.generate(**options), "unsafe": crypto.generate(unsafe=True, **options)})
print(json.dumps(out))
`;

function generateWithLibthumbor(cases: Case[]): { signed: string; unsafe: string }[] {
  try {
    const stdout = execFileSync(PYTHON, ["-c", GENERATE], { input: JSON.stringify({ key: KEY, cases: cases.map((c) => c.options) }), encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
    return JSON.parse(stdout) as { signed: string; unsafe: string }[];
  } catch (err) {
    const e = err as { code?: string; status?: number; stderr?: string };
    if (e.code === "ENOENT" || e.status === 3) {
      throw new Error(
        `${PYTHON} cannot import libthumbor (${e.code ?? e.stderr}); install it with: apt-get install python3-libthumbor`,
      );
    }
    throw err;
  }
}

let generated: { signed: string; unsafe: string }[] | undefined;
let generationError: Error | undefined;
test.before(() => {
  try {
    generated = generateWithLibthumbor(CASES);
  } catch (err) {
    generationError = err as Error;
  }
});

function urls(t: import("ava").ExecutionContext): { signed: string; unsafe: string }[] {
  if (generationError) t.fail(generationError.message);
  return generated ?? [];
}

/** A tampered URL is refused: not valid UTF-8 any more (400), or its signature does not verify. */
function accepted(url: string): boolean {
  let u: ThumborUrl;
  try {
    u = parseThumborPath(url);
  } catch (err) {
    if (err instanceof RequestError && err.status === 400) return false;
    throw err;
  }
  return verifyThumborSignature(u.signature!, u.signedPart, [KEY]);
}

/** One character changed, and the result still a character the path can carry. */
function changeCharAt(s: string, i: number): string {
  const c = s[i]!;
  const replacement = c === "a" ? "b" : c === "A" ? "B" : c === "0" ? "1" : "a";
  return s.slice(0, i) + replacement + s.slice(i + 1);
}

test("python3-libthumbor is installed and generates URLs", (t) => {
  const all = urls(t);
  t.is(all.length, CASES.length);
  for (const u of all) t.regex(u.signed, /^\/[A-Za-z0-9_-]{27}=\//);
});

CASES.forEach((c, i) => {
  test(`libthumbor: ${c.title}`, (t) => {
    const all = urls(t);
    if (all.length === 0) return;
    const { signed, unsafe } = all[i]!;

    const u = parseThumborPath(signed);
    t.false(u.unsafe);
    t.like(u, c.expect);
    t.true(verifyThumborSignature(u.signature!, u.signedPart, [KEY]), signed);
    t.true(verifyThumborSignature(u.signature!, u.signedPart, [OTHER_KEY, KEY]), "rotation: a retired key still verifies");
    t.is(`/${signThumborPath(KEY, u.signedPart)}/${u.signedPart}`, signed, "we sign exactly what libthumbor signs");
    t.false(verifyThumborSignature(u.signature!, u.signedPart, [OTHER_KEY]), "wrong key");

    // libthumbor's unsafe form has no leading slash; the options are the same.
    t.true(unsafe.startsWith("unsafe/"));
    const plain = parseThumborPath(`/${unsafe}`);
    t.true(plain.unsafe);
    t.like(plain, c.expect);
    t.is(plain.signedPart, u.signedPart);

    // One character of the path changed: the signature no longer verifies (wherever the change is).
    const sigEnd = signed.indexOf("/", 1) + 1;
    for (const at of [sigEnd, Math.floor((sigEnd + signed.length) / 2), signed.length - 1]) {
      const tampered = changeCharAt(signed, at);
      t.false(accepted(tampered), tampered);
    }
    // One character of the signature changed.
    for (const at of [1, 14, 27]) {
      const tampered = changeCharAt(signed, at);
      t.not(tampered, signed);
      t.false(accepted(tampered), tampered);
    }
    // The signature moved onto another URL's path.
    const other = all[(i + 1) % all.length]!.signed;
    const swapped = parseThumborPath(`/${u.signature}/${parseThumborPath(other).signedPart}`);
    t.false(verifyThumborSignature(swapped.signature!, swapped.signedPart, [KEY]));
  });
});

test("libthumbor signs the percent-encoded form: the decoded form does not verify", (t) => {
  const all = urls(t);
  if (all.length === 0) return;
  const encoded = all[CASES.findIndex((c) => c.title.startsWith("non-ASCII"))]!.signed;
  const u = parseThumborPath(encoded);
  const decodedPath = u.signedPart.replace("%C3%A9t%C3%A9", "été");
  t.not(decodedPath, u.signedPart);
  const d = parseThumborPath(`/${u.signature}/${decodedPath}`);
  t.is(d.image, u.image, "same image once decoded");
  t.false(verifyThumborSignature(d.signature!, d.signedPart, [KEY]), "but a different signed string");
});
