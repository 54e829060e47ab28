/**
 * The playground page in real headless Chromium, driven by playwright-core. The browser is the one
 * `@sparticuz/chromium` ships inside its npm package (unpacked to a temporary folder on first use),
 * so the test needs nothing beyond `npm ci`; PLAYGROUND_CHROMIUM may name another Chromium binary.
 * Entering a thumbor URL (unsafe or signed) shows the image at its size and the canonical key,
 * a refusal shows its reason, and the gallery's `?d=` and `/unsafe/` images agree in size.
 */
import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "../helpers/chromium.js";
import { createRequestPlanner } from "../../handlers/url/request-plan.js";
import { DEFAULT_SETTINGS, type Settings } from "../../handlers/core/settings.js";
import { signThumborPath } from "../../handlers/url/signature.js";
import { startLocalEdge, type LocalEdgeServer } from "../../local/server.js";

/** The Accept the playground sends (as Chromium does for <img>); the key depends on it. */
const IMAGE_ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";
const SECURITY_KEY = "playground-test-key";
const settings: Settings = { ...DEFAULT_SETTINGS, thumbor: { ...DEFAULT_SETTINGS.thumbor, securityKey: SECURITY_KEY } };
const dataDir = mkdtempSync(join(tmpdir(), "playground-"));
let edge: LocalEdgeServer | undefined;
let browser: Browser | undefined;

test.before(async () => {
  edge = await startLocalEdge({ port: 0, dataDir, settings, log: () => {} });
  browser = await launchChromium();
});

test.after.always(async () => {
  await browser?.close();
  await edge?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function openPlayground(): Promise<Page> {
  const page = await browser!.newPage({ viewport: { width: 1280, height: 5000 } });
  await page.goto(edge!.url + "/");
  return page;
}

async function enter(page: Page, url: string): Promise<void> {
  await page.fill("#url", url);
  await page.click("#go");
}

function canonicalKey(path: string): string {
  const route = createRequestPlanner(settings).plan(path, "", IMAGE_ACCEPT);
  if (route.kind !== "variant") throw new Error(`${path} is not a variant URL`);
  return route.key;
}

test.serial("an unsafe thumbor URL shows the image at its size, its key, and the cache outcome", async (t) => {
  const page = await openPlayground();
  const path = "/unsafe/240x160/samples/elephants.jpg";
  await enter(page, `https://images.example.com${path}`);
  await page.waitForFunction(() => /×/.test(document.getElementById("fact-dimensions")!.textContent ?? ""));
  const natural = await page.$eval("#result-img", (img) => [
    (img as HTMLImageElement).naturalWidth,
    (img as HTMLImageElement).naturalHeight,
  ]);
  t.deepEqual(natural, [240, 160]);
  t.is(await page.textContent("#fact-key"), canonicalKey(path));
  t.is(await page.textContent("#fact-format"), "image/webp");
  t.is(await page.textContent("#fact-cache"), "Miss from cloudfront");
  t.regex((await page.textContent("#fact-bytes")) ?? "", /\d+ B/);

  await enter(page, path);
  await page.waitForFunction(() => document.getElementById("fact-cache")!.textContent === "Hit from cloudfront");
  t.deepEqual(await page.$eval("#result-img", (img) => (img as HTMLImageElement).naturalWidth), 240);
  await page.close();
});

test.serial("a signed thumbor URL works; a forged signature shows the refusal", async (t) => {
  const page = await openPlayground();
  const signedPart = "fit-in/200x200/samples/paletted-transparent.png";
  const path = `/${signThumborPath(SECURITY_KEY, signedPart)}/${signedPart}`;
  await enter(page, path);
  await page.waitForFunction(() => /×/.test(document.getElementById("fact-dimensions")!.textContent ?? ""));
  t.deepEqual(
    await page.$eval("#result-img", (img) => [(img as HTMLImageElement).naturalWidth, (img as HTMLImageElement).naturalHeight]),
    [200, 150],
  );
  t.is(await page.textContent("#fact-key"), canonicalKey(path));

  await enter(page, `/${"A".repeat(27)}=/${signedPart}`);
  await page.waitForSelector("#result-error:not([hidden])");
  t.is(await page.textContent("#fact-status"), "403");
  t.true(((await page.textContent("#result-error")) ?? "").length > 0);
  await page.close();
});

test.serial("the gallery shows every sample in both URL styles at the same sizes", async (t) => {
  const page = await openPlayground();
  await page.waitForFunction(
    () => {
      const imgs = [...document.querySelectorAll<HTMLImageElement>("#gallery img")];
      return imgs.length > 0 && imgs.every((img) => img.complete);
    },
    undefined,
    { timeout: 90_000 },
  );
  const pairs = await page.$$eval("#gallery .pair", (nodes) =>
    nodes.map((pair) =>
      [...pair.querySelectorAll("img")].map((img) => ({ src: img.getAttribute("src"), w: img.naturalWidth, h: img.naturalHeight })),
    ),
  );
  t.is(pairs.length, 5 * 3);
  for (const [d, thumbor] of pairs) {
    t.regex(d!.src!, /^\/samples\/[\w.-]+\?d=\d+x\d+$/);
    t.regex(thumbor!.src!, /^\/unsafe\/\d+x\d+\/samples\/[\w.-]+$/);
    const [w, h] = /(\d+)x(\d+)/.exec(d!.src!)!.slice(1).map(Number);
    t.deepEqual([d!.w, d!.h], [w, h], d!.src!);
    t.deepEqual([thumbor!.w, thumbor!.h], [w, h], thumbor!.src!);
  }
  await page.close();
});
