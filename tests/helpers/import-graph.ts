/**
 * The project's import graph, read from the sources with TypeScript's own pre-processor (static,
 * type-only, re-export and dynamic imports alike), and the boundaries it must respect. Pure
 * functions over `{ file → source }`, so tests/import-boundaries.test.ts can run the same checks on
 * the real tree and on made-up graphs that must fail.
 */
import { readdirSync, readFileSync } from "node:fs";
import { posix } from "node:path";
import ts from "typescript";

/** Repository-relative file (`handlers/core/plan.ts`) → the files and packages it imports. */
export type ImportGraph = ReadonlyMap<string, readonly string[]>;

/** The one cli/ module that imports sharp: verify's decoder. */
export const CLI_DECODER = "cli/image-compare.ts";

/** Folders of code that ships or runs for users; bench/ measures bare sharp on purpose and is left out. */
export const CHECKED_ROOTS = ["handlers", "cli", "components", "local", "scripts", "index.ts"];

/** The package a bare specifier names (`@aws-sdk/client-s3/x` → `@aws-sdk/client-s3`, `node:fs` stays). */
function packageOf(spec: string): string {
  const parts = spec.split("/");
  return spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

function resolve(from: string, spec: string, files: ReadonlySet<string>): string {
  if (!spec.startsWith(".")) return packageOf(spec);
  const target = posix.normalize(posix.join(posix.dirname(from), spec)).replace(/\.js$/, ".ts");
  if (files.has(target)) return target;
  const index = posix.join(target.replace(/\.ts$/, ""), "index.ts");
  return files.has(index) ? index : target;
}

export function buildImportGraph(sources: ReadonlyMap<string, string>): ImportGraph {
  const files = new Set(sources.keys());
  const graph = new Map<string, string[]>();
  for (const [file, text] of sources) {
    const specs = ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
    graph.set(file, [...new Set(specs.map((spec) => resolve(file, spec, files)))]);
  }
  return graph;
}

/** Every .ts file under the checked roots of the repository at `root`. */
export function readSources(root: string): Map<string, string> {
  const sources = new Map<string, string>();
  const visit = (rel: string): void => {
    const abs = posix.join(root, rel);
    if (rel.endsWith(".ts")) {
      sources.set(rel, readFileSync(abs, "utf8"));
      return;
    }
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      if (entry.name === "node_modules") continue;
      if (entry.isDirectory() || entry.name.endsWith(".ts")) visit(posix.join(rel, entry.name));
    }
  };
  for (const r of CHECKED_ROOTS) visit(r);
  return sources;
}

/** The import chain from `start` to the first node `target` accepts, or null when none is reachable. */
export function findPath(graph: ImportGraph, start: string, target: (node: string) => boolean): string[] | null {
  const previous = new Map<string, string | null>([[start, null]]);
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift()!;
    if (node !== start && target(node)) {
      const chain = [node];
      for (let at = previous.get(node); at != null; at = previous.get(at)) chain.unshift(at);
      return chain;
    }
    for (const next of graph.get(node) ?? []) {
      if (!previous.has(next)) {
        previous.set(next, node);
        queue.push(next);
      }
    }
  }
  return null;
}

const isRender = (node: string): boolean => node.startsWith("handlers/render/");
/** The thin Lambda adapters: the .ts files directly in handlers/. */
const isAdapter = (node: string): boolean => /^handlers\/[^/]+\.ts$/.test(node);

/**
 * Each Lambda bundle: its entry point and the folders of handlers/ it may reach, however
 * indirectly. Anything else of handlers/ is another bundle's code, which would ship (and run
 * its module-level code) in this one.
 */
export const BUNDLES: Readonly<Record<string, { entry: string; rooms: readonly string[] }>> = {
  "viewer-request": { entry: "handlers/viewer-request.ts", rooms: ["core", "cloudfront", "url"] },
  "origin-response": { entry: "handlers/origin-response.ts", rooms: ["core", "cloudfront", "render", "s3"] },
  purge: { entry: "handlers/purge-handler.ts", rooms: ["core", "purge"] },
};

/** A file of handlers/ outside these folders (an entry point counts as foreign: it is another bundle's). */
function isForeignHandler(node: string, rooms: readonly string[]): boolean {
  if (isAdapter(node)) return true;
  const room = handlerRoom(node);
  return room !== null && !rooms.includes(room);
}

/** The deploy-time and local tools: no Lambda bundle may reach them. */
const isTool = (node: string): boolean => /^(components|local|cli|bench|scripts)\//.test(node) || node === "index.ts";

/** The folder of handlers/ a file lives in (core, url, render, purge, s3, cloudfront), or null. */
function handlerRoom(file: string): string | null {
  return /^handlers\/([^/]+)\//.exec(file)?.[1] ?? null;
}

/**
 * Each folder of handlers/ serves one bundle (core serves all of them), so it imports only its own
 * files and core/; core imports only itself. No handler code reaches the deploy-time or local tools.
 */
function crossesRoom(room: string, dep: string): boolean {
  if (isTool(dep)) return true;
  if (isAdapter(dep)) return true;
  const target = handlerRoom(dep);
  return target !== null && target !== room && target !== "core";
}

/** Each broken boundary, as one line naming the file and what it imports or reaches. */
export function boundaryViolations(graph: ImportGraph): string[] {
  const out: string[] = [];
  for (const [file, deps] of graph) {
    for (const dep of deps) {
      if (dep === "sharp" && !isRender(file) && file !== CLI_DECODER) out.push(`${file} imports sharp (only handlers/render/ may)`);
      const room = handlerRoom(file);
      if (room !== null && crossesRoom(room, dep)) out.push(`${file} (${room}) imports ${dep}`);
    }
  }
  for (const [bundle, { entry, rooms }] of Object.entries(BUNDLES)) {
    if (!graph.has(entry)) continue;
    // Another bundle's folder (or its entry point), or sharp outside the one bundle that has it.
    const foreign = findPath(
      graph,
      entry,
      (n) => n !== entry && (isForeignHandler(n, rooms) || (n === "sharp" && !rooms.includes("render"))),
    );
    if (foreign) out.push(`${bundle} reaches ${foreign.at(-1)}: ${foreign.join(" → ")}`);
    const tools = findPath(graph, entry, isTool);
    if (tools) out.push(`${bundle} reaches ${tools.at(-1)}: ${tools.join(" → ")}`);
  }
  // verify compares pixels, so cli/ may decode with sharp, but only through its own decoder
  // (never the render under test), and the audit path stays free of it.
  const withoutDecoder = new Map([...graph].map(([f, deps]) => [f, f === CLI_DECODER ? [] : deps]));
  for (const file of graph.keys()) {
    if (!file.startsWith("cli/") || file === CLI_DECODER) continue;
    const chain = findPath(withoutDecoder, file, (n) => n === "sharp");
    if (chain) out.push(`${file} reaches sharp: ${chain.join(" → ")}`);
    const render = chain ? null : findPath(graph, file, (n) => isRender(n));
    if (render) out.push(`${file} reaches ${render.at(-1)}: ${render.join(" → ")}`);
  }
  const auditDecodes = graph.has("cli/audit.ts") ? findPath(graph, "cli/audit.ts", (n) => n === "sharp") : null;
  if (auditDecodes) out.push(`cli/audit.ts reaches sharp: ${auditDecodes.join(" → ")}`);
  return out;
}
