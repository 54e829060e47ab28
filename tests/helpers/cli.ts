/** Running the package's command line in tests: the real bin, and the output of in-process commands. */
import { execFile } from "node:child_process";
import { join } from "node:path";

const BIN = join(__dirname, "..", "..", "bin", "edge-resizer.cjs");

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `edge-resizer <args>` in a child process, without the caller's EDGE_RESIZER_SECURITY_KEY unless `env` gives one. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const clean = { ...process.env };
  delete clean.EDGE_RESIZER_SECURITY_KEY;
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...clean, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}

/** An io for a command run in this process: what it wrote, and an empty standard input. */
export function captureIo() {
  const out = { stdout: "", stderr: "" };
  return {
    out,
    io: { stdout: (s: string) => void (out.stdout += s), stderr: (s: string) => void (out.stderr += s), readStdin: async () => "" },
  };
}
