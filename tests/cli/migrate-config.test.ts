/**
 * `edge-resizer migrate-config` and `edge-resizer settings` (cli/thumbor-conf.ts,
 * cli/migrate-config.ts, cli/stack-file.ts): a thumbor.conf becomes stack config the component's
 * own reader accepts, and the URLs the old thumbor signed are served by the planner built from it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { runCli, captureIo } from "../helpers/cli.js";
import { migrateThumborConf } from "../../cli/migrate-config.js";
import { formatConfig, runMigrateConfig, toStackValues } from "../../cli/migrate-config-command.js";
import { runSettingsCommand } from "../../cli/settings-command.js";
import { loadSettingsOrStack, parseStackConfig, settingsFromStack } from "../../cli/stack-file.js";
import { confValues, PyExpression, readThumborConf } from "../../cli/thumbor-conf.js";
import { isRequestError } from "../../handlers/core/errors.js";
import { createRequestPlanner } from "../../handlers/url/request-plan.js";
import { signThumborPath } from "../../handlers/url/signature.js";

const FIXTURES = join(__dirname, "..", "fixtures", "migration");
const conf = readFileSync(join(FIXTURES, "thumbor.conf"), "utf8");
const KEY = "pr0d-s3cr3t-k3y";

function capture(stdin = "") {
  const out = { stdout: "", stderr: "" };
  const io = { stdout: (s: string) => void (out.stdout += s), stderr: (s: string) => void (out.stderr += s), readStdin: async () => stdin };
  return { out, io };
}

test("the Python subset: literals, tuples, dicts, adjacent strings, continuations in brackets, comments; other expressions kept as text", (t) => {
  const values = confValues(
    readThumborConf(
      [
        "A = 'x' \"y\"  # comment",
        "B = (1, 2.5, -3, 75e6, 1_000)",
        "C = {'k': [True, False, None],",
        "     # inside the brackets",
        "     \"n\": ('one',)}",
        "D = (42)",
        "E = r'\\d+' + 'x'",
        "F = os.environ.get('X',",
        "    'default')",
        "G = '''tri",
        "ple'''",
        "H = 'esc\\n\\x41'",
        "A = 'last wins'",
      ].join("\n"),
    ),
  );
  t.is(values.get("A"), "last wins");
  t.deepEqual(values.get("B"), [1, 2.5, -3, 75e6, 1000]);
  t.deepEqual(values.get("C"), { k: [true, false, null], n: ["one"] });
  t.is(values.get("D"), 42);
  t.deepEqual(values.get("E"), new PyExpression("r'\\d+' + 'x'"));
  t.true(values.get("F") instanceof PyExpression);
  t.is(values.get("G"), "tri\nple");
  t.is(values.get("H"), "esc\nA");
  t.throws(() => readThumborConf("A = 'unterminated\nB = 1"), { message: /line 1/ });
});

test("an environment file reads values as the docker images do: Python literals when they parse, strings otherwise", (t) => {
  const values = confValues(readThumborConf(readFileSync(join(FIXTURES, "thumbor.env"), "utf8")));
  t.is(values.get("SECURITY_KEY"), KEY);
  t.is(values.get("ALLOW_UNSAFE_URL"), false);
  t.is(values.get("QUALITY"), 85);
  t.is(values.get("LOADER"), "tc_aws.loaders.s3_loader");
  t.is(values.get("MAX_AGE"), 3600);
});

test("the fixture: every key reported once, carried over / our default / no equivalent, with the stack values the team needs", (t) => {
  const m = migrateThumborConf(confValues(readThumborConf(conf)));
  t.deepEqual(m.config, {
    securityKey: KEY,
    allowUnsafe: false,
    defaultQuality: 85,
    maxWidth: 1920,
    stripHosts: ["images.example.com"],
    smartCrop: "alignment",
    existingBucketName: "example-originals",
    pathPrefix: "st",
  });
  t.deepEqual([...m.secrets], ["securityKey"]);
  const verdict = Object.fromEntries(m.report.map((r) => [r.key, r.verdict]));
  t.like(verdict, {
    SECURITY_KEY: "carried",
    AUTO_WEBP: "default",
    WEBP_QUALITY: "default",
    MAX_HEIGHT: "default",
    MAX_PIXELS: "default",
    RESPECT_ORIENTATION: "default",
    MAX_AGE: "none",
    FILTERS: "none",
    RESULT_STORAGE: "none",
    AWS_LOADER_BUCKET_NAME: "carried",
    AWS_LOADER_S3_SECRET_ACCESS_KEY: "none",
    HTTP_LOADER_HEADERS: "none",
  });
  t.is(m.report.length, new Set(m.report.map((r) => r.key)).size, "one row per key");
  const note = (key: string) => m.report.find((r) => r.key === key)!.note;
  t.regex(note("FILTERS"), /also serves filters this conf had switched off: .*blur/);
  t.regex(note("ALLOWED_SOURCES"), /1 pattern\(s\) \(regular expressions\) have no equivalent/);
  t.regex(note("MAX_WIDTH"), /answers them 400/);
  t.regex(note("AWS_LOADER_ROOT_PATH"), /LOADER/);
  const everything = JSON.stringify(m) + formatConfig(m, "commands") + formatConfig(m, "yaml");
  t.false(everything.includes("aws-s3cr3t"), "an AWS secret of the conf is never printed");
  t.false(formatConfig(m, "yaml").includes(KEY), "a stack file gets no key in clear");
});

test("done when: the fixture becomes stack config the component accepts, and the URLs the old thumbor signed are served from it", async (t) => {
  const { out, io } = captureIo();
  t.is(await runMigrateConfig([join(FIXTURES, "thumbor.conf"), "--format", "json"], io), 0, out.stderr);
  t.regex(out.stderr, /SECURITY_KEY +carried over +securityKey/);
  const settings = await settingsFromStack(parseStackConfig(out.stdout, "migrated"), "migrated");
  t.like(settings, { defaultQuality: 85, maxWidth: 1920, autoWebp: true });
  t.like(settings.thumbor, { allowUnsafe: false, securityKey: KEY, pathPrefix: "st" });

  const planner = createRequestPlanner(settings);
  const signed = (path: string) => `/${signThumborPath(KEY, path)}/${path}`;
  const route = planner.plan(signed("300x200/smart/folder/cat.jpg"), "", "image/webp,*/*");
  if (route.kind !== "variant") return t.fail(route.kind);
  t.is(route.plan.source, "st/folder/cat.jpg", "thumbor-aws's root path finds the same originals");
  t.is(route.plan.quality, 85);
  t.is(route.plan.format, "webp");
  const refused = (uri: string) => {
    try {
      planner.plan(uri, "", undefined);
      return 0;
    } catch (err) {
      return isRequestError(err) ? err.status : -1;
    }
  };
  t.is(refused("/unsafe/300x200/folder/cat.jpg"), 403, "unsafe stays off");
  t.is(refused(`/${signThumborPath("another key", "300x200/a.jpg")}/300x200/a.jpg`), 403);
  t.is(refused(signed("2000x100/a.jpg")), 400, "MAX_WIDTH 1920 carried over");
});

test("a key the conf leaves out still counts when thumbor's default differs from ours: no AUTO_WEBP means no WebP", (t) => {
  const m = migrateThumborConf(new Map());
  t.deepEqual(m.config, { autoWebp: false });
  t.deepEqual(
    m.report.map((r) => [r.key, r.verdict]),
    [["AUTO_WEBP", "carried"]],
  );
  t.regex(m.report[0]!.note, /not in the file: thumbor's default/);
});

test("the commands format sets each key (secrets with --secret, lists by --path), quoted for a shell", (t) => {
  const m = migrateThumborConf(confValues(readThumborConf(conf)));
  const lines = formatConfig(m, "commands").trim().split("\n");
  t.true(lines.includes(`pulumi config set --secret edge-resizer:securityKey ${KEY}`));
  t.true(lines.includes("pulumi config set edge-resizer:allowUnsafe false"));
  t.true(lines.includes("pulumi config set --path 'edge-resizer:stripHosts[0]' images.example.com"));
  t.true(lines.includes("pulumi config set edge-resizer:pathPrefix st"));
  t.is(lines.length, 8);
});

test("tc_aws's env file maps onto the same bucket and prefix; MAX_AGE changes the browsers' lifetime only", async (t) => {
  const { out, io } = capture(readFileSync(join(FIXTURES, "thumbor.env"), "utf8"));
  t.is(await runMigrateConfig(["-", "--format", "json"], io), 0, out.stderr);
  const settings = await settingsFromStack(parseStackConfig(out.stdout, "env"), "env");
  t.is(settings.thumbor.pathPrefix, "st");
  t.is(settings.cacheControl, "public, max-age=3600, s-maxage=31536000");
  t.regex(out.stdout, /"edge-resizer:existingBucketName": \{\s*"value": "example-originals"/);
});

test("settings: a stack file, or `pulumi config --json --show-secrets` on stdin, becomes the settings.json; mistakes are exit 2", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "settings-cli-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const pulumiJson = JSON.stringify({
    "aws:region": { value: "eu-west-1", secret: false },
    "edge-resizer:sizes": { value: '["320x0","640x0"]', objectValue: ["320x0", "640x0"], secret: false },
    "edge-resizer:allowUnsafe": { value: "false", secret: false },
    "edge-resizer:securityKey": { value: KEY, secret: true },
  });
  const ok = capture(pulumiJson);
  t.is(await runSettingsCommand(["-"], ok.io), 0, ok.out.stderr);
  const doc = JSON.parse(ok.out.stdout);
  t.deepEqual(doc.sizes, ["320x0", "640x0"]);
  t.is(doc.thumbor.securityKey, KEY);
  t.is(doc.healthcheckPath, "/healthcheck", "every key, defaults included");

  const cases: Array<[string, RegExp]> = [
    [
      JSON.stringify({ "edge-resizer:securityKey": { secret: true } }),
      /secret whose value is not shown: run `pulumi config --json --show-secrets`/,
    ],
    ["config:\n  edge-resizer:securityKey:\n    secure: AAABAx\n", /is encrypted/],
    ["config:\n  edge-resizer:maxWidht: 100\n", /edge-resizer:maxWidht is not a known key/],
    ["config:\n  edge-resizer:allowUnsafe: false\n", /securityKey is empty/],
  ];
  for (const [text, message] of cases) {
    const bad = capture(text);
    t.is(await runSettingsCommand(["-"], bad.io), 2, text);
    t.regex(bad.out.stderr, message, text);
    t.false(bad.out.stderr.includes("AAABAx"));
  }
  // The same reader behind audit/sign/npm start: a stack file given where a settings.json goes.
  const stackFile = join(dir, "Pulumi.test.yaml");
  writeFileSync(stackFile, "config:\n  aws:region: eu-west-1\n  edge-resizer:maxWidth: 1000\n  edge-resizer:sizes:\n    - 100x0\n");
  const fromStack = await loadSettingsOrStack(stackFile);
  t.is(fromStack.maxWidth, 1000);
  t.deepEqual(fromStack.sizes, ["100x0"]);
  t.is(await runSettingsCommand([], captureIo().io), 2);
});

test("CLI: sign with a stack file that holds the key signs with it; the key given two ways is an error, not a silent choice", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "sign-stack-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const stack = join(dir, "stack.json");
  writeFileSync(
    stack,
    JSON.stringify({
      "edge-resizer:securityKey": { value: KEY, secret: true },
      "edge-resizer:allowUnsafe": { value: "false", secret: false },
    }),
  );
  const ok = await runCli(["sign", "300x200/a.jpg", "--settings", stack]);
  t.is(ok.code, 0, ok.stderr);
  t.is(ok.stdout.trim(), `/${signThumborPath(KEY, "300x200/a.jpg")}/300x200/a.jpg`);
  const twice = await runCli(["sign", "300x200/a.jpg", "--settings", stack], { EDGE_RESIZER_SECURITY_KEY: "other" });
  t.is(twice.code, 2);
  t.regex(twice.stderr, /the key is given 2 ways \(\$EDGE_RESIZER_SECURITY_KEY, the settings' securityKey\)/);
  t.is(twice.stdout, "");
  t.false(twice.stderr.includes(KEY));
});

test("CLI: the conf's stack config round-trips through the real command line (migrate-config | settings)", async (t) => {
  const migrated = await runCli(["migrate-config", join(FIXTURES, "thumbor.conf"), "--format", "json"]);
  t.is(migrated.code, 0, migrated.stderr);
  t.deepEqual(JSON.parse(migrated.stdout), JSON.parse(formatConfig(migrateThumborConf(confValues(readThumborConf(conf))), "json")));
  t.deepEqual(
    await settingsFromStack(toStackValues(migrateThumborConf(confValues(readThumborConf(conf)))), "x"),
    await settingsFromStack(parseStackConfig(migrated.stdout, "y"), "y"),
  );
});
