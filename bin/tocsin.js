#!/usr/bin/env node
// The CLI is written in TypeScript and compiled to dist/ by `npm run build` (run by `npm ci`/`npm install`).
import '../dist/src/cli/main.js';
