// Builds the library (dist/index.js + declarations) and, with --tests, the test bundles:
// dist-test/node.mjs for mocha in Node and dist-test/browser.js for the same specs in Chromium.
import { build } from 'esbuild';
import { readdirSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const args = new Set(process.argv.slice(2));
const common = { bundle: true, format: 'esm', target: 'es2022', loader: { '.wgsl': 'text' }, sourcemap: true, logLevel: 'warning', absWorkingDir: root };

export async function buildLibrary() {
  await build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/index.js', platform: 'neutral', external: ['webgpu', 'node:*'], mainFields: ['module', 'main'] });
  // Node-only entry (PNG/JPEG files, the CLI): the library plus pngjs and jpeg-js, kept out of dist/index.js.
  await build({ ...common, entryPoints: ['src/node.ts'], outfile: 'dist/node.js', platform: 'node', packages: 'external' });
  if (!args.has('--no-types')) {
    execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  }
}

/** Spec files: *.spec.ts run everywhere, *.node.spec.ts only in Node, *.browser.spec.ts only in Chromium. */
export function specFiles(where) {
  const all = readdirSync(path.join(root, 'test')).filter((f) => f.endsWith('.spec.ts')).sort();
  return all.filter((f) => (where === 'node' ? !f.endsWith('.browser.spec.ts') : !f.endsWith('.node.spec.ts')));
}

function entry(where) {
  const lines = specFiles(where).map((f) => `import './${f}';`);
  return { contents: lines.join('\n'), resolveDir: path.join(root, 'test'), sourcefile: `all-${where}.spec.ts`, loader: 'ts' };
}

export async function buildTests() {
  mkdirSync(path.join(root, 'dist-test'), { recursive: true });
  await build({ ...common, stdin: entry('node'), outfile: 'dist-test/node.mjs', platform: 'node', packages: 'external', define: { 'process.env.FULLCONV_TEST_RUNTIME': '"node"' } });
  await build({ ...common, stdin: entry('browser'), outfile: 'dist-test/browser.js', platform: 'browser', external: ['webgpu', 'node:*'], define: { 'process.env.FULLCONV_TEST_RUNTIME': '"browser"' } });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (!args.has('--tests-only')) await buildLibrary();
  if (args.has('--tests') || args.has('--tests-only') || !args.has('--lib-only')) await buildTests();
}
