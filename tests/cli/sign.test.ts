/**
 * `npx edge-resizer sign` (cli/sign.ts): the URL it prints is accepted by the viewer-request
 * handler built with the same key, and refused under another key; the key is read from the
 * environment or a file, never from an argument, and never printed.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { runCli } from "../helpers/cli.js";
import type { CloudFrontRequest, CloudFrontResultResponse } from "aws-lambda";
import { validateSettings } from "../../handlers/core/settings.js";
import { createViewerRequestHandler } from "../../handlers/viewer-request.js";
import { newRequestId, viewerRequestEvent, type Distribution } from "../../local/events.js";

const KEY = "sign-cli-k3y é";
const distribution: Distribution = { domainName: "d1.cloudfront.net", distributionId: "E1", bucket: "originals", region: "us-east-1" };

async function viewerAnswer(key: string, url: string): Promise<CloudFrontRequest | CloudFrontResultResponse> {
  const handler = createViewerRequestHandler(validateSettings({ thumbor: { allowUnsafe: false, securityKey: key } }));
  const event = viewerRequestEvent(
    { method: "GET", url, rawHeaders: ["Accept", "image/webp"], clientIp: "127.0.0.1" },
    distribution,
    newRequestId(),
  );
  return handler(event);
}

test("the printed URL (key from the environment) is rewritten to a variant by viewer-request with the same key, refused with another", async (t) => {
  const { code, stdout, stderr } = await runCli(["sign", "300x200/smart/filters:quality(70)/images/cat.jpg"], {
    EDGE_RESIZER_SECURITY_KEY: KEY,
  });
  t.is(code, 0, stderr);
  const url = stdout.trim();
  t.regex(url, /^\/[A-Za-z0-9_-]{27}=\/300x200\/smart\/filters:quality\(70\)\/images\/cat\.jpg$/);
  const accepted = await viewerAnswer(KEY, url);
  t.false("status" in accepted, JSON.stringify(accepted));
  t.is((accepted as CloudFrontRequest).uri, "/variants/images/cat.jpg/300x200,smart,q70.webp");
  const refused = await viewerAnswer("another-key", url);
  t.is((refused as CloudFrontResultResponse).status, "403");
});

test("--key-file (one trailing newline ignored), --base-url, and an unsafe/ path re-signed", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "sign-cli-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "key");
  writeFileSync(file, `${KEY}\n`);
  const { code, stdout, stderr } = await runCli([
    "sign",
    "/unsafe/fit-in/640x0/a%20b.jpg",
    "--key-file",
    file,
    "--base-url",
    "https://img.example.com/",
  ]);
  t.is(code, 0, stderr);
  t.regex(stdout, /^https:\/\/img\.example\.com\/[A-Za-z0-9_-]{27}=\/fit-in\/640x0\/a%20b\.jpg\n$/);
  const answer = await viewerAnswer(KEY, stdout.trim().replace("https://img.example.com", ""));
  t.is((answer as CloudFrontRequest).uri, "/variants/a%20b.jpg/640x0,fit-in,q80.webp");
});

test("no key: exit 2 naming the variable; a key argument is not an option; the key is never printed", async (t) => {
  const none = await runCli(["sign", "300x200/a.jpg"]);
  t.is(none.code, 2);
  t.regex(none.stderr, /no key: set EDGE_RESIZER_SECURITY_KEY or give --key-file/);
  const asArgument = await runCli(["sign", "300x200/a.jpg", "--key", KEY]);
  t.is(asArgument.code, 2);
  t.regex(asArgument.stderr, /unknown option '--key'/);
  const refused = await runCli(["sign", "9000x10/a.jpg"], { EDGE_RESIZER_SECURITY_KEY: KEY });
  t.is(refused.code, 1);
  t.regex(refused.stderr, /the edge would answer 400: width 9000 exceeds the maximum 4096/);
  t.is(refused.stdout, "");
  for (const out of [none, refused]) t.false(`${out.stdout}${out.stderr}`.includes(KEY.slice(0, 8)));
});
