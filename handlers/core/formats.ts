/**
 * The one table of image formats: every name, spelling, extension and content type edge-resizer
 * uses, and which formats it reads (originals) and writes (variants). Everything else derives
 * from it: the output-format type, the variant key's extensions, thumbor's format() names, the
 * decoders the pipeline accepts, the content types of answers and of uploaded originals.
 * Pure: no sharp, no AWS.
 */

export interface ImageFormat {
  readonly contentType: string;
  /** File-name extensions (lower case); the first is the variant key's extension. */
  readonly extensions: readonly string[];
  /** How thumbor's format() may name it (case-insensitive); empty: format() cannot ask for it. */
  readonly thumborNames: readonly string[];
  /** The name sharp's metadata() reports for it ("heif" covers AVIF, HEIF and HEIC). */
  readonly sharpName: string;
  /** The `compression` sharp's metadata() reports, for formats that share a sharpName (none: any other). */
  readonly compression?: string;
  /** Decoded as an original. */
  readonly readable: boolean;
  /** Why an original of this format is refused, when it is not readable for a reason of its own (else: "input is not accepted"). */
  readonly unreadableReason?: string;
  /** The setting that must be on for its originals to be decoded (a 415 otherwise). */
  readonly readSetting?: "allowSvg";
  /** The output format its originals are served in when the URL names none (thumbor keeps the source format unless it cannot write it). */
  readonly servedAs: string;
  /** What `autojpg()` turns an opaque variant of this format into (thumbor's AUTO_PNG_TO_JPG). */
  readonly autojpg?: string;
  /** Encoded as a variant: one of the OutputFormats. */
  readonly writable: boolean;
  /** What the render may do with it: keep an animation's frames, keep alpha, fit `max_bytes` by quality, decode at a fraction of its size. */
  readonly can: readonly Capability[];
  /** Chosen from `Accept` when its setting is on (lower preference number first). */
  readonly negotiated?: { readonly setting: "autoAvif" | "autoWebp"; readonly preference: number };
}

/**
 * - `animation`: frames kept when read and written (GIF, WebP);
 * - `alpha`: an alpha channel survives encoding (JPEG's does not: it is flattened);
 * - `max-bytes`: thumbor's quality search for `max_bytes` applies (JPEG and WebP, as in thumbor);
 * - `shrink-on-load`: libvips decodes it at a fraction of its size (JPEG scales, WebP's decoder);
 * - `dct-scaling`: the decoder itself scales by 1/2, 1/4 or 1/8 (libjpeg's DCT scaling): the render
 *   may ask for it (render/draft.ts) and reduce a progressive file to its DC scans (render/jpeg/),
 *   as Pillow's `draft` does, and the render budget counts the smaller decode;
 * - `lossless-at-100`: quality 100 encodes losslessly (thumbor's WebP), at a far higher cost.
 */
export type Capability = "animation" | "alpha" | "max-bytes" | "shrink-on-load" | "dct-scaling" | "lossless-at-100";

export const IMAGE_FORMATS = {
  jpeg: {
    contentType: "image/jpeg",
    extensions: ["jpg", "jpeg"],
    thumborNames: ["jpeg", "jpg"],
    sharpName: "jpeg",
    readable: true,
    servedAs: "jpeg",
    writable: true,
    can: ["max-bytes", "shrink-on-load", "dct-scaling"],
  },
  png: {
    contentType: "image/png",
    extensions: ["png"],
    thumborNames: ["png"],
    sharpName: "png",
    readable: true,
    servedAs: "png",
    autojpg: "jpeg",
    writable: true,
    can: ["alpha"],
  },
  webp: {
    contentType: "image/webp",
    extensions: ["webp"],
    thumborNames: ["webp"],
    sharpName: "webp",
    readable: true,
    servedAs: "webp",
    writable: true,
    can: ["animation", "alpha", "max-bytes", "shrink-on-load", "lossless-at-100"],
    negotiated: { setting: "autoWebp", preference: 2 },
  },
  avif: {
    contentType: "image/avif",
    extensions: ["avif"],
    thumborNames: ["avif"],
    sharpName: "heif",
    compression: "av1",
    readable: true,
    servedAs: "avif",
    writable: true,
    can: ["alpha"],
    negotiated: { setting: "autoAvif", preference: 1 },
  },
  gif: {
    contentType: "image/gif",
    extensions: ["gif"],
    thumborNames: ["gif"],
    sharpName: "gif",
    readable: true,
    servedAs: "gif",
    writable: true,
    can: ["animation", "alpha"],
  },
  // No HEVC encoder (nor decoder) in sharp's prebuilt libvips: format(heif) falls back to the
  // automatic choice, and a HEIF original is served as JPEG.
  heif: {
    contentType: "image/heif",
    extensions: ["heif"],
    thumborNames: ["heif"],
    sharpName: "heif",
    readable: true,
    servedAs: "jpeg",
    writable: false,
    can: ["alpha"],
  },
  heic: {
    contentType: "image/heic",
    extensions: ["heic"],
    thumborNames: ["heic"],
    sharpName: "heif",
    compression: "hevc",
    readable: false,
    unreadableReason: "HEIC (HEVC) originals cannot be decoded here",
    servedAs: "jpeg",
    writable: false,
    can: ["alpha"],
  },
  tiff: {
    contentType: "image/tiff",
    extensions: ["tif", "tiff"],
    thumborNames: [],
    sharpName: "tiff",
    readable: true,
    // thumbor's FORMATS table.
    servedAs: "png",
    writable: false,
    can: ["alpha"],
  },
  svg: {
    contentType: "image/svg+xml",
    extensions: ["svg"],
    thumborNames: [],
    sharpName: "svg",
    readable: true,
    readSetting: "allowSvg",
    // Rasterised, as cairosvg does for thumbor.
    servedAs: "png",
    writable: false,
    can: ["alpha"],
  },
} as const satisfies Record<string, ImageFormat>;

export type FormatName = keyof typeof IMAGE_FORMATS;

/** The formats a variant can be encoded in. */
export type OutputFormat = { [K in FormatName]: (typeof IMAGE_FORMATS)[K]["writable"] extends true ? K : never }[FormatName];

const ENTRIES = Object.entries(IMAGE_FORMATS) as [FormatName, ImageFormat][];

export const OUTPUT_FORMATS: readonly OutputFormat[] = ENTRIES.filter(([, f]) => f.writable).map(([name]) => name as OutputFormat);

export function isOutputFormat(name: string): name is OutputFormat {
  return (OUTPUT_FORMATS as readonly string[]).includes(name);
}

/** The variant key's extension of an output format (`jpg` for JPEG). */
export function variantExtension(format: OutputFormat): string {
  return IMAGE_FORMATS[format].extensions[0];
}

/** The output format a variant key's extension names, or undefined. */
export function outputFormatOfExtension(ext: string): OutputFormat | undefined {
  return OUTPUT_FORMATS.find((f) => variantExtension(f) === ext);
}

/** The content type of thumbor's `meta` document. */
export const META_CONTENT_TYPE = "application/json";

/** The Content-Type of every answer origin-response renders. */
export const CONTENT_TYPES: Readonly<Record<OutputFormat | "json", string>> = Object.freeze({
  ...(Object.fromEntries(OUTPUT_FORMATS.map((f) => [f, IMAGE_FORMATS[f].contentType])) as Record<OutputFormat, string>),
  json: META_CONTENT_TYPE,
});

/** thumbor's format() argument (lower-cased) → canonical format name (`jpg` → `jpeg`). */
export const THUMBOR_FORMAT_NAMES: ReadonlyMap<string, string> = new Map(
  ENTRIES.flatMap(([name, f]) => f.thumborNames.map((spelling) => [spelling, name] as const)),
);

/** The content type of an original, from its file extension (lower case, without the dot); undefined when not an image. */
export function contentTypeOfExtension(ext: string): string | undefined {
  return ENTRIES.find(([, f]) => f.extensions.includes(ext))?.[1].contentType;
}

/**
 * The content types of originals served as they are (the default of `originalContentTypes`):
 * every format we read, except SVG. An SVG is a document that can carry script; the security
 * headers' sandbox keeps it from running, but an SVG served as-is is still a page on the image
 * host, and the resizer does not even read SVGs unless `allowSvg` is on. A team that serves its
 * SVGs adds `image/svg+xml` on purpose.
 */
export const DEFAULT_ORIGINAL_CONTENT_TYPES: readonly string[] = Object.freeze(
  ENTRIES.filter(([name, f]) => f.readable && name !== "svg").map(([, f]) => f.contentType),
);

/**
 * Whether a format, by its name here or as sharp's metadata() reports it (the two agree but for
 * AVIF, which sharp calls "heif", whose capabilities are the same here), has a capability.
 */
export function formatCan(name: string, capability: Capability): boolean {
  if (!Object.hasOwn(IMAGE_FORMATS, name)) return false;
  return (IMAGE_FORMATS as Record<string, ImageFormat>)[name]!.can.includes(capability);
}

/** The formats `Accept` can choose, most preferred first, with the setting that enables each. */
export const NEGOTIATED_FORMATS: readonly { format: OutputFormat; setting: "autoAvif" | "autoWebp"; contentType: string }[] = Object.freeze(
  (ENTRIES as [OutputFormat, ImageFormat][])
    .filter(([, f]) => f.negotiated !== undefined)
    .sort(([, a], [, b]) => a.negotiated!.preference - b.negotiated!.preference)
    .map(([format, f]) => ({ format, setting: f.negotiated!.setting, contentType: f.contentType })),
);

/** A format's row of the table. */
export function formatRow(name: FormatName): ImageFormat {
  return IMAGE_FORMATS[name];
}

/**
 * The format of an original, from what sharp's metadata() reports: its name and, where several
 * formats share it ("heif": AVIF, HEIF, HEIC), its compression. Undefined: not a format here.
 */
export function formatOfOriginal(sharpName: string, compression?: string): FormatName | undefined {
  const rows = ENTRIES.filter(([, f]) => f.sharpName === sharpName);
  return (rows.find(([, f]) => f.compression === compression) ?? rows.find(([, f]) => f.compression === undefined))?.[0];
}

/** The output format an original of this format is served in when the URL names none (tsc checks each row's is writable). */
export function servedFormat(name: FormatName): OutputFormat {
  const row: { readonly servedAs: OutputFormat } = IMAGE_FORMATS[name];
  return row.servedAs;
}

/** What `autojpg()` turns an opaque variant of this format into: the row's choice, else the format itself. */
export function autojpgFormat(format: OutputFormat): OutputFormat {
  const row: { readonly writable: true; readonly autojpg?: OutputFormat } = IMAGE_FORMATS[format];
  return row.autojpg ?? format;
}
