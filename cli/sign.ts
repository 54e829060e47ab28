/**
 * `edge-resizer sign <path> [--key-file <file>] [--settings settings.json] [--base-url <url>]`:
 * prints the signed URL of a thumbor path (`300x200/smart/images/cat.jpg`; a leading "/" or
 * "unsafe/" is dropped), so a team can check a URL by hand.
 *
 * The key comes from the environment (EDGE_RESIZER_SECURITY_KEY), from a file (`--key-file`,
 * one trailing newline ignored) or from the settings (`--settings`: a settings.json or a stack's
 * config with its key), never from an argument: arguments land in shell history and in `ps`
 * output. A key given two ways is an error: signing silently with the other one would print URLs
 * the stack refuses. Before printing, the URL goes through the viewer-request planner with that
 * key (and the stack's limits when `--settings` is given), so a URL the edge would refuse is
 * reported with the edge's reason instead of printed.
 *
 * Exit status: 0 printed, 1 the edge would refuse the URL, 2 usage error (no key, unreadable file).
 */
import { readFileSync } from "node:fs";
import { parseCommandArgs } from "./args.js";
import { isRequestError } from "../handlers/core/errors.js";
import { DEFAULT_SETTINGS, SettingsError, type Settings } from "../handlers/core/settings.js";
import { createRequestPlanner } from "../handlers/url/request-plan.js";
import { signThumborPath } from "../handlers/url/signature.js";
import { loadSettingsOrStack } from "./stack-file.js";

export const SIGN_USAGE =
  "usage: edge-resizer sign <thumbor path> [--key-file <file>] [--settings <settings.json|stack config>] [--base-url <url>]";
export const SIGN_HELP = `${SIGN_USAGE}

Prints the signed thumbor URL of a path (300x200/smart/images/cat.jpg; a leading "/" or "unsafe/"
is dropped), after checking that the edge would serve it. The key is read from one place only:
$EDGE_RESIZER_SECURITY_KEY, --key-file, or the settings' security key; never an argument.

Exit status: 0 printed, 1 the edge would refuse the URL (its reason on stderr), 2 usage error.
`;
/** The environment variable holding the key when no --key-file is given. */
export const KEY_ENV = "EDGE_RESIZER_SECURITY_KEY";

export interface SignIo {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

class SignError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message);
  }
}

/** Runs the command; returns the exit status. */
export async function runSign(argv: string[], io: SignIo): Promise<number> {
  try {
    const parsed = parseSignArgs(argv);
    if (parsed === "help") {
      io.stdout(SIGN_HELP);
      return 0;
    }
    const { path, keyFile, settingsPath, baseUrl } = parsed;
    const base = await readSettings(settingsPath);
    const key = readKey(keyFile, io.env, base.thumbor.securityKey);
    const settings = { ...base, thumbor: { ...base.thumbor, allowUnsafe: false, securityKey: key, retiredSecurityKeys: [] } };
    const signedPart = path.replace(/^\//, "").replace(/^unsafe\//, "");
    const url = `/${signThumborPath(key, signedPart)}/${signedPart}`;
    try {
      createRequestPlanner(settings).plan(url, "", undefined);
    } catch (err) {
      if (isRequestError(err)) throw new SignError(`the edge would answer ${err.status}: ${err.reason}`, 1);
      throw err;
    }
    io.stdout(`${baseUrl.replace(/\/+$/, "")}${url}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof SignError)) throw err;
    io.stderr(`edge-resizer sign: ${err.message}${err.exitCode === 2 ? ` (${SIGN_USAGE})` : ""}\n`);
    return err.exitCode;
  }
}

function parseSignArgs(argv: string[]) {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      "key-file": { type: "string" },
      settings: { type: "string" },
      "base-url": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    (message) => new SignError(message, 2),
  );
  if (values.help) return "help" as const;
  if (positionals.length !== 1) throw new SignError(`sign takes one thumbor path, got ${positionals.length}`, 2);
  return { path: positionals[0]!, keyFile: values["key-file"], settingsPath: values.settings, baseUrl: values["base-url"] ?? "" };
}

/** The one key given: from the key file, the environment or the settings; two of them is an error. */
function readKey(keyFile: string | undefined, env: NodeJS.ProcessEnv, settingsKey: string): string {
  const given: Array<[string, string]> = [];
  if (keyFile !== undefined) {
    try {
      given.push(["--key-file", readFileSync(keyFile, "utf8").replace(/\r?\n$/, "")]);
    } catch (err) {
      throw new SignError(`cannot read the key file ${keyFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, 2);
    }
  }
  if (env[KEY_ENV]) given.push([`$${KEY_ENV}`, env[KEY_ENV]!]);
  if (settingsKey !== "") given.push(["the settings' securityKey", settingsKey]);
  if (given.length > 1)
    throw new SignError(`the key is given ${given.length} ways (${given.map(([where]) => where).join(", ")}): give it one way`, 2);
  const key = given[0]?.[1] ?? "";
  if (key === "")
    throw new SignError(`no key: set ${KEY_ENV} or give --key-file (or --settings with a security key; never an argument)`, 2);
  return key;
}

/** The stack's settings (limits, prefix, hosts, maybe its key): a settings.json or a stack's config. */
async function readSettings(settingsPath: string | undefined): Promise<Settings> {
  if (settingsPath === undefined) return DEFAULT_SETTINGS;
  try {
    return await loadSettingsOrStack(settingsPath);
  } catch (err) {
    if (err instanceof SettingsError) throw new SignError(err.message, 2);
    throw err;
  }
}
