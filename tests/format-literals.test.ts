/**
 * Every format's names, spellings and content types live in handlers/core/formats.ts (its rows,
 * their capabilities, NEGOTIATED_FORMATS...): code elsewhere asks the table, it does not spell a
 * format. This scan fails on a quoted format name ("png", as the table spells it: display names
 * such as "WebP" in messages are prose) or content type ("image/png") in the
 * code of handlers/, components/, cli/ and local/ (comments are prose and may name formats).
 */
import test from "ava";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { IMAGE_FORMATS } from "../handlers/core/formats.js";

const ROOT = join(__dirname, "..");
const SCANNED = ["handlers", "components", "cli", "local"];
const EXCLUDED = ["handlers/core/formats.ts"];

/** Every name and extension of the table, and the content types. */
const NAMES = [...new Set(Object.entries(IMAGE_FORMATS).flatMap(([name, f]) => [name, ...f.extensions, ...f.thumborNames]))];
const CONTENT_TYPES = Object.values(IMAGE_FORMATS).map((f) => f.contentType);
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
const LITERAL = new RegExp(`(["'\`])(?:${[...NAMES, ...CONTENT_TYPES].map(escape).join("|")})\\1`);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === "node_modules") return [];
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|js|mjs|cjs)$/.test(name) ? [path] : [];
  });
}

/** The code of a line: none for comment lines, the part before a trailing `//` comment otherwise. */
function codeOf(line: string): string {
  const trimmed = line.trim();
  if (trimmed.startsWith("//") || trimmed.startsWith("*") || trimmed.startsWith("/*")) return "";
  return line.replace(/\s\/\/\s.*$/, "");
}

/** `file:line: text` of every format literal in the code of these files. */
export function formatLiterals(files: readonly string[]): string[] {
  return files.flatMap((path) =>
    readFileSync(path, "utf8")
      .split("\n")
      .flatMap((line, i) => (LITERAL.test(codeOf(line)) ? [`${relative(ROOT, path)}:${i + 1}: ${line.trim()}`] : [])),
  );
}

test("no format is spelled outside handlers/core/formats.ts", (t) => {
  const files = SCANNED.flatMap((dir) => sourceFiles(join(ROOT, dir))).filter(
    (path) => !EXCLUDED.some((excluded) => relative(ROOT, path).startsWith(excluded)),
  );
  t.true(files.length > 50, `${files.length} files scanned`);
  t.deepEqual(formatLiterals(files), []);
});

test("the scan finds a quoted format name or content type, and not one in a comment", (t) => {
  const probe = join(ROOT, "handlers", "core", "formats.ts");
  t.true(formatLiterals([probe]).length > 0, "formats.ts itself spells every format");
  t.true(LITERAL.test(codeOf(`  if (format === "webp") x();`)));
  t.true(LITERAL.test(codeOf(`  accepts(accept, 'image/avif')`)));
  t.true(LITERAL.test(codeOf("  const f = `jpg`;")));
  t.false(LITERAL.test(codeOf(`  perFormatQuality("WebP")`)), "a display name in a message is prose");
  t.false(LITERAL.test(codeOf(`   * returns "png" when the original is`)));
  t.false(LITERAL.test(codeOf(`  const a = "image/avif,image/webp,*/*";`)), "a whole Accept header is data, not a format");
});
