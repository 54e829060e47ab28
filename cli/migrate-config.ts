/**
 * thumbor's configuration → this stack's config: every key of a thumbor.conf (or environment
 * file) is carried over onto a stack config key, found to be our default already, or reported
 * as having no equivalent, each with what that changes for the team.
 *
 * The stack keys are the component's own (components/stack-config.ts); the result is checked
 * through that same mapping before it is printed (cli/stack-file.ts), so a key this module got
 * wrong fails here, not at `pulumi up`.
 */
import { DEFAULT_SETTINGS } from "../handlers/core/settings.js";
import { THUMBOR_FILTERS } from "../handlers/core/filter-registry.js";
import { PyExpression, type PyValue } from "./thumbor-conf.js";

export type Verdict = "carried" | "default" | "none";

export interface KeyReport {
  key: string;
  verdict: Verdict;
  /** The stack config keys it set (none for "default" and "none"). */
  stackKeys: string[];
  /** What it means for the team. */
  note: string;
}

export interface Migration {
  /** Stack config key (without the project's namespace) → value. */
  config: Record<string, string | number | boolean | string[]>;
  /** Keys of `config` to set with `--secret`. */
  secrets: Set<string>;
  report: KeyReport[];
}

/** thumbor's own defaults where they differ from ours and the team's behaviour depends on them. */
const THUMBOR_DEFAULTS: Record<string, PyValue> = { AUTO_WEBP: false };

/** thumbor's default security key: a conf that keeps it signs with a key everyone knows. */
const THUMBOR_DEFAULT_KEY = "MY_SECURE_KEY";

type Rule = (value: PyValue, all: ReadonlyMap<string, PyValue>) => Omit<KeyReport, "key">;

const carried = (stackKeys: string[], note: string): Omit<KeyReport, "key"> => ({ verdict: "carried", stackKeys, note });
const ourDefault = (note: string): Omit<KeyReport, "key"> => ({ verdict: "default", stackKeys: [], note });
const none = (note: string): Omit<KeyReport, "key"> => ({ verdict: "none", stackKeys: [], note });

/** Builds the migration; `set` records a stack value that `rules` below refer to. */
export function migrateThumborConf(values: ReadonlyMap<string, PyValue>): Migration {
  const config: Migration["config"] = {};
  const secrets = new Set<string>();
  const set = (key: string, value: string | number | boolean | string[], secret = false) => {
    config[key] = value;
    if (secret) secrets.add(key);
    return key;
  };
  const rules = buildRules(set);
  const report: KeyReport[] = [];
  const seen = new Map(values);
  for (const [key, value] of Object.entries(THUMBOR_DEFAULTS)) if (!seen.has(key)) seen.set(key, value);
  for (const [key, value] of seen) {
    const rule = rules[key] ?? (LOADER_KEYS.includes(key) ? loaderKeyRule : ruleForUnknown(key));
    const r = rule(value, seen);
    const fromDefault = !values.has(key) ? " (not in the file: thumbor's default)" : "";
    report.push({ key, ...r, note: r.note + fromDefault });
  }
  return { config, secrets, report };
}

const LOADER_KEYS = ["AWS_LOADER_BUCKET_NAME", "AWS_LOADER_ROOT_PATH", "TC_AWS_LOADER_BUCKET", "TC_AWS_LOADER_ROOT_PATH"];

function buildRules(set: (key: string, value: string | number | boolean | string[], secret?: boolean) => string): Record<string, Rule> {
  const flag =
    (stackKey: keyof typeof DEFAULT_SETTINGS, what: string): Rule =>
    (v) => {
      if (typeof v !== "boolean") return none(`not True or False (${shown(v)}): set edge-resizer:${stackKey} by hand`);
      if (v === DEFAULT_SETTINGS[stackKey]) return ourDefault(`${what}: ${v ? "on" : "off"}, as here`);
      return carried([set(stackKey, v)], `${what}: ${v ? "on" : "off"}`);
    };
  const thumborFlag =
    (stackKey: "allowUnsafe" | "progressiveJpeg", what: string): Rule =>
    (v) => {
      if (typeof v !== "boolean") return none(`not True or False (${shown(v)}): set edge-resizer:${stackKey} by hand`);
      if (v === DEFAULT_SETTINGS.thumbor[stackKey]) return ourDefault(`${what}: ${v ? "on" : "off"}, as here`);
      return carried([set(stackKey, v)], `${what}: ${v ? "on" : "off"}`);
    };
  const side =
    (stackKey: "maxWidth" | "maxHeight"): Rule =>
    (v) => {
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0) return none(`not a whole number (${shown(v)})`);
      const cap = DEFAULT_SETTINGS[stackKey];
      if (v === 0) return ourDefault(`thumbor had no limit; ours refuses more than ${cap} px with a 400 (raise ${stackKey} up to 16383)`);
      const n = Math.min(v, 16383);
      const clamp = "thumbor shrank larger requests to this size; the edge answers them 400";
      return carried([set(stackKey, n)], v > 16383 ? `${clamp}; capped at 16383, the largest side the settings accept` : clamp);
    };
  return {
    SECURITY_KEY: (v) => {
      if (typeof v !== "string" || v === "") return none(`not a string (${shown(v)}): set edge-resizer:securityKey by hand`);
      const note =
        v === THUMBOR_DEFAULT_KEY ? "WARNING: thumbor's default key, which anyone can sign with; rotate it" : "signed URLs keep working";
      return carried([set("securityKey", v, true)], `${note} (a secret)`);
    },
    ALLOW_UNSAFE_URL: thumborFlag("allowUnsafe", "unsafe URLs"),
    QUALITY: (v) => {
      if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > 100) return none(`not a quality from 1 to 100 (${shown(v)})`);
      if (v === DEFAULT_SETTINGS.defaultQuality) return ourDefault(`quality ${v} for every format`);
      return carried([set("defaultQuality", v)], `quality ${v} for every format`);
    },
    WEBP_QUALITY: perFormatQuality("WebP"),
    AVIF_QUALITY: perFormatQuality("AVIF"),
    HEIF_QUALITY: perFormatQuality("HEIF"),
    AUTO_WEBP: flag("autoWebp", "WebP for browsers that accept it"),
    AUTO_AVIF: flag("autoAvif", "AVIF for browsers that accept it"),
    AUTO_JPG: () => none("not negotiated: JPEG is what a JPEG original gives without WebP/AVIF"),
    AUTO_PNG: () => none("not negotiated: PNG originals stay PNG unless WebP/AVIF is negotiated"),
    AUTO_HEIF: () => none("HEIF output is not made"),
    AUTO_PNG_TO_JPG: () => none("opaque PNGs stay PNG (format(jpeg) in the URL still converts)"),
    AUTO_IMAGE_FORMAT_PREFERENCE: () => none("the order is fixed: AVIF (if autoAvif), then WebP (if autoWebp)"),
    MAX_WIDTH: side("maxWidth"),
    MAX_HEIGHT: side("maxHeight"),
    MAX_PIXELS: (v) => {
      if (typeof v !== "number" || v < 1) return none(`not a number (${shown(v)})`);
      const n = Math.min(Math.floor(v), 1_000_000_000);
      if (n === DEFAULT_SETTINGS.maxInputPixels) return ourDefault(`originals above ${n} pixels answer 400, as in thumbor`);
      return carried([set("maxInputPixels", n)], `originals above ${n} pixels answer 400, as in thumbor`);
    },
    PROGRESSIVE_JPEG: thumborFlag("progressiveJpeg", "progressive JPEG"),
    PRESERVE_EXIF_INFO: (v) =>
      v === true ? none("variants never carry the original's EXIF (orientation is applied instead)") : ourDefault("EXIF is not kept"),
    RESPECT_ORIENTATION: (v) =>
      v === true
        ? ourDefault("EXIF orientation is applied before the transform")
        : none("the edge always applies EXIF orientation: a rotated-by-EXIF original comes out upright, not as thumbor stored it"),
    MAX_AGE: (v) => {
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0) return none(`not a whole number of seconds (${shown(v)})`);
      const current = DEFAULT_SETTINGS.cacheControl;
      const cacheControl = current.replace(/max-age=\d+/, `max-age=${v}`);
      if (cacheControl === current) return ourDefault(`browsers keep variants ${v} s; CloudFront keeps them a year (purged on change)`);
      return carried([set("cacheControl", cacheControl)], `browsers keep variants ${v} s; CloudFront a year (purged on change)`);
    },
    MAX_AGE_TEMP_IMAGE: () => none("errors are cached for errorCacheControl (10 s by default); there is no temporary image"),
    ALLOWED_SOURCES: (v) => {
      const list = Array.isArray(v) ? v : [];
      const hosts = list.filter((h): h is string => typeof h === "string" && /^[A-Za-z0-9.-]+$/.test(h));
      const others = list.length - hosts.length;
      if (!Array.isArray(v) || (hosts.length === 0 && others === 0)) {
        return Array.isArray(v) ? ourDefault("no absolute image URLs are fetched") : none(`not a list (${shown(v)})`);
      }
      const dropped = others > 0 ? `; ${others} pattern(s) (regular expressions) have no equivalent` : "";
      if (hosts.length === 0) return none(`patterns have no equivalent${dropped}`);
      return carried(
        [set("stripHosts", hosts)],
        `absolute URLs of these hosts are read from the bucket by their path, never fetched: copy those originals into the bucket${dropped}`,
      );
    },
    FILTERS: (v) => {
      if (!Array.isArray(v)) return none(`not a list (${shown(v)})`);
      const known = new Set(Object.entries(THUMBOR_FILTERS).flatMap(([n, d]) => (d.handledBy === "unsupported" ? [] : [n])));
      const names = v.filter((m): m is string => typeof m === "string").map((m) => m.replace(/^thumbor\.filters\./, ""));
      const unknown = names.filter((n) => !known.has(n));
      const missing = [...known].filter((n) => !names.includes(n));
      const parts = [];
      if (missing.length > 0) parts.push(`the edge also serves filters this conf had switched off: ${missing.join(", ")}`);
      if (unknown.length > 0) parts.push(`not available here (ignored, or 400 with strictFilters): ${unknown.join(", ")}`);
      return parts.length === 0 ? ourDefault("the same filters") : none(parts.join("; "));
    },
    DETECTORS: (v) => {
      if (!Array.isArray(v)) return none(`not a list (${shown(v)})`);
      if (v.length === 0) return carried([set("smartCrop", "alignment")], "no detectors: smart crops keep the alignment, as in thumbor");
      return ourDefault("detectors: smart crops use sharp's attention strategy, close to feature detection but not the same crops");
    },
    LOADER: loaderRule(set),
    STORAGE: () => none("no originals cache is needed: the functions read the bucket directly"),
    RESULT_STORAGE: () =>
      none(
        "variants are stored under variantPrefix in the bucket; the old result storage is not read (warm the new one with `edge-resizer warm`)",
      ),
    HEALTHCHECK_ROUTE: (v) => {
      if (typeof v !== "string") return none(`not a string (${shown(v)})`);
      const path = v.replace(/\/\?$/, "").replace(/\/$/, "");
      if (path === DEFAULT_SETTINGS.healthcheckPath) return ourDefault(`${path} answers 200 WORKING`);
      return carried([set("healthcheckPath", path)], `${path} answers 200 WORKING`);
    },
  };
}

function perFormatQuality(format: string): Rule {
  return (v, all) => {
    const quality = all.get("QUALITY") ?? DEFAULT_SETTINGS.defaultQuality;
    if (v === null || v === quality) return ourDefault(`${format} uses the one quality setting`);
    return none(`${format} uses defaultQuality (${shown(quality)}), not ${shown(v)}; a URL's quality() still wins`);
  };
}

type Setter = (key: string, value: string | number | boolean | string[], secret?: boolean) => string;

/** thumbor-aws (`thumbor_aws.loader`) and the old tc_aws (`tc_aws.loaders.s3_loader`) read the bucket we serve. */
function loaderRule(set: Setter): Rule {
  return (v, all) => {
    if (typeof v !== "string") return none(`not a module name (${shown(v)})`);
    const tcAws = v.startsWith("tc_aws") || all.get("THUMBOR_AWS_RUN_IN_COMPATIBILITY_MODE") === true;
    if (v !== "thumbor_aws.loader" && !v.startsWith("tc_aws")) {
      return none(`${v} is not an S3 loader: copy the originals into a bucket (npm run upload) and name it in existingBucketName`);
    }
    const bucket = all.get(tcAws ? "TC_AWS_LOADER_BUCKET" : "AWS_LOADER_BUCKET_NAME") ?? (tcAws ? "" : "thumbor");
    const root = all.get(tcAws ? "TC_AWS_LOADER_ROOT_PATH" : "AWS_LOADER_ROOT_PATH") ?? (tcAws ? "" : "/st");
    if (typeof bucket !== "string" || bucket === "") {
      return none("the bucket is the first path segment of every URL: the edge serves one bucket; name it in existingBucketName by hand");
    }
    if (typeof root !== "string") return none(`the root path is not a string (${shown(root)})`);
    const keys = [set("existingBucketName", bucket)];
    const prefix = root.replace(/^\/+|\/+$/g, "");
    if (prefix !== "") keys.push(set("pathPrefix", prefix));
    const slash = root.startsWith("/") ? `; keys are read as "${prefix}/...", without thumbor-aws's leading "/"` : "";
    return carried(
      keys,
      `serve the same bucket${prefix ? ` under "${prefix}/"` : ""} (its bucket policy is replaced: docs/deploy.md)${slash}`,
    );
  };
}

/** The loader's bucket and root path are read by the LOADER rule. */
const loaderKeyRule: Rule = (_v, all) =>
  all.has("LOADER")
    ? carried([], "read with LOADER (see its row)")
    : none("read only with LOADER = 'thumbor_aws.loader' (or tc_aws): set LOADER too");

function ruleForUnknown(key: string): Rule {
  if (/ACCESS_KEY|SECRET|PASSWORD|TOKEN/i.test(key))
    return () => none("not needed: the functions read the bucket with their own role (value not shown)");
  if (/REGION/.test(key)) return () => none("the bucket's region is the bucket's own; nothing to set");
  return () => none("not read by edge-resizer");
}

function shown(v: PyValue): string {
  if (v instanceof PyExpression) return v.text.length > 40 ? `${v.text.slice(0, 40)}…` : v.text;
  const text = JSON.stringify(v);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
