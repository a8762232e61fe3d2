#!/usr/bin/env node
// Builds the native addon: cmake-js (CMakeLists.txt, CUDA when nvcc is on PATH) when cmake
// is installed, node-gyp (binding.gyp, CPU only) otherwise or with --gyp / NP_BUILD=gyp.
// Both write build/Release/neural_phylogeny.node, which lib/native.ts loads.
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');

const root = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const forceGyp = args.includes('--gyp') || process.env.NP_BUILD === 'gyp';
const forceCmake = args.includes('--cmake') || process.env.NP_BUILD === 'cmake';

function has(cmd, arg) {
  const r = spawnSync(cmd, [arg], { stdio: 'ignore' });
  return r.status === 0;
}

function run(cmd, cmdArgs) {
  console.error(`[neural-phylogeny] ${cmd} ${cmdArgs.join(' ')}`);
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', env: process.env });
  if (r.error) throw r.error;
  return r.status === 0;
}

function buildCmake() {
  const cli = require.resolve('cmake-js/bin/cmake-js', { paths: [root] });
  const extra = [];
  if (process.env.NP_CUDA === '0') extra.push('--CDNP_WITH_CUDA=OFF');
  if (process.env.NP_CUDA_ARCHITECTURES) extra.push(`--CDCMAKE_CUDA_ARCHITECTURES=${process.env.NP_CUDA_ARCHITECTURES}`);
  return run(process.execPath, [cli, 'compile', '--log-level', 'warn', ...extra]);
}

function buildGyp() {
  let gyp;
  try {
    gyp = require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] });
  } catch {
    // npm ships node-gyp; find it beside the running npm.
    const npmDir = path.dirname(require.resolve('npm/package.json', { paths: [path.dirname(process.execPath), '/usr/lib/node_modules', '/usr/local/lib/node_modules'] }));
    gyp = path.join(npmDir, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  }
  return run(process.execPath, [gyp, 'rebuild']);
}

const useCmake = forceCmake || (!forceGyp && has('cmake', '--version'));
const ok = useCmake ? buildCmake() : buildGyp();
if (!ok) {
  console.error(`[neural-phylogeny] native build failed (${useCmake ? 'cmake-js' : 'node-gyp'}).`);
  process.exit(1);
}
