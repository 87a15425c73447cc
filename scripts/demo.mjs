// Builds the demo page (demo/src/main.ts -> demo/dist/main.js, .wgsl as text) and serves demo/
// on 127.0.0.1. Everything the page loads comes from this server: no CDN, no network.
// Usage: node scripts/demo.mjs [--build-only] [--port N]
import { build } from 'esbuild';
import { mkdirSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { createServer } from 'node:net';
import { serve } from './serve.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const demoRoot = path.join(root, 'demo');

export async function buildDemo() {
  await build({
    entryPoints: ['demo/src/main.ts'],
    outfile: 'demo/dist/main.js',
    absWorkingDir: root,
    bundle: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    loader: { '.wgsl': 'text' },
    // The engine's Node-only paths load these through variable specifiers; the page never takes them.
    external: ['webgpu', 'node:*'],
    sourcemap: true,
    logLevel: 'warning',
  });
  // A static server cannot list a folder: tell the page which trained models there are.
  const modelsDir = path.join(demoRoot, 'models');
  const files = existsSync(modelsDir) ? readdirSync(modelsDir) : [];
  const models = files.filter((f) => f.endsWith('.json') && files.includes(f.replace(/\.json$/, '.safetensors'))).map((f) => f.replace(/\.json$/, '')).sort();
  mkdirSync(path.join(demoRoot, 'dist'), { recursive: true });
  writeFileSync(path.join(demoRoot, 'dist', 'models.json'), JSON.stringify({ models }) + '\n');
}

/** Serves demo/ on 127.0.0.1 (port 0 = any free port); resolves to { server, url }. */
export function serveDemo(port = 0) {
  return serve(demoRoot, {}, port);
}

function portIsFree(port) {
  return new Promise((resolve) => {
    const probe = createServer().once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const started = performance.now();
  await buildDemo();
  console.log(`built demo/dist/main.js in ${Math.round(performance.now() - started)} ms`);
  if (!argv.includes('--build-only')) {
    const wanted = argv.includes('--port') ? Number(argv[argv.indexOf('--port') + 1]) : 8080;
    const { url } = await serveDemo((await portIsFree(wanted)) ? wanted : 0);
    console.log(`fullconv demo: ${url}/  (a browser with WebGPU; Ctrl-C stops the server)`);
  }
}
