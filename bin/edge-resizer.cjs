#!/usr/bin/env node
// `npx edge-resizer ...`: runs the TypeScript command line (cli/main.ts) through tsx's require
// hook, so a clone works right after `npm ci`, with no build step.
"use strict";
require("tsx/cjs");
require("../cli/main.ts");
