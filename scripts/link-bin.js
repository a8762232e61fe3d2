#!/usr/bin/env node
// Links this package's own "bin" commands into its node_modules/.bin (run by `prepare`, so
// after `npm ci` / `npm install` in a clone). npm links the bins of dependencies but never
// the root package's own, so without this `npx phylogeny` in a clone finds no local command
// and falls back to installing the clone into npx's cache: a second native build, and an
// entry that is never refreshed (after the bin path changed, it kept answering "phylogeny:
// not found"). npx looks in node_modules/.bin first. Never fails the install.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const binDir = path.join(root, 'node_modules', '.bin');

if (!fs.existsSync(path.join(root, 'node_modules'))) process.exit(0); // nothing installed here

for (const [name, rel] of Object.entries(pkg.bin || {})) {
  const target = path.join(root, rel);
  const link = path.join(binDir, name);
  try {
    if (!fs.existsSync(target)) throw new Error(`${rel} does not exist (was the TypeScript built?)`);
    fs.chmodSync(target, 0o755);
    fs.mkdirSync(binDir, { recursive: true });
    fs.rmSync(link, { force: true });
    if (process.platform === 'win32') {
      fs.writeFileSync(`${link}.cmd`, `@node "%~dp0\\${path.relative(binDir, target)}" %*\r\n`);
    } else {
      fs.symlinkSync(path.relative(binDir, target), link);
    }
  } catch (e) {
    console.error(`[neural-phylogeny] could not link the '${name}' command: ${e.message}; run it as node ${rel}`);
  }
}
