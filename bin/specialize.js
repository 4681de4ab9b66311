#!/usr/bin/env node
// Thin launcher so `npx specialize` and the package.json `bin` entry find the bundled CLI.
const path = require('node:path');
const fs = require('node:fs');

const bundled = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(bundled)) {
  console.error('specialize: the CLI is not built yet (dist/cli.js is missing). Run `npm run setup` (or `npm run build`) first.');
  process.exit(1);
}
require(bundled);
