/**
 * cli/stack-file.ts, the one reader of stack files: a stack's values as the Pulumi CLI hands them
 * to the program (strings, lists as JSON), Pulumi.yaml's declared defaults under them, and
 * encrypted values refused or left out as the caller asks.
 */
import test from "ava";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseStackConfig, projectDefaults, readStackFile } from "../../cli/stack-file.js";
import { SettingsError } from "../../handlers/core/settings.js";
import { prodStack, programConfig } from "../helpers/stack-files.js";

function stackDir(project: string, stack: string): { dir: string; stackFile: string } {
  const dir = mkdtempSync(join(tmpdir(), "stack-file-"));
  writeFileSync(join(dir, "Pulumi.yaml"), project);
  writeFileSync(join(dir, "Pulumi.dev.yaml"), stack);
  return { dir, stackFile: join(dir, "Pulumi.dev.yaml") };
}

const PROJECT = `name: demo
runtime: nodejs
config:
  sizes:
    type: array
    default: [10x10]
  quality:
    type: integer
    default: 80
  bucket:
    type: string
`;

test("readStackFile: Pulumi.yaml's defaults under the stack's values, each as the CLI hands it (a string)", (t) => {
  const { dir, stackFile } = stackDir(PROJECT, "config:\n  demo:quality: 60\n  demo:bucket: pics\n  aws:region: eu-west-1\n");
  try {
    t.deepEqual(readStackFile(stackFile, "refuse"), {
      "demo:sizes": '["10x10"]',
      "demo:quality": "60",
      "demo:bucket": "pics",
      "aws:region": "eu-west-1",
    });
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("readStackFile: an encrypted value is refused, or left out when the caller reads no secret", (t) => {
  const { dir, stackFile } = stackDir(PROJECT, "config:\n  demo:bucket: pics\n  demo:key:\n    secure: AAABAx\n");
  try {
    const err = t.throws(() => readStackFile(stackFile, "refuse"), { instanceOf: SettingsError });
    t.regex(err!.message, /demo:key is encrypted/);
    const values = readStackFile(stackFile, "omit");
    t.false("demo:key" in values);
    t.is(values["demo:bucket"], "pics");
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("readStackFile: a missing stack file or Pulumi.yaml, or a project file without a name, is named in the error", (t) => {
  const { dir, stackFile } = stackDir(PROJECT, "config: {}\n");
  try {
    t.throws(() => readStackFile(join(dir, "Pulumi.nope.yaml"), "omit"), { message: /cannot read .*Pulumi\.nope\.yaml: ENOENT/ });
    writeFileSync(join(dir, "Pulumi.yaml"), "config: {}\n");
    t.throws(() => readStackFile(stackFile, "omit"), { message: /Pulumi\.yaml: expected a Pulumi project file with a "name:"/ });
    rmSync(join(dir, "Pulumi.yaml"));
    t.throws(() => readStackFile(stackFile, "omit"), { message: /cannot read .*Pulumi\.yaml: ENOENT/ });
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("the project's own Pulumi.prod.yaml reads as the tests' model of the Pulumi CLI does", (t) => {
  t.deepEqual(readStackFile("Pulumi.prod.yaml", "refuse"), programConfig(prodStack.config));
});

test("projectDefaults keys each declared default by the project's name; keys without one are absent", (t) => {
  t.deepEqual(projectDefaults(PROJECT, "Pulumi.yaml"), { "demo:sizes": '["10x10"]', "demo:quality": "80" });
});

test("parseStackConfig still reads `pulumi config --json` (the settings commands' other spelling)", (t) => {
  const json = JSON.stringify({ "demo:sizes": { value: '["1x1"]', objectValue: ["1x1"] }, "demo:bucket": { value: "pics" } });
  t.deepEqual(parseStackConfig(json, "stdin"), { "demo:sizes": '["1x1"]', "demo:bucket": "pics" });
});
