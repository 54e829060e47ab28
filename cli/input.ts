/**
 * Streaming the lines of an input file, plain or gzipped, in bounded memory (logs are often
 * several GB and rotated logs are gzipped). Gzip is recognised by its magic bytes, not by the
 * file name: rotated logs are named `access.log.1` as often as `access.log.gz`.
 */
import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { createInterface } from "node:readline";
import { createGunzip } from "node:zlib";

/** The first two bytes of every gzip member (RFC 1952). */
const GZIP_MAGIC = [0x1f, 0x8b] as const;

export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
}

export interface LineSource {
  lines: AsyncIterable<string>;
  gzipped: boolean;
  /** Size of the file on disk (compressed size for gzip). */
  size: number;
  /** Bytes of the file read so far (compressed bytes for gzip), for a progress bar. */
  bytesRead(): number;
}

/**
 * Opens `path` for reading line by line. Throws a Node error (ENOENT, EISDIR, EACCES...) if the
 * file cannot be opened. A gzip file with several members (concatenated rotations) is read whole;
 * a corrupt gzip stream makes the iteration throw.
 */
export async function openLines(path: string): Promise<LineSource> {
  const info = await stat(path);
  if (info.isDirectory()) throw Object.assign(new Error(`${path} is a directory`), { code: "EISDIR" });
  const head = new Uint8Array(2);
  const handle = await open(path, "r");
  try {
    await handle.read(head, 0, 2, 0);
  } finally {
    await handle.close();
  }
  const gzipped = isGzip(head);
  const file = createReadStream(path);
  let read = 0;
  file.on("data", (chunk) => {
    read += chunk.length;
  });
  const text = gzipped ? file.pipe(createGunzip()) : file;
  // pipe() does not forward errors: a read error on the file must end the iteration too.
  if (gzipped) file.on("error", (err) => text.destroy(err));
  const lines = createInterface({ input: text, crlfDelay: Infinity });
  return { lines, gzipped, size: info.size, bytesRead: () => read };
}
