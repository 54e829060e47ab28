/**
 * `edge-resizer sign <path> [--key-file <file>] [--settings settings.json] [--base-url <url>]`:
 * prints the signed URL of a thumbor path (`300x200/smart/images/cat.jpg`; a leading "/" or
 * "unsafe/" is dropped), so a team can check a URL by hand.
 *
 * The key comes from the environment (EDGE_RESIZER_SECURITY_KEY) or from a file (`--key-file`,
 * one trailing newline ignored), never from an argument: arguments land in shell history and
 * in `ps` output. Before printing, the URL goes through the viewer-request planner with that key
 * (and the stack's limits when `--settings` is given), so a URL the edge would refuse is reported
 * with the edge's reason instead of printed.
 *
 * Exit status: 0 printed, 1 the edge would refuse the URL, 2 usage error (no key, unreadable file).
 */
import { readFileSync } from "node:fs";
import { parseCommandArgs } from "./args.js";
import { isRequestError } from "../handlers/core/errors.js";
import { DEFAULT_SETTINGS, loadSettingsFile, SettingsError, type Settings } from "../handlers/core/settings.js";
import { createRequestPlanner } from "../handlers/url/request-plan.js";
import { signThumborPath } from "../handlers/url/signature.js";

export const SIGN_USAGE = "usage: edge-resizer sign <thumbor path> [--key-file <file>] [--settings settings.json] [--base-url <url>]";
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
export function runSign(argv: string[], io: SignIo): number {
  try {
    const { path, keyFile, settingsPath, baseUrl } = parseSignArgs(argv);
    const key = readKey(keyFile, io.env);
    const settings = stackSettings(settingsPath, key);
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
    { "key-file": { type: "string" }, settings: { type: "string" }, "base-url": { type: "string" } },
    (message) => new SignError(message, 2),
  );
  if (positionals.length !== 1) throw new SignError(`sign takes one thumbor path, got ${positionals.length}`, 2);
  return { path: positionals[0]!, keyFile: values["key-file"], settingsPath: values.settings, baseUrl: values["base-url"] ?? "" };
}

function readKey(keyFile: string | undefined, env: NodeJS.ProcessEnv): string {
  let key: string;
  if (keyFile !== undefined) {
    try {
      key = readFileSync(keyFile, "utf8").replace(/\r?\n$/, "");
    } catch (err) {
      throw new SignError(`cannot read the key file ${keyFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, 2);
    }
  } else {
    key = env[KEY_ENV] ?? "";
  }
  if (key === "") throw new SignError(`no key: set ${KEY_ENV} or give --key-file (the key is never read from an argument)`, 2);
  return key;
}

/** The stack's settings (limits, prefix, hosts) with the given key as the one that signs. */
function stackSettings(settingsPath: string | undefined, key: string): Settings {
  let base: Settings = DEFAULT_SETTINGS;
  if (settingsPath !== undefined) {
    try {
      base = loadSettingsFile(settingsPath);
    } catch (err) {
      if (err instanceof SettingsError) throw new SignError(err.message, 2);
      throw err;
    }
  }
  return { ...base, thumbor: { ...base.thumbor, allowUnsafe: false, securityKey: key, retiredSecurityKeys: [] } };
}
