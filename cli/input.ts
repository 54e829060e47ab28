/**
 * Streaming the lines of an input file, plain or gzipped, in bounded memory (logs are often
 * several GB and rotated logs are gzipped). Gzip is recognised by its magic bytes, not by the
 * file name: rotated logs are named `access.log.1` as often as `access.log.gz`.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
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
 * Opens `path` for reading line by line: a regular file, a named pipe, or `-` for standard input
 * (`cat access.log.*.gz | edge-resizer audit -`). Throws a Node error (ENOENT, EISDIR, EACCES...)
 * if it cannot be read. A gzip file with several members (concatenated rotations) is read whole;
 * a corrupt gzip stream makes the iteration throw.
 */
export async function openLines(path: string): Promise<LineSource> {
  if (path === "-") return streamLines(process.stdin, 0);
  const info = await stat(path);
  if (info.isDirectory()) throw Object.assign(new Error(`${path} is a directory`), { code: "EISDIR" });
  return streamLines(createReadStream(path), info.isFile() ? info.size : 0);
}

/** Lines of a byte stream, gunzipped when it starts with gzip's magic bytes. */
async function streamLines(file: Readable, size: number): Promise<LineSource> {
  // The magic bytes are peeked from the stream itself (then put back), so pipes work too.
  const head = await firstChunk(file);
  if (head === null) {
    // Empty: the stream has already ended, so readline would wait for an "end" that never comes.
    return { lines: noLines(), gzipped: false, size: 0, bytesRead: () => 0 };
  }
  file.unshift(head);
  const gzipped = isGzip(head);
  let read = 0;
  file.on("data", (chunk: Buffer | string) => {
    read += chunk.length;
  });
  const text = gzipped ? file.pipe(createGunzip()) : file;
  // pipe() does not forward errors: a read error on the file must end the iteration too.
  if (gzipped) file.on("error", (err) => text.destroy(err));
  const lines = createInterface({ input: text, crlfDelay: Infinity });
  return { lines, gzipped, size, bytesRead: () => read };
}

async function* noLines(): AsyncGenerator<string> {}

/** The first chunk a stream yields (null when it is empty), without losing it: the caller unshifts it. */
function firstChunk(stream: Readable): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    stream.once("error", onError);
    stream.once("readable", () => {
      stream.off("error", onError);
      resolve(stream.read() as Buffer | null);
    });
  });
}
