/**
 * The command line of every `edge-resizer` command, read one way: node's parseArgs, strict, with
 * positionals, and its error turned into the command's own usage error.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** parseArgs' error as one short clause ("unknown option '--x'"), for the command's usage error. */
type Parsed<T extends Options> = ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; strict: true; options: T }>>;

export function parseCommandArgs<const T extends Options>(argv: string[], options: T, usageError: (message: string) => Error): Parsed<T> {
  try {
    return parseArgs({ args: argv, allowPositionals: true, strict: true, options });
  } catch (err) {
    // parseArgs' messages are one sentence and then advice ("Unknown option '--x'. To specify ...").
    const first = (err as Error).message.split("\n")[0]!.replace(/\.\s.*$/, "");
    throw usageError(first.charAt(0).toLowerCase() + first.slice(1));
  }
}
