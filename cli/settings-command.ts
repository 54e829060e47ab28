/**
 * `edge-resizer settings <stack file | ->`: a stack's config (`pulumi config --json --show-secrets`
 * on standard input, or a Pulumi.<stack>.yaml) → the settings.json its functions bake in, for
 * `audit --settings`, `sign --settings`, `verify`/`warm` and `RESIZER_SETTINGS=... npm start`
 * (which also take the stack file directly).
 *
 * Exit status: 0 printed, 2 usage error or a config the component would refuse.
 */
import { readFileSync } from "node:fs";
import { parseCommandArgs } from "./args.js";
import type { CommandIo } from "./migrate-config-command.js";
import { parseStackConfig, settingsFromStack } from "./stack-file.js";
import { SettingsError } from "../handlers/core/settings.js";

export const SETTINGS_USAGE = "usage: edge-resizer settings <Pulumi.<stack>.yaml | ->";
export const SETTINGS_HELP = `${SETTINGS_USAGE}

Prints the settings.json the functions of a stack bake in, read through the component's own
mapping of stack config keys. "-" reads \`pulumi config --json --show-secrets\` from standard
input (a stack file's encrypted secrets cannot be read: use that form when the stack has a key):

  pulumi config --json --show-secrets | npx edge-resizer settings - > settings.json

The output holds the security key in clear when the stack has one: keep it out of the repository.
`;

class SettingsUsageError extends Error {}

export async function runSettingsCommand(argv: string[], io: CommandIo): Promise<number> {
  try {
    const { values, positionals } = parseCommandArgs(argv, { help: { type: "boolean", short: "h" } }, (m) => new SettingsUsageError(m));
    if (values.help) {
      io.stdout(SETTINGS_HELP);
      return 0;
    }
    if (positionals.length !== 1) throw new SettingsUsageError(`settings reads one stack config, got ${positionals.length}`);
    const file = positionals[0]!;
    const origin = file === "-" ? "standard input" : file;
    let text: string;
    try {
      text = file === "-" ? await io.readStdin() : readFileSync(file, "utf8");
    } catch (err) {
      throw new SettingsError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    const settings = await settingsFromStack(parseStackConfig(text, origin), origin);
    io.stdout(`${JSON.stringify(settings, null, 2)}\n`);
    return 0;
  } catch (err) {
    if (err instanceof SettingsUsageError) {
      io.stderr(`edge-resizer settings: ${err.message} (${SETTINGS_USAGE})\n`);
      return 2;
    }
    if (err instanceof SettingsError) {
      io.stderr(`edge-resizer settings: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
