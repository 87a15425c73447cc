#!/usr/bin/env node
// fullconv command line: `fullconv infer [MODEL.safetensors] IMAGE [options]`, `fullconv infer demo`.
// The work is in src/app/cli.ts, built into dist/node.js by `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/node.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('fullconv: dist/node.js is missing; run `npm run build` first');
  process.exit(1);
}
const { cliMain } = await import(entry.href);
process.exitCode = await cliMain(process.argv.slice(2));
