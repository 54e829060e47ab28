/**
 * The one command line (cli/main.ts through bin/edge-resizer.cjs): `--version`, a top-level help
 * that lists every command, and `--help` on every command, none of which names a source file.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { runCli } from "../helpers/cli.js";

const ROOT = join(__dirname, "..", "..");
const COMMANDS = ["audit", "migrate-config", "settings", "verify", "warm", "sign", "purge", "deployer-policy"];
/** A source file's name (cli/sign.ts, lib/cli/main.js): help is for users, not for readers of the code. */
const SOURCE_FILE = /\b[\w./-]+\.(?:ts|js|cjs)\b/;

test("--version prints the package's version", async (t) => {
  const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
  const out = await runCli(["--version"]);
  t.is(out.code, 0, out.stderr);
  t.is(out.stdout, `edge-resizer ${version}\n`);
});

test("--help lists every command and names no source file", async (t) => {
  const out = await runCli(["--help"]);
  t.is(out.code, 0, out.stderr);
  t.regex(out.stdout, /^usage: edge-resizer <command> \[options\]/);
  for (const command of COMMANDS) t.regex(out.stdout, new RegExp(`^  ${command} `, "m"), command);
  t.notRegex(out.stdout, SOURCE_FILE);
});

test("every command answers --help (and `help <command>`) with its own usage, exit 0, no source file named", async (t) => {
  for (const command of COMMANDS) {
    const out = await runCli(command === "verify" ? ["help", command] : [command, "--help"]);
    t.is(out.code, 0, `${command}: ${out.stderr}`);
    t.regex(out.stdout, new RegExp(`^usage: edge-resizer ${command} `), command);
    t.notRegex(out.stdout, SOURCE_FILE, command);
  }
});
