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
import { createRequestPlanner } from "../../handlers/url/request-plan.js";
import { DEFAULT_SETTINGS, type Settings } from "../../handlers/core/settings.js";
import { signThumborPath } from "../../handlers/url/signature.js";
import { startLocalEdge, type LocalEdgeServer } from "../../local/server.js";
import { launchChromium } from "../helpers/chromium.js";

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

test.serial("an error is text, not a broken-image icon; filters the edge ignores get a notice", async (t) => {
  const page = await openPlayground();
  await enter(page, `/${"A".repeat(27)}=/300x200/samples/elephants.jpg`);
  await page.waitForSelector("#result-error:not([hidden])");
  t.regex((await page.textContent("#result-error")) ?? "", /bad signature/);
  t.false(await page.isVisible("#result-img"), "no image box over the reason");

  await enter(page, "/unsafe/200x0/filters:qualty(50):quality(70):blur(x)/samples/elephants.jpg");
  await page.waitForFunction(() => /×/.test(document.getElementById("fact-dimensions")!.textContent ?? ""));
  t.true(await page.isVisible("#result-img"));
  t.false(await page.isVisible("#result-error"));
  const notice = (await page.textContent("#result-notice")) ?? "";
  t.true(await page.isVisible("#result-notice"));
  t.regex(notice, /ignores these filters.*qualty\(50\), blur\(x\)/);
  t.notRegex(notice, /quality\(70\)/, "a filter the edge applies is not listed");

  await enter(page, "/unsafe/200x0/filters:quality(70)/samples/elephants.jpg");
  await page.waitForFunction(() => /×/.test(document.getElementById("fact-dimensions")!.textContent ?? ""));
  t.false(await page.isVisible("#result-notice"), "no notice when every filter is applied");
  await page.close();
});

test.serial("at a phone's 390 px the page, a result and the gallery fit the screen: no horizontal overflow", async (t) => {
  const page = await browser!.newPage({ viewport: { width: 390, height: 844 } });
  await page.goto(edge!.url + "/");
  await enter(page, "/unsafe/fit-in/800x600/filters:qualty(50)/samples/rain-drops.jpg");
  await page.waitForFunction(() => /×/.test(document.getElementById("fact-dimensions")!.textContent ?? ""));
  await page.waitForFunction(
    () => {
      const imgs = [...document.querySelectorAll<HTMLImageElement>("#gallery img")];
      return imgs.length > 0 && imgs.every((img) => img.complete);
    },
    undefined,
    { timeout: 90_000 },
  );
  const widths = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  t.is(widths.client, 390);
  t.true(widths.scroll <= widths.client, `the page is ${widths.scroll} px wide at ${widths.client} px`);
  const widest = await page.$$eval("body *", (els) => Math.max(...els.map((el) => el.getBoundingClientRect().right)));
  t.true(widest <= 390, `an element ends at ${widest} px`);
  await page.close();
});
