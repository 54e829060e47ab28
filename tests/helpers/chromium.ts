/**
 * Headless Chromium for the browser tests (the playground, verify's HTML report): the one
 * `@sparticuz/chromium` ships inside its npm package (unpacked to a temporary folder on first
 * use), so the tests need nothing beyond `npm ci`; PLAYGROUND_CHROMIUM may name another binary.
 */
import { chromium, type Browser } from "playwright-core";

/** Flags for a headless run on a machine without a display, sandbox helper or network. */
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** The npm-shipped Chromium, unless PLAYGROUND_CHROMIUM names a binary. */
export async function launchChromium(): Promise<Browser> {
  const chosen = process.env.PLAYGROUND_CHROMIUM;
  if (chosen) return chromium.launch({ executablePath: chosen, args: CHROMIUM_FLAGS });
  const shipped = (await import("@sparticuz/chromium")).default;
  // Its Lambda flags, less --single-process (there the browser exits when its last page closes)
  // and --disable-web-security (the page must run under a normal browser's rules).
  const args = shipped.args.filter((flag) => flag !== "--single-process" && flag !== "--disable-web-security");
  return chromium.launch({ executablePath: await shipped.executablePath(), args: [...args, ...CHROMIUM_FLAGS] });
}
