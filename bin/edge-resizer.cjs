#!/usr/bin/env node
// `npx edge-resizer ...`: in a clone, runs the TypeScript command line (cli/main.ts) through tsx's
// require hook, so it works right after `npm ci` with no build step; in the installed package
// (no TypeScript sources, no tsx) it runs the compiled lib/cli/main.js.
"use strict";
const { existsSync } = require("node:fs");
const { join } = require("node:path");

if (existsSync(join(__dirname, "..", "cli", "main.ts"))) {
  require("tsx/cjs");
  require("../cli/main.ts");
} else {
  require("../lib/cli/main.js");
}
