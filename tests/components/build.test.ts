/**
 * `npm run build`: the real handlers are bundled once into a temp dir (outside the repository,
 * so a bundle cannot lean on our node_modules) and checked as Lambda would see them.
 */
import test from "ava";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { buildEdgeBundles, buildEdgeFunction, VIEWER_PACKAGE_LIMIT_BYTES, type EdgeBundles } from "../../components/bundle.js";
import { PACKAGE_LIMITS, checkPackageSize } from "../../handlers/cloudfront/edge-rules.js";
import { createZip, readZip, zipDirectory } from "../../components/zip.js";
import { DEFAULT_SETTINGS, settingsFor, validateSettings, type Settings } from "../../handlers/core/settings.js";
import { VIEWER_URL_HEADER } from "../../handlers/cloudfront/plumbing.js";

const ROOT = join(__dirname, "..", "..");
let outDir: string;
let bundles: EdgeBundles;
const settings: Settings = validateSettings({
  sizes: ["300x200", "640x0"],
  variantPrefix: "v",
  thumbor: { allowUnsafe: true, securityKey: "build-test-key" },
});

test.before(async () => {
  outDir = mkdtempSync(join(tmpdir(), "edge-resizer-build-"));
  bundles = await buildEdgeBundles({ outDir, settings });
});

test.after.always(() => {
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else out.push(relative(dir, p).split(sep).join("/"));
    }
  };
  walk(dir);
  return out.sort();
}

/** Runs a script in a fresh node process whose cwd is the bundle folder; returns its stdout. */
function runNode(cwd: string, script: string): string {
  return execFileSync(process.execPath, ["-e", script], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", NODE_OPTIONS: "" },
  });
}

test("both bundles load with require() in a clean process and export a handler function", (t) => {
  for (const bundle of [bundles.viewerRequest, bundles.originResponse]) {
    const type = runNode(bundle.dir, "process.stdout.write(typeof require('./index.js').handler)");
    t.is(type, "function", bundle.name);
  }
});

test("the built viewer-request runs: a ?d= request is rewritten under the baked variant prefix", (t) => {
  const event = {
    Records: [
      {
        cf: {
          config: {
            distributionDomainName: "d111111abcdef8.cloudfront.net",
            distributionId: "EDFDVBD6EXAMPLE",
            eventType: "viewer-request",
            requestId: "r",
          },
          request: {
            clientIp: "203.0.113.178",
            method: "GET",
            uri: "/images/cat.jpg",
            querystring: "d=300x200",
            headers: {
              host: [{ key: "Host", value: "d111111abcdef8.cloudfront.net" }],
              accept: [{ key: "Accept", value: "image/webp,*/*" }],
            },
          },
        },
      },
    ],
  };
  const out = JSON.parse(
    runNode(
      bundles.viewerRequest.dir,
      `require('./index.js').handler(${JSON.stringify(event)}).then((r) => process.stdout.write(JSON.stringify(r)))`,
    ),
  );
  t.regex(out.uri, /^\/v\//, "rewritten under the variant prefix from the baked settings.json");
  t.is(out.querystring, "");
  t.is(out.headers[VIEWER_URL_HEADER]?.[0]?.value, "/images/cat.jpg?d=300x200");
});

test('the built viewer-request answers "/" itself, so the bucket root (a listing for the OAI) never reaches S3', (t) => {
  const event = {
    Records: [
      {
        cf: {
          config: { distributionDomainName: "d", distributionId: "E", eventType: "viewer-request", requestId: "r" },
          request: { clientIp: "203.0.113.1", method: "GET", uri: "/", querystring: "", headers: {} },
        },
      },
    ],
  };
  const out = JSON.parse(
    runNode(
      bundles.viewerRequest.dir,
      `require('./index.js').handler(${JSON.stringify(event)}).then((r) => process.stdout.write(JSON.stringify(r)))`,
    ),
  );
  t.is(out.uri, undefined, "not forwarded as a request");
  t.regex(String(out.status), /^4\d\d$/);
});

test("the built origin-response loads its own linux-x64 sharp and passes a found object through", (t) => {
  const dir = bundles.originResponse.dir;
  const sharpPath = runNode(dir, "process.stdout.write(require.resolve('sharp'))");
  t.true(sharpPath.startsWith(join(dir, "node_modules", "sharp")), sharpPath);
  const vips = runNode(dir, "process.stdout.write(require(require.resolve('sharp')).versions.vips)");
  t.regex(vips, /^\d+\.\d+\.\d+$/);
  const event = {
    Records: [
      {
        cf: {
          config: { distributionDomainName: "d", distributionId: "E", eventType: "origin-response", requestId: "r" },
          request: { clientIp: "203.0.113.1", method: "GET", uri: "/images/cat.jpg", querystring: "", headers: {} },
          response: { status: "200", statusDescription: "OK", headers: { "content-type": [{ key: "Content-Type", value: "image/jpeg" }] } },
        },
      },
    ],
  };
  const out = JSON.parse(
    runNode(dir, `require('./index.js').handler(${JSON.stringify(event)}).then((r) => process.stdout.write(JSON.stringify(r)))`),
  );
  t.deepEqual(out, event.Records[0]!.cf.response);
});

test("the viewer-request bundle is far under 1 MB and holds no sharp or AWS SDK", (t) => {
  const code = readFileSync(join(bundles.viewerRequest.dir, "index.js"), "utf8");
  t.log(`viewer-request index.js ${bundles.viewerRequest.bundleBytes} bytes, zip ${bundles.viewerRequest.zipBytes} bytes`);
  t.true(bundles.viewerRequest.zipBytes < VIEWER_PACKAGE_LIMIT_BYTES / 4, `${bundles.viewerRequest.zipBytes} bytes`);
  t.is(bundles.viewerRequest.bundleBytes, code.length);
  t.false(/require\(["']sharp["']\)/.test(code), "no require('sharp')");
  t.false(code.includes("@img/sharp"), "no sharp binaries referenced");
  t.false(/@aws-sdk\//.test(code), "no AWS SDK");
  t.deepEqual(filesUnder(bundles.viewerRequest.dir), ["index.js", "settings.json"]);
});

test("the origin-response folder carries sharp and its linux-x64 glibc binaries, without links or .bin", (t) => {
  const modules = join(bundles.originResponse.dir, "node_modules");
  t.true(existsSync(join(modules, "sharp", "package.json")));
  const binary = JSON.parse(readFileSync(join(modules, "@img", "sharp-linux-x64", "package.json"), "utf8"));
  t.deepEqual([binary.os, binary.cpu, binary.libc], [["linux"], ["x64"], ["glibc"]]);
  t.true(existsSync(join(modules, "@img", "sharp-libvips-linux-x64", "package.json")));
  t.false(existsSync(join(modules, ".bin")));
  const locked = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")).packages["node_modules/sharp"].version;
  t.is(JSON.parse(readFileSync(join(modules, "sharp", "package.json"), "utf8")).version, locked);
  t.log(`origin-response index.js ${bundles.originResponse.bundleBytes} bytes, zip ${bundles.originResponse.zipBytes} bytes`);
  t.true(bundles.originResponse.zipBytes < 50 * 1024 * 1024, "under the 50 MB Lambda@Edge package quota");
  t.false(
    /require\(["']@img\//.test(readFileSync(join(bundles.originResponse.dir, "index.js"), "utf8")),
    "sharp's binaries stay outside the bundle",
  );
});

test("each bundle has a settings.json of the settings its function reads; origin-response's holds no signing key", (t) => {
  for (const bundle of [bundles.viewerRequest, bundles.originResponse]) {
    const text = readFileSync(join(bundle.dir, "settings.json"), "utf8");
    const baked = JSON.parse(text);
    t.deepEqual(validateSettings(baked), settingsFor(bundle.name, settings), bundle.name);
    t.deepEqual(baked, settingsFor(bundle.name, settings), bundle.name);
    t.is(text.includes(settings.thumbor.securityKey), bundle.name === "viewer-request", bundle.name);
  }
  t.is(JSON.parse(readFileSync(join(bundles.viewerRequest.dir, "settings.json"), "utf8")).thumbor.securityKey, "build-test-key");
});

test("each zip holds exactly the files of its folder, byte for byte, and unzip agrees", (t) => {
  for (const bundle of [bundles.viewerRequest, bundles.originResponse]) {
    const entries = readZip(readFileSync(bundle.zipPath));
    t.deepEqual(entries.map((e) => e.name).sort(), filesUnder(bundle.dir), bundle.name);
    for (const entry of entries) {
      if (!entry.data.equals(readFileSync(join(bundle.dir, entry.name)))) t.fail(`${bundle.name}: ${entry.name} differs`);
    }
    const unzip = spawnSync("unzip", ["-tq", bundle.zipPath], { encoding: "utf8" });
    if (unzip.error) t.log("unzip not installed: checked with readZip only");
    else t.is(unzip.status, 0, unzip.stdout + unzip.stderr);
  }
});

test("zips are reproducible: the same folder gives the same bytes", (t) => {
  const again = join(outDir, "again.zip");
  zipDirectory(bundles.viewerRequest.dir, again);
  t.true(readFileSync(again).equals(readFileSync(bundles.viewerRequest.zipPath)));
});

test("the zip writer round-trips stored and deflated entries and refuses unsafe names", (t) => {
  const entries = [
    { name: "a.txt", data: Buffer.from("x") },
    { name: "dir/big.txt", data: Buffer.from("edge ".repeat(10_000)) },
    { name: "dir/ünï.bin", data: Buffer.from([0, 255, 1, 254]) },
  ];
  const zip = createZip(entries);
  t.deepEqual(
    readZip(zip).map((e) => [e.name, e.data.toString("hex")]),
    entries.map((e) => [e.name, e.data.toString("hex")]),
  );
  t.true(zip.length < 10_000, "repetitive data is deflated");
  t.throws(() => createZip([{ name: "../evil", data: Buffer.alloc(1) }]), { message: /invalid entry name/ });
  t.throws(
    () =>
      createZip([
        { name: "a", data: Buffer.alloc(1) },
        { name: "a", data: Buffer.alloc(1) },
      ]),
    { message: /duplicate entry/ },
  );
  const corrupt = Buffer.from(zip);
  const aTxtData = 30 + "a.txt".length; // the first local header, its name, then a.txt's single stored byte
  corrupt[aTxtData] = corrupt[aTxtData]! ^ 0xff;
  t.throws(() => readZip(corrupt), { message: /CRC-32 mismatch/ });
});

test("a viewer-request entry that imports sharp or the AWS SDK fails the build, naming the import", async (t) => {
  const scratch = mkdtempSync(join(tmpdir(), "edge-resizer-forbidden-"));
  try {
    for (const module of ["sharp", "@aws-sdk/client-s3"]) {
      const entry = join(scratch, "entry.ts");
      writeFileSync(entry, `import * as m from "${module}";\nexport const handler = async () => Object.keys(m).length;\n`);
      const err = await t.throwsAsync(
        buildEdgeFunction({ name: "viewer-request", entry, outDir: join(scratch, "out"), settings: DEFAULT_SETTINGS, withSharp: false }),
      );
      t.regex(
        err?.message ?? "",
        new RegExp(`viewer-request must not import "${module.replace("/", "\\/")}" \\(imported from .*entry\\.ts\\)`),
      );
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

test("invalid build settings fail before anything is bundled", async (t) => {
  const scratch = mkdtempSync(join(tmpdir(), "edge-resizer-badsettings-"));
  try {
    const err = await t.throwsAsync(buildEdgeBundles({ outDir: scratch, settings: { sizes: ["0x0"] } }));
    t.regex(err?.message ?? "", /build settings: sizes\[0\] must be .*got "0x0"/);
    t.deepEqual(readdirSync(scratch), []);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

test("scripts/build.ts takes --settings and --out, prints the sizes, and exits 1 on a bad settings file", (t) => {
  const scratch = mkdtempSync(join(tmpdir(), "edge-resizer-cli-"));
  try {
    const good = join(scratch, "settings.json");
    writeFileSync(good, JSON.stringify({ variantPrefix: "cli-variants" }));
    const tsx = join(ROOT, "node_modules", "tsx", "dist", "cli.mjs");
    const ok = spawnSync(process.execPath, [tsx, join(ROOT, "scripts", "build.ts"), "--settings", good, "--out", join(scratch, "out")], {
      cwd: ROOT,
      encoding: "utf8",
    });
    t.is(ok.status, 0, ok.stderr);
    t.regex(ok.stdout, /viewer-request\s+index\.js\s+[\d.]+ KiB\s+zip\s+[\d.]+ KiB/);
    t.regex(ok.stdout, /origin-response\s+index\.js/);
    t.is(JSON.parse(readFileSync(join(scratch, "out", "origin-response", "settings.json"), "utf8")).variantPrefix, "cli-variants");

    const bad = join(scratch, "bad.json");
    writeFileSync(bad, JSON.stringify({ maxWidth: 0 }));
    const failed = spawnSync(
      process.execPath,
      [tsx, join(ROOT, "scripts", "build.ts"), "--settings", bad, "--out", join(scratch, "out2")],
      { cwd: ROOT, encoding: "utf8" },
    );
    t.is(failed.status, 1);
    t.regex(failed.stderr, /build failed: .*bad\.json: maxWidth must be an integer from 1 to 16383, got 0/);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

test("both built packages pass Lambda@Edge's package limits, zipped and unzipped, and the checker refuses one byte more", (t) => {
  for (const [event, bundle] of [
    ["viewer-request", bundles.viewerRequest],
    ["origin-response", bundles.originResponse],
  ] as const) {
    t.log(`${event}: zip ${bundle.zipBytes} bytes, unzipped ${bundle.unzippedBytes} bytes`);
    t.deepEqual(checkPackageSize(event, bundle.zipBytes, bundle.unzippedBytes), [], event);
    t.true(bundle.unzippedBytes > bundle.zipBytes, `${event}: unzipped is counted from the folder`);
    const limits = PACKAGE_LIMITS.value[event];
    t.regex(checkPackageSize(event, limits.maxZippedBytes + 1, 0).join(), /zipped package is \d+ bytes, over/);
  }
  t.is(PACKAGE_LIMITS.value["viewer-request"].maxZippedBytes, 1024 * 1024);
  t.is(PACKAGE_LIMITS.value["origin-response"].maxZippedBytes, 50 * 1024 * 1024);
  t.regex(checkPackageSize("origin-response", 1, 250 * 1024 * 1024 + 1).join(), /unzipped package is 262144001 bytes, over 262144000/);
});
