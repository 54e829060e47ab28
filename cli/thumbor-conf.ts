/**
 * Reads a thumbor configuration as teams write it: a thumbor.conf (Python: assignments of
 * strings, numbers, booleans, None, lists, tuples and dicts, with comments and line continuations
 * inside brackets) or an environment file (`KEY=value` lines, as the docker images take them).
 *
 * Nothing is evaluated. A value that is not a literal (`re.compile(...)`, a name, arithmetic) is
 * kept as its source text, so the migration can say it has no equivalent instead of guessing.
 */

/** A value that is not a literal, kept as its source text. */
export class PyExpression {
  constructor(readonly text: string) {}
}

export type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue } | PyExpression;

export interface ConfEntry {
  key: string;
  value: PyValue;
  line: number;
}

export class ConfError extends Error {
  override name = "ConfError";
}

const ENV_LINE = /^(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*=/;
const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)/;

/** Every assignment of the file, in order (a key assigned twice keeps both: the last one wins). */
export function readThumborConf(text: string): ConfEntry[] {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const meaningful = lines.filter((l) => l.trim() !== "" && !l.trim().startsWith("#"));
  const envFile = meaningful.length > 0 && meaningful.every((l) => ENV_LINE.test(l));
  return envFile ? readEnvFile(lines) : readPython(lines);
}

/** The last value of each key. */
export function confValues(entries: ConfEntry[]): Map<string, PyValue> {
  return new Map(entries.map((e) => [e.key, e.value]));
}

function readEnvFile(lines: string[]): ConfEntry[] {
  const out: ConfEntry[] = [];
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const body = line.replace(/^export\s+/, "");
    const eq = body.indexOf("=");
    const key = body.slice(0, eq);
    const text = body.slice(eq + 1).trim();
    out.push({ key, value: envValue(text), line: i + 1 });
  });
  return out;
}

/** The docker images read values as Python literals when they parse as one, as strings otherwise. */
function envValue(text: string): PyValue {
  if (/^"[^"]*"$|^'[^']*'$/.test(text)) {
    const inner = text.slice(1, -1);
    const literal = tryLiteral(inner);
    return literal !== undefined && typeof literal !== "string" ? literal : inner;
  }
  const literal = tryLiteral(text);
  return literal === undefined || literal instanceof PyExpression ? text : literal;
}

function tryLiteral(text: string): PyValue | undefined {
  try {
    const p = new Parser(text, 1);
    const v = p.value();
    p.skipSpace();
    return p.atEnd() ? v : undefined;
  } catch {
    return undefined;
  }
}

function readPython(lines: string[]): ConfEntry[] {
  const text = lines.join("\n");
  const p = new Parser(text, 1);
  const out: ConfEntry[] = [];
  for (;;) {
    p.skipBlank();
    if (p.atEnd()) return out;
    const line = p.line;
    const m = ASSIGNMENT.exec(p.rest());
    if (!m) {
      // Imports and other statements configure nothing we map; skip the line.
      if (/^(?:import|from)\s/.test(p.rest())) {
        p.skipLine();
        continue;
      }
      throw new ConfError(`line ${line}: expected KEY = value`);
    }
    p.advance(m[0].length);
    out.push({ key: m[1]!, value: p.statementValue(), line });
  }
}

const NUMBER = /^[+-]?(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?(?![\w.])/;
const STRING_START = /^([rRbBuU]{0,2})('''|"""|'|")/;

/** A cursor over Python source; `depth` > 0 inside brackets, where newlines continue the value. */
class Parser {
  private pos = 0;
  private depth = 0;
  constructor(
    private readonly text: string,
    public line: number,
  ) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }
  rest(): string {
    return this.text.slice(this.pos, this.pos + 200);
  }
  advance(n: number): void {
    for (let i = 0; i < n; i++) if (this.text[this.pos + i] === "\n") this.line++;
    this.pos += n;
  }
  skipLine(): void {
    const nl = this.text.indexOf("\n", this.pos);
    this.advance((nl < 0 ? this.text.length : nl + 1) - this.pos);
  }
  /** Spaces, and (inside brackets, or after a backslash) newlines and comments. */
  skipSpace(): void {
    for (;;) {
      const c = this.text[this.pos];
      if (c === " " || c === "\t") this.advance(1);
      else if (c === "\\" && this.text[this.pos + 1] === "\n") this.advance(2);
      else if (this.depth > 0 && (c === "\n" || c === "\r")) this.advance(1);
      else if (this.depth > 0 && c === "#") this.skipLine();
      else return;
    }
  }
  /** Blank lines and comment lines between statements. */
  skipBlank(): void {
    for (;;) {
      const c = this.text[this.pos];
      if (c === " " || c === "\t" || c === "\n" || c === "\r" || c === ";") this.advance(1);
      else if (c === "#") this.skipLine();
      else return;
    }
  }

  /** The value of `KEY = <value>` up to the end of the statement; a non-literal is kept as text. */
  statementValue(): PyValue {
    const start = this.pos;
    const startLine = this.line;
    try {
      this.skipSpace();
      const v = this.value();
      this.skipSpace();
      if (this.atEnd() || this.peek() === "\n" || this.peek() === "\r" || this.peek() === "#" || this.peek() === ";") {
        this.skipLine();
        return v;
      }
    } catch (err) {
      if (!(err instanceof ConfError)) throw err;
    }
    // Not a literal: keep its text up to the end of the statement (brackets balanced).
    this.pos = start;
    this.line = startLine;
    this.depth = 0;
    return new PyExpression(this.statementText());
  }

  private statementText(): string {
    const start = this.pos;
    let depth = 0;
    while (!this.atEnd()) {
      const c = this.peek();
      if (c === "'" || c === '"') {
        this.string();
        continue;
      }
      if ("([{".includes(c)) depth++;
      if (")]}".includes(c)) depth--;
      if (c === "#" && depth <= 0) break;
      if (c === "\n" && depth <= 0 && this.text[this.pos - 1] !== "\\") break;
      this.advance(1);
    }
    const text = this.text.slice(start, this.pos).trim();
    this.skipLine();
    return text;
  }

  private peek(): string {
    return this.text[this.pos] ?? "";
  }

  private fail(what: string): never {
    throw new ConfError(`line ${this.line}: ${what}`);
  }

  value(): PyValue {
    this.skipSpace();
    const c = this.peek();
    if (c === "[") return this.sequence("]");
    if (c === "(") return this.tuple();
    if (c === "{") return this.dict();
    if (STRING_START.test(this.rest())) return this.strings();
    const num = NUMBER.exec(this.rest());
    if (num) {
      this.advance(num[0].length);
      return Number(num[0].replace(/_/g, ""));
    }
    for (const [word, v] of [
      ["True", true],
      ["False", false],
      ["None", null],
    ] as const) {
      if (this.rest().startsWith(word) && !/\w/.test(this.text[this.pos + word.length] ?? "")) {
        this.advance(word.length);
        return v;
      }
    }
    return this.fail("not a literal");
  }

  /** One string or several adjacent ones ("a" "b" is "ab", as in Python). */
  private strings(): string {
    let out = this.string();
    for (;;) {
      const save = [this.pos, this.line] as const;
      this.skipSpace();
      if (!STRING_START.test(this.rest())) {
        [this.pos, this.line] = save;
        return out;
      }
      out += this.string();
    }
  }

  private string(): string {
    const m = STRING_START.exec(this.rest());
    if (!m) this.fail("expected a string");
    const raw = /r/i.test(m[1]!);
    const quote = m[2]!;
    this.advance(m[0].length);
    let out = "";
    for (;;) {
      if (this.atEnd()) this.fail("unterminated string");
      if (this.text.startsWith(quote, this.pos)) {
        this.advance(quote.length);
        return out;
      }
      const c = this.peek();
      if (c === "\n" && quote.length === 1) this.fail("unterminated string");
      if (c === "\\" && !raw) {
        out += this.escape();
        continue;
      }
      if (c === "\\" && raw) {
        out += this.text.slice(this.pos, this.pos + 2);
        this.advance(2);
        continue;
      }
      out += c;
      this.advance(1);
    }
  }

  private escape(): string {
    const next = this.text[this.pos + 1] ?? "";
    const simple: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", "'": "'", '"': '"', "\n": "", "0": "\0" };
    if (next in simple) {
      this.advance(2);
      return simple[next]!;
    }
    const hex = /^\\(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4}))/.exec(this.rest());
    if (hex) {
      this.advance(hex[0].length);
      return String.fromCharCode(parseInt(hex[1] ?? hex[2]!, 16));
    }
    // Python keeps an unknown escape as written.
    this.advance(1);
    return "\\";
  }

  /** A list or tuple item; one that is not a literal (`re.compile(...)`) is kept as text, the others still read. */
  private item(): PyValue {
    const [pos, line] = [this.pos, this.line];
    try {
      return this.value();
    } catch (err) {
      if (!(err instanceof ConfError)) throw err;
      [this.pos, this.line] = [pos, line];
      return new PyExpression(this.itemText());
    }
  }

  /** The text of one item: up to the next "," or closing bracket outside brackets and strings. */
  private itemText(): string {
    const start = this.pos;
    let depth = 0;
    while (!this.atEnd()) {
      const c = this.peek();
      if (STRING_START.test(this.rest()) && (c === "'" || c === '"' || /[rRbBuU]/.test(c))) {
        const before = this.pos;
        try {
          this.string();
          continue;
        } catch {
          this.pos = before;
        }
      }
      if (depth === 0 && (c === "," || ")]}".includes(c))) break;
      if ("([{".includes(c)) depth++;
      if (")]}".includes(c)) depth--;
      this.advance(1);
    }
    if (this.pos === start) this.fail("expected a value");
    return this.text.slice(start, this.pos).trim();
  }

  private sequence(close: string): PyValue[] {
    this.advance(1);
    this.depth++;
    const items: PyValue[] = [];
    for (;;) {
      this.skipSpace();
      if (this.peek() === close) break;
      items.push(this.item());
      this.skipSpace();
      if (this.peek() === ",") this.advance(1);
      else if (this.peek() !== close) this.fail(`expected "," or "${close}"`);
    }
    this.advance(1);
    this.depth--;
    return items;
  }

  /** `(x)` is x, `(x,)` and `(x, y)` are tuples (read as lists). */
  private tuple(): PyValue {
    const save = [this.pos, this.line] as const;
    this.advance(1);
    this.depth++;
    this.skipSpace();
    if (this.peek() !== ")") {
      const first = this.value();
      this.skipSpace();
      if (this.peek() === ")") {
        this.advance(1);
        this.depth--;
        return first;
      }
    }
    [this.pos, this.line] = save;
    this.depth--;
    return this.sequence(")");
  }

  private dict(): { [key: string]: PyValue } {
    this.advance(1);
    this.depth++;
    const out: { [key: string]: PyValue } = {};
    for (;;) {
      this.skipSpace();
      if (this.peek() === "}") break;
      const key = this.value();
      this.skipSpace();
      if (this.peek() !== ":") this.fail('expected ":" in a dict');
      this.advance(1);
      out[String(key)] = this.value();
      this.skipSpace();
      if (this.peek() === ",") this.advance(1);
      else if (this.peek() !== "}") this.fail('expected "," or "}"');
    }
    this.advance(1);
    this.depth--;
    return out;
  }
}
