/**
 * Loads thumbor's own test vectors (copied into tests/fixtures/thumbor-vectors/, see its README).
 * Only the fields the tests read are typed.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

const DIR = join(__dirname, "..", "fixtures", "thumbor-vectors");

function load<T>(name: string): T {
  return JSON.parse(readFileSync(join(DIR, name), "utf8")) as T;
}

export interface ParsedByUpstream {
  route_matched: boolean;
  unsafe: boolean;
  hash: string | null;
  debug: boolean;
  meta: boolean;
  trim: string | null;
  crop: { left: number; top: number; right: number; bottom: number };
  adaptive: boolean;
  full: boolean;
  fit_in: boolean;
  horizontal_flip: boolean;
  width: number | "orig";
  vertical_flip: boolean;
  height: number | "orig";
  halign: string;
  valign: string;
  smart: boolean;
  filters: string | null;
  image: string;
  image_url: string;
  handler_rejects_unsafe_or_hash: boolean;
  signed_string?: string;
  signature_valid_with_key?: boolean;
}

export interface UrlVector {
  kind: "request" | "parse" | "parse-segment" | "compose" | "compose+sign";
  api?: string;
  url: string | null;
  expect: Record<string, unknown> | null;
  expect_error?: string | null;
  security_key?: string;
  source: string;
  test?: string;
  notes?: string;
  config?: Record<string, unknown>;
  parsed?: ParsedByUpstream;
}

export interface SignatureVector {
  key: string;
  path: string;
  signature: string;
  source: string;
  verified_hmac_sha1_urlsafe_b64: boolean | null;
  expect_valid?: boolean;
  notes?: string;
}

export interface ParamTypeVector {
  type: string;
  regex: string;
  values: { input: string; parsed: unknown }[];
  invalid_values: string[];
  source: string;
}

export interface FilterStringVector {
  filters: string;
  signatures?: Record<string, string>;
  expect: Record<string, unknown>;
  source: string;
  notes?: string;
}

export interface FilterSemanticsVector {
  filter: string;
  input?: { pos: string; length: number };
  context?: Record<string, unknown>;
  expect: unknown;
  source: string;
  notes?: string;
}

export const urlVectors = load<UrlVector[]>("thumbor_vectors.json");
export const signatureVectors = load<SignatureVector[]>("thumbor_signatures.json");
export const signatureDocVectors = load<SignatureVector[]>("thumbor_signatures_docs.json");
export const filterVectors = load<{
  param_types: ParamTypeVector[];
  filter_strings: FilterStringVector[];
  filter_semantics: FilterSemanticsVector[];
}>("thumbor_filter_vectors.json");

/** The request vectors: a URL thumbor's handler tests send, and what the upstream regex made of it. */
export const requestVectors = urlVectors
  .map((v, index) => ({ ...v, index }))
  .filter((v): v is typeof v & { url: string; parsed: ParsedByUpstream; config: Record<string, unknown> } => v.kind === "request");
