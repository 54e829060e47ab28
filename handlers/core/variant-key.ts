/**
 * The variant key layout: the one place that writes and reads the S3 keys of variants.
 *
 *   <variantPrefix>/<original key>/<options>.<ext>
 *   variants/images/cat.jpg/300x200,q80.webp
 *   variants/images/cat.jpg/-300x0,fit-in,smart,grayscale(),fill('ff0000,true),q75.jpg
 *
 * - canonical: a plan is canonicalised first and every option has exactly one spelling, always
 *   in the same order, defaults omitted (quality always spelled, so a new default makes new keys);
 * - injective: every plan field is written, filter arguments are typed and escaped, and
 *   `parseVariantKey` re-encodes what it read and refuses any key that is not the canonical one;
 * - decodable: `parseVariantKey` rebuilds the whole plan from the key alone;
 * - purgeable: every variant of one original sits under `<variantPrefix>/<original key>/`;
 * - apart: nothing is ever written outside `<variantPrefix>/`, where originals do not live.
 *
 * Options are joined by ",". The first is always the size `[-]WxH[-]` as thumbor spells it
 * (`orig` allowed, `-` = flip). Then, in this order, each only when not default: `trim:<corner>:<tol>`,
 * `crop:<l>x<t>:<r>x<b>`, the fit mode (`fit-in`, `full-fit-in`, `adaptive-fit-in`,
 * `adaptive-full-fit-in`), `left`/`right`, `top`/`bottom`, `smart`, the filters in URL order as
 * `name(arg,arg)`, and `q<quality>`. Filter arguments are typed: numbers as JS prints them,
 * `true`/`false`, strings as `'` + escaped text. In strings every byte outside [A-Za-z0-9.-] is
 * written `~HH`, so "," "(" ")" "/" and "~" never appear raw. The extension is the output format
 * (`jpg`, `png`, `webp`, `avif`, `gif`), `orig` for "the original's own format", or `json` for
 * thumbor's `meta` document.
 *
 * Settings that change the picture of the same URL take part too, so changing one never serves
 * a variant made under the other (keys under the defaults are unchanged):
 *  - `thumbor.smartCrop: "alignment"`: `smart` changes nothing (thumbor without detectors), so it
 *    is left out of the key and the variant is the one the same URL without `smart` has;
 *  - `cmykConversion: "naive"`: the token `cmyk-naive` before the quality, on every image key
 *    (whether the original is CMYK is only known once it is read).
 *
 * Portable: `<options>.<ext>` longer than MAX_OPTION_SEGMENT_BYTES (long filter arguments) is cut
 * into several segments, each continuation starting with "~", cut after a "," when one is in reach:
 *   variants/images/cat.jpg/300x0,curve('~5B...,/~'~5B~5D),q80.webp
 * A size never starts with "~", so the last segment not starting with "~" is where the options
 * begin, whatever the original's key holds. So no segment we write is empty or longer than a
 * filesystem-backed store (s3rver, MinIO) can name; shorter option strings are never cut, so
 * their keys are what they always were. The original's own key is kept as it is (it is a key the
 * store already holds).
 */
import { RequestError } from "./errors.js";
import { outputFormatOfExtension, variantExtension } from "./formats.js";
import { checkOriginalKey } from "./image-path.js";
import {
  FIT_MODES,
  basePlan,
  canonicalPlan,
  type Dimension,
  type FilterArg,
  type FilterCall,
  type FitMode,
  type TransformPlan,
} from "./plan.js";
import type { Settings, ThumborSettings } from "./settings.js";

/** What a key depends on: the prefix, and the rendering settings (absent = their default). */
export type KeySettings = Pick<Settings, "variantPrefix"> &
  Partial<Pick<Settings, "cmykConversion">> & { thumbor?: Partial<Pick<ThumborSettings, "smartCrop">> };

const NAIVE_CMYK_TOKEN = "cmyk-naive";

/** S3 refuses keys over 1024 bytes of UTF-8. */
export const MAX_KEY_BYTES = 1024;

/** The extension of a variant in the original's own format, decided when origin-response reads it. */
const ORIGINAL_FORMAT_EXT = "orig";
/**
 * Longest segment of options written: filesystems name at most 255 bytes, and s3rver adds a
 * 22-byte suffix ("._S3rver_metadata.json") to the last segment of a key.
 */
export const MAX_OPTION_SEGMENT_BYTES = 200;
/** Starts every option segment that continues the one before it. */
const CONTINUATION = "~";

const SIZE_TOKEN = /^(-?)(0|[1-9]\d{0,4}|orig)x(-?)(0|[1-9]\d{0,4}|orig)$/;
const TRIM_TOKEN = /^trim:(top-left|bottom-right):(0|[1-9]\d{0,3})$/;
const CROP_TOKEN = /^crop:(0|[1-9]\d{0,5})x(0|[1-9]\d{0,5}):(0|[1-9]\d{0,5})x(0|[1-9]\d{0,5})$/;
const QUALITY_TOKEN = /^q([1-9]\d?|100)$/;
const FILTER_TOKEN = /^([a-z][a-z0-9_]*)\((.*)\)$/;
const NUMBER_ARG = /^-?(?:0|[1-9]\d*)(?:\.\d+)?$/;
const ESCAPE_SAFE = /[A-Za-z0-9.-]/;

/** The S3 key of a plan's variant. Throws RequestError(414) when the key would exceed S3's limit. */
export function variantKey(plan: TransformPlan, settings: KeySettings): string {
  const p = renderedPlan(canonicalPlan(plan), settings);
  const tokens = [sizeToken(p)];
  if (p.trim) tokens.push(`trim:${p.trim.corner}:${p.trim.tolerance}`);
  if (p.crop) tokens.push(`crop:${p.crop.left}x${p.crop.top}:${p.crop.right}x${p.crop.bottom}`);
  if (p.fit !== "crop") tokens.push(p.fit);
  if (p.halign !== "center") tokens.push(p.halign);
  if (p.valign !== "middle") tokens.push(p.valign);
  if (p.smart) tokens.push("smart");
  for (const f of p.filters) tokens.push(filterToken(f));
  const ext = p.meta ? "json" : p.format ? variantExtension(p.format) : ORIGINAL_FORMAT_EXT;
  if (!p.meta && settings.cmykConversion === "naive") tokens.push(NAIVE_CMYK_TOKEN);
  if (!p.meta) tokens.push(`q${p.quality}`);
  const key = `${variantPrefixOf(p.source, settings)}${optionSegments(`${tokens.join(",")}.${ext}`).join("/")}`;
  // A UTF-16 unit is at most 3 UTF-8 bytes: only long keys need counting.
  if (key.length * 3 > MAX_KEY_BYTES && Buffer.byteLength(key, "utf8") > MAX_KEY_BYTES) {
    throw new RequestError(414, `variant key would be ${Buffer.byteLength(key, "utf8")} bytes, S3 allows ${MAX_KEY_BYTES}`);
  }
  return key;
}

/** The plan as these settings render it: `smart` is dropped where it changes nothing (smartCrop "alignment"). */
export function renderedPlan(plan: TransformPlan, settings: KeySettings): TransformPlan {
  return plan.smart && settings.thumbor?.smartCrop === "alignment" ? { ...plan, smart: false } : plan;
}

/** The prefix under which every variant of one original lives: delete it to purge them all. */
export function variantPrefixOf(source: string, settings: Pick<Settings, "variantPrefix">): string {
  return `${settings.variantPrefix}/${source}/`;
}

/** True when a key lies under the variant prefix (whether or not it is a valid variant key). */
export function isUnderVariantPrefix(key: string, settings: Pick<Settings, "variantPrefix">): boolean {
  return key.startsWith(`${settings.variantPrefix}/`);
}

/**
 * Rebuilds the plan from a variant key. Refuses (RequestError 400) anything that is not
 * exactly the canonical key of the plan it decodes to, so no two keys ever mean one variant.
 */
export function parseVariantKey(key: string, settings: KeySettings): TransformPlan {
  const { source, name } = splitVariantKey(key, settings);
  const dot = name.lastIndexOf(".");
  if (dot < 0) notAVariantKey("no extension");
  const ext = name.slice(dot + 1);
  const tokens = splitTopLevel(name.slice(0, dot));
  const plan = planForExtension(source, ext);
  applySizeToken(plan, tokens[0]);
  for (const token of tokens.slice(1)) applyOptionToken(plan, token);
  if (!plan.meta && plan.quality === 0) notAVariantKey("no quality");
  checkCanonicalKey(plan, key, settings);
  return plan;
}

/**
 * The original a variant key was made from, read as `parseVariantKey` reads it (continuation
 * segments of long options skipped), without checking the options. Throws RequestError(400) for a
 * key that names no original.
 */
export function originalKeyOfVariant(key: string, settings: Pick<Settings, "variantPrefix">): string {
  return splitVariantKey(key, settings).source;
}

/** Refuses a key that is not a variant key (RequestError 400). */
function notAVariantKey(why: string): never {
  throw new RequestError(400, `not a variant key: ${why}`);
}

/** The original's key and the variant's file name (its continuation segments joined back). */
function splitVariantKey(key: string, settings: KeySettings): { source: string; name: string } {
  const head = `${settings.variantPrefix}/`;
  if (!key.startsWith(head)) notAVariantKey(`outside "${head}"`);
  const segments = key.slice(head.length).split("/");
  let first = segments.length - 1;
  while (first > 0 && segments[first]!.startsWith(CONTINUATION)) first--;
  if (first < 1) notAVariantKey("no original key");
  const source = checkOriginalKey(segments.slice(0, first).join("/"));
  const name =
    segments[first] +
    segments
      .slice(first + 1)
      .map((s) => s.slice(CONTINUATION.length))
      .join("");
  return { source, name };
}

/** A plan with every option at its default, its meta flag and output format taken from the extension. */
function planForExtension(source: string, ext: string): TransformPlan {
  // Quality 0 until the key's own q<quality> token is read.
  const plan: TransformPlan = { ...basePlan(source, 0), meta: ext === "json" };
  if (!plan.meta) {
    const format = ext === ORIGINAL_FORMAT_EXT ? null : outputFormatOfExtension(ext);
    if (format === undefined) notAVariantKey(`unknown extension ".${ext}"`);
    plan.format = format ?? null;
  }
  return plan;
}

/** The first token: the size, with a "-" before a side meaning a flip on that axis. */
function applySizeToken(plan: TransformPlan, token: string | undefined): void {
  const size = SIZE_TOKEN.exec(token ?? "") ?? notAVariantKey(`"${token}" is not a size`);
  plan.flipHorizontal = size[1] === "-";
  plan.width = dimension(size[2]);
  plan.flipVertical = size[3] === "-";
  plan.height = dimension(size[4]);
}

/** One option token after the size. */
function applyOptionToken(plan: TransformPlan, token: string): void {
  let m: RegExpExecArray | null;
  if ((m = TRIM_TOKEN.exec(token))) plan.trim = { corner: m[1] as "top-left" | "bottom-right", tolerance: Number(m[2]) };
  else if ((m = CROP_TOKEN.exec(token))) plan.crop = { left: +m[1], top: +m[2], right: +m[3], bottom: +m[4] };
  else if ((FIT_MODES as readonly string[]).includes(token)) plan.fit = token as FitMode;
  else if (token === "left" || token === "right") plan.halign = token;
  else if (token === "top" || token === "bottom") plan.valign = token;
  else if (token === "smart") plan.smart = true;
  else if (token === NAIVE_CMYK_TOKEN)
    return; // settings-derived: the re-encoding in checkCanonicalKey checks it
  else if ((m = QUALITY_TOKEN.exec(token))) plan.quality = Number(m[1]);
  else if ((m = FILTER_TOKEN.exec(token))) plan.filters.push({ name: m[1], args: parseArgs(m[2], notAVariantKey) });
  else notAVariantKey(`unknown option "${token}"`);
}

/** Injectivity: the key must be exactly the one this plan writes. */
function checkCanonicalKey(plan: TransformPlan, key: string, settings: KeySettings): void {
  let again: string;
  try {
    again = variantKey(plan, settings);
  } catch {
    return notAVariantKey("too long");
  }
  if (again !== key) notAVariantKey("options are not in canonical form");
}

/**
 * The canonical URI of a variant key, and the key a URI names: the one rule every key follows,
 * written once in canonical-uri.ts (the names here are the ones the handlers grew up with).
 */
export { keyToUri as variantKeyToUri, uriToKey } from "./canonical-uri.js";

/**
 * `<options>.<ext>` as key segments: itself when short enough, else cut into segments of at most
 * MAX_OPTION_SEGMENT_BYTES (after the last "," in reach, or at the limit), continuations marked.
 * The text is ASCII (string arguments are escaped), so characters are bytes.
 */
function optionSegments(name: string): string[] {
  if (name.length <= MAX_OPTION_SEGMENT_BYTES) return [name];
  const out: string[] = [];
  let rest = name;
  while (rest.length > 0) {
    const marker = out.length === 0 ? "" : CONTINUATION;
    const room = MAX_OPTION_SEGMENT_BYTES - marker.length;
    let cut = rest.length;
    if (rest.length > room) {
      const comma = rest.lastIndexOf(",", room - 1);
      cut = comma > 0 ? comma + 1 : room;
    }
    out.push(marker + rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  return out;
}

/** Splits options on "," outside parentheses (string arguments never hold a raw "(" or ")"). */
function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

function sizeToken(p: TransformPlan): string {
  return `${p.flipHorizontal ? "-" : ""}${p.width}x${p.flipVertical ? "-" : ""}${p.height}`;
}

function dimension(text: string): Dimension {
  return text === "orig" ? "orig" : Number(text);
}

function filterToken(f: FilterCall): string {
  return `${f.name}(${f.args.map(argToken).join(",")})`;
}

function argToken(arg: FilterArg): string {
  if (typeof arg === "boolean") return String(arg);
  if (typeof arg === "number") {
    if (!Number.isFinite(arg)) throw new RequestError(400, "filter argument is not a finite number");
    const text = String(arg);
    // Exponent spellings (1e21) would not read back as the same token; such values are nonsense here.
    if (!NUMBER_ARG.test(text)) throw new RequestError(400, `filter argument ${text} is out of range`);
    return text;
  }
  let out = "'";
  for (const byte of Buffer.from(arg, "utf8")) {
    const c = String.fromCharCode(byte);
    out += byte < 0x80 && ESCAPE_SAFE.test(c) ? c : "~" + byte.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

function parseArgs(text: string, bad: (why: string) => never): FilterArg[] {
  if (text === "") return [];
  return text.split(",").map((raw) => {
    if (raw === "true") return true;
    if (raw === "false") return false;
    if (NUMBER_ARG.test(raw)) return Number(raw);
    if (raw.startsWith("'")) {
      const body = raw.slice(1);
      if (!/^(?:[A-Za-z0-9.-]|~[0-9A-F]{2})*$/.test(body)) bad(`badly escaped argument "${raw}"`);
      const bytes = Buffer.from(
        body.replace(/~([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
        "latin1",
      );
      const value = bytes.toString("utf8");
      if (!Buffer.from(value, "utf8").equals(bytes)) bad("argument is not UTF-8");
      return value;
    }
    return bad(`unreadable argument "${raw}"`);
  });
}
