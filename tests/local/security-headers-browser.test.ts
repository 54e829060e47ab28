/**
 * The security headers in a real browser (headless Chromium): a picture opened directly from
 * the edge still shows under the sandboxing CSP, and an SVG's script, which runs when the same
 * file is served without the headers, does not run when the edge serves it (with SVG allowed
 * among the originals' types, the case the CSP exists for).
 */
import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import type { Browser, Page } from "playwright-core";
import { validateSettings } from "../../handlers/core/settings.js";
import { startLocalEdge, type LocalEdgeServer } from "../../local/server.js";
import { launchChromium } from "../helpers/chromium.js";

/** Marks its own document when its script runs. */
const SCRIPTED_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><rect width="40" height="40" fill="red"/>' +
  '<script>document.documentElement.setAttribute("data-script-ran", "yes")</script></svg>';

const dataDir = mkdtempSync(join(tmpdir(), "headers-browser-"));
let edge: LocalEdgeServer | undefined;
let browser: Browser | undefined;
/** The same SVG without any security header: proves the detector sees a script that runs. */
let bare: Server | undefined;
let bareUrl = "";

test.before(async () => {
  const settings = validateSettings({ originalContentTypes: ["image/jpeg", "image/svg+xml"] });
  edge = await startLocalEdge({ port: 0, dataDir, settings, log: () => {} });
  await edge.s3.client.send(
    new PutObjectCommand({ Bucket: edge.s3.bucket, Key: "script.svg", Body: SCRIPTED_SVG, ContentType: "image/svg+xml" }),
  );
  bare = createServer((_req, res) => res.writeHead(200, { "content-type": "image/svg+xml" }).end(SCRIPTED_SVG));
  await new Promise<void>((done) => bare!.listen(0, "127.0.0.1", done));
  bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/script.svg`;
  browser = await launchChromium();
});

test.after.always(async () => {
  await browser?.close();
  await edge?.close();
  await new Promise((done) => (bare ? bare.close(done) : done(undefined)));
  rmSync(dataDir, { recursive: true, force: true });
});

/** A new page on `url`, which must answer 200 with `type`: the test is about what the browser does with it. */
async function open(url: string, type: string): Promise<Page> {
  const page = await browser!.newPage();
  const response = await page.goto(url, { waitUntil: "load" });
  if (response?.status() !== 200 || response.headers()["content-type"] !== type)
    throw new Error(`${url}: ${response?.status()} ${response?.headers()["content-type"]}`);
  return page;
}

const scriptRan = (page: Page) => page.evaluate(() => document.documentElement.getAttribute("data-script-ran"));

test.serial("a JPEG opened directly from the edge still shows under the sandboxing CSP", async (t) => {
  const page = await open(`${edge!.url}/samples/elephants.jpg`, "image/jpeg");
  const shown = await page.evaluate(() => {
    const img = document.images[0];
    return img ? { complete: img.complete, width: img.naturalWidth } : null;
  });
  t.truthy(shown, "the browser's image page holds the picture");
  t.true(shown!.complete);
  t.true(shown!.width > 0, `decoded ${shown!.width} px wide`);
  await page.close();
});

test.serial("an SVG's script runs when served bare, and does not when the edge serves it", async (t) => {
  const bareSvg = await open(bareUrl, "image/svg+xml");
  t.is(await scriptRan(bareSvg), "yes", "the detector sees a script that runs");
  await bareSvg.close();
  const served = await open(`${edge!.url}/script.svg`, "image/svg+xml");
  t.is(await scriptRan(served), null, "the edge's CSP kept the script from running");
  await served.close();
});
