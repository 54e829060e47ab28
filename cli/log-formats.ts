/**
 * Reading request paths out of the lines a team has at hand before migrating off thumbor:
 * a plain list of URLs, or the access logs of the server or load balancer in front of thumbor.
 *
 *   list        https://img.example.com/unsafe/300x200/a.jpg   or   /unsafe/300x200/a.jpg
 *   nginx       combined format: ... "GET /unsafe/300x200/a.jpg HTTP/1.1" 200 ...
 *   ALB         ... "GET https://img.example.com:443/unsafe/300x200/a.jpg HTTP/1.1" ...
 *   CloudFront  standard logs: tab-separated, columns named by a `#Fields:` header
 *
 * What comes out is the raw request path as thumbor's router sees it: still percent-encoded,
 * query string and fragment removed (thumbor ignores the query; a browser never sends the
 * fragment), nothing normalised (no `..` resolution, no `//` collapse: both change what thumbor
 * parses). Whether the path is a thumbor URL at all is decided later, by the real planner.
 *
 * CloudFront logs are the only stateful format: which column holds the path depends on the
 * `#Fields:` header, so lines are read through a `LogReader` that remembers it.
 */

/** One request found in a line: the raw path (percent-encoded, no query) as the router sees it. */
export interface LoggedRequest {
  path: string;
}

/** Column positions of a CloudFront standard log, learned from its `#Fields:` header. */
interface CloudFrontColumns {
  method: number;
  uriStem: number;
}

/**
 * CloudFront's documented field order (standard logging, legacy), used when a tab-separated line
 * arrives before any `#Fields:` header (a log split or concatenated without its header).
 */
const CLOUDFRONT_DEFAULT_FIELDS =
  "date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query";

/** The request line of nginx's combined format and of ALB logs: `"METHOD target HTTP/x.y"`. */
const QUOTED_REQUEST_LINE = /"([A-Z]+) (\S+) HTTP\/\d(?:\.\d)?"/;
/** An absolute URL: scheme and authority are dropped, the path is kept byte for byte. */
const ABSOLUTE_URL = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*(.*)$/s;
/** nginx's log escaping of bytes (`\x22` for a quote, `\xC3` for a raw non-ASCII byte). */
const NGINX_ESCAPE = /\\x([0-9A-Fa-f]{2})/g;
/** Methods that fetch an image; thumbor's imaging handler serves only these. */
const FETCH_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD"]);

export class LogReader {
  private cloudFront: CloudFrontColumns | null = null;

  /** The requests found in one line (none for headers, comments, blank lines and other methods). */
  read(line: string): LoggedRequest[] {
    const text = line.replace(/\r$/, "");
    if (text.trim() === "") return [];
    if (text.startsWith("#")) {
      if (text.startsWith("#Fields:")) this.cloudFront = cloudFrontColumns(text.slice("#Fields:".length));
      return []; // #Version and other comment lines carry no request
    }
    const quoted = QUOTED_REQUEST_LINE.exec(text);
    if (quoted) {
      if (!FETCH_METHODS.has(quoted[1])) return [];
      return request(targetPath(quoted[2].replace(NGINX_ESCAPE, (_, hex: string) => `%${hex.toUpperCase()}`)));
    }
    // CloudFront writes no quotes (its text fields are URL-encoded), so the request-line check goes first.
    if (text.includes("\t")) return this.readCloudFront(text);
    return readListEntry(text.trim());
  }

  private readCloudFront(text: string): LoggedRequest[] {
    const columns = (this.cloudFront ??= cloudFrontColumns(CLOUDFRONT_DEFAULT_FIELDS));
    const cells = text.split("\t");
    const method = cells[columns.method];
    const stem = cells[columns.uriStem];
    if (stem === undefined || (method !== undefined && !FETCH_METHODS.has(method))) return [];
    // cs-uri-stem is the path as CloudFront received it (percent-encoded); cs-uri-query is not
    // needed: thumbor ignores the query string.
    return request(stem);
  }
}

function cloudFrontColumns(fieldList: string): CloudFrontColumns {
  const names = fieldList.trim().split(/\s+/);
  return { method: names.indexOf("cs-method"), uriStem: names.indexOf("cs-uri-stem") };
}

/** A line of a plain URL list: an absolute URL or a path; anything with spaces is not a URL. */
function readListEntry(text: string): LoggedRequest[] {
  if (/\s/.test(text)) return [];
  if (ABSOLUTE_URL.test(text)) return request(targetPath(text));
  // thumbor's route starts with an optional "/": "unsafe/300x200/a.jpg" is the same URL.
  return request(targetPath(text.startsWith("/") ? text : `/${text}`));
}

/** The path of an HTTP request target (origin form `/p?q` or absolute form `https://h/p?q`). */
function targetPath(target: string): string {
  const abs = ABSOLUTE_URL.exec(target);
  const rest = abs ? abs[1] : target;
  const end = rest.search(/[?#]/);
  const path = end < 0 ? rest : rest.slice(0, end);
  return path === "" ? "/" : path;
}

function request(path: string): LoggedRequest[] {
  return path.startsWith("/") ? [{ path }] : [];
}

/**
 * The request paths in one line, read on its own (a CloudFront line is read with the standard
 * field order). To read a whole CloudFront log with its `#Fields:` header, use a `LogReader`.
 */
export function extractThumborUrls(line: string): string[] {
  return new LogReader().read(line).map((r) => r.path);
}
