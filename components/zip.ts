/**
 * A minimal, deterministic ZIP writer (and reader, for checks) on node:zlib.
 *
 * Lambda takes its code as a .zip. Writing one needs only DEFLATE and CRC-32, both in node:zlib
 * (zlib.crc32 since Node 20.15), so no archiver dependency. Entries are sorted and stamped with a
 * fixed time, so the same files always give byte-identical zips (stable hashes, no spurious
 * Lambda updates). No ZIP64: Lambda packages are far below 4 GB and 65,535 entries.
 */
import { deflateRawSync, inflateRawSync, crc32 } from "node:zlib";
import { lstatSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";

export interface ZipEntry {
  /** Path inside the archive, '/'-separated, no leading '/'. */
  name: string;
  data: Buffer;
}

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
/** 1980-01-01 00:00:00, the earliest DOS date: a fixed stamp keeps zips reproducible. */
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const DOS_TIME = 0;
/** "Made by" Unix (3) with spec 2.0, so the external attributes carry Unix permissions. */
const MADE_BY_UNIX = (3 << 8) | 20;
/** Regular file, rw-r--r--: Lambda needs every file readable by the runtime's user. */
const UNIX_FILE_MODE = 0o100644;
const FLAG_UTF8_NAMES = 1 << 11;
const METHOD_STORE = 0;
const METHOD_DEFLATE = 8;

/** One entry's bytes as stored, with what both of its headers record. */
interface PackedEntry {
  name: Buffer;
  crc: number;
  method: number;
  body: Buffer;
  size: number;
}

/** Builds a ZIP archive in memory from entries (sorted by name for reproducibility). */
export function createZip(entries: ZipEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const seen = new Set<string>();
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of sorted) {
    checkEntryName(entry.name, seen);
    const packed = packEntry(entry);
    const local = localHeader(packed);
    locals.push(local, packed.name, packed.body);
    centrals.push(centralHeader(packed, offset), packed.name);
    offset += local.length + packed.name.length + packed.body.length;
    if (offset > 0xffffffff) throw new Error("zip: archive over 4 GiB needs ZIP64, which this writer does not do");
  }
  const centralDirectory = Buffer.concat(centrals);
  return Buffer.concat([...locals, centralDirectory, endOfCentralDirectory(sorted.length, centralDirectory.length, offset)]);
}

/** Refuses absolute, escaping, empty and repeated names; records the name as seen. */
function checkEntryName(name: string, seen: Set<string>): void {
  if (!name || name.startsWith("/") || name.split("/").includes("..")) {
    throw new Error(`zip: invalid entry name ${JSON.stringify(name)}`);
  }
  if (seen.has(name)) throw new Error(`zip: duplicate entry ${JSON.stringify(name)}`);
  seen.add(name);
}

function packEntry(entry: ZipEntry): PackedEntry {
  const deflated = deflateRawSync(entry.data, { level: 9 });
  // Tiny or incompressible files are stored: DEFLATE would make them larger.
  const method = deflated.length < entry.data.length ? METHOD_DEFLATE : METHOD_STORE;
  return {
    name: Buffer.from(entry.name, "utf8"),
    crc: crc32(entry.data),
    method,
    body: method === METHOD_DEFLATE ? deflated : entry.data,
    size: entry.data.length,
  };
}

function localHeader(entry: PackedEntry): Buffer {
  const local = Buffer.alloc(30);
  local.writeUInt32LE(LOCAL_HEADER, 0);
  writeEntryFields(local, entry, 4);
  local.writeUInt16LE(0, 28); // no extra field
  return local;
}

/** The fields a local header and a central record share, "version needed" to "name length", written from `at`. */
function writeEntryFields(header: Buffer, entry: PackedEntry, at: number): void {
  header.writeUInt16LE(20, at); // version needed: 2.0 (deflate)
  header.writeUInt16LE(FLAG_UTF8_NAMES, at + 2);
  header.writeUInt16LE(entry.method, at + 4);
  header.writeUInt16LE(DOS_TIME, at + 6);
  header.writeUInt16LE(DOS_DATE, at + 8);
  header.writeUInt32LE(entry.crc, at + 10);
  header.writeUInt32LE(entry.body.length, at + 14);
  header.writeUInt32LE(entry.size, at + 18);
  header.writeUInt16LE(entry.name.length, at + 22);
}

/** The central directory's record of an entry whose local header starts at `offset`. */
function centralHeader(entry: PackedEntry, offset: number): Buffer {
  const central = Buffer.alloc(46);
  central.writeUInt32LE(CENTRAL_HEADER, 0);
  central.writeUInt16LE(MADE_BY_UNIX, 4);
  writeEntryFields(central, entry, 6);
  // extra length, comment length, disk number, internal attributes: all 0
  central.writeUInt32LE((UNIX_FILE_MODE << 16) >>> 0, 38);
  central.writeUInt32LE(offset, 42);
  return central;
}

function endOfCentralDirectory(entryCount: number, centralDirectorySize: number, centralDirectoryOffset: number): Buffer {
  const end = Buffer.alloc(22);
  end.writeUInt32LE(END_OF_CENTRAL_DIRECTORY, 0);
  end.writeUInt16LE(entryCount, 8);
  end.writeUInt16LE(entryCount, 10);
  end.writeUInt32LE(centralDirectorySize, 12);
  end.writeUInt32LE(centralDirectoryOffset, 16);
  return end;
}

/**
 * Lists every regular file under `dir` as zip entries named relative to it. Symbolic links are
 * refused, because Lambda does not support them inside deployment packages.
 */
export function directoryEntries(dir: string): ZipEntry[] {
  const entries: ZipEntry[] = [];
  const walk = (current: string): void => {
    for (const name of readdirSync(current)) {
      const path = join(current, name);
      const stat = lstatSync(path);
      if (stat.isSymbolicLink()) throw new Error(`zip: ${path} is a symbolic link; Lambda packages cannot contain links`);
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile()) entries.push({ name: relative(dir, path).split(sep).join("/"), data: readFileSync(path) });
    }
  };
  walk(dir);
  return entries;
}

/** Zips the contents of `dir` (not the folder itself) into `zipPath`; returns the zip's size in bytes. */
export function zipDirectory(dir: string, zipPath: string): number {
  const zip = createZip(directoryEntries(dir));
  writeFileSync(zipPath, zip);
  return zip.length;
}

/**
 * Reads a ZIP written by `createZip` (or any non-ZIP64 zip) back into entries, checking each
 * CRC-32. Used by the build's self-check and by tests; it trusts the central directory.
 */
export function readZip(zip: Buffer): ZipEntry[] {
  const endAt = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (endAt < 0) throw new Error("zip: no end-of-central-directory record");
  const count = zip.readUInt16LE(endAt + 10);
  let at = zip.readUInt32LE(endAt + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== CENTRAL_HEADER) throw new Error(`zip: bad central directory header at ${at}`);
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const compressedSize = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localAt = zip.readUInt32LE(at + 42);
    const name = zip.toString("utf8", at + 46, at + 46 + nameLength);
    if (zip.readUInt32LE(localAt) !== LOCAL_HEADER) throw new Error(`zip: bad local header for ${name}`);
    const dataAt = localAt + 30 + zip.readUInt16LE(localAt + 26) + zip.readUInt16LE(localAt + 28);
    const raw = zip.subarray(dataAt, dataAt + compressedSize);
    let data: Buffer;
    if (method === METHOD_STORE) data = Buffer.from(raw);
    else if (method === METHOD_DEFLATE) data = inflateRawSync(raw);
    else throw new Error(`zip: ${name} uses unsupported method ${method}`);
    if (crc32(data) !== crc) throw new Error(`zip: CRC-32 mismatch for ${name}`);
    entries.push({ name, data });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}
