// Exploration only (not the bench suite): a layer's forward beside its gradients on chosen routes, in one
// process, interleaved rounds; wall and CPU medians and their ratio to the first variant.
// Usage: node bench/grad-probe.mjs [--layer JSON] [--variants 'fwd|gi:auto|gw:gemm|gw:auto|c2gemm'] [--rounds 5]
import { build } from 'esbuild';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const out = path.join(root, 'dist-test', 'gradcov-probe.mjs');
await build({
  stdin: {
    contents: `export { createEngine } from './src/engine.ts'; export { conv2dWith } from './src/ops/conv.ts'; export { conv2dGradWeightWith, conv2dGradInputWith } from './src/ops/conv_grad.ts'; export { gradWeightTuning } from './src/ops/conv_weight_gemm.ts'; export * as ref from './test/reference.ts';`,
    resolveDir: root, loader: 'ts',
  },
  bundle: true, format: 'esm', platform: 'node', packages: 'external', outfile: out, loader: { '.wgsl': 'text' }, logLevel: 'warning',
});
const lib = await import(pathToFileURL(out).href + `?t=${Date.now()}`);
const arg = (n, d) => { const i = process.argv.indexOf(n); return i >= 0 ? process.argv[i + 1] : d; };
const L = JSON.parse(arg('--layer', '{"cin":32,"cout":32,"h":112,"k":3,"s":1,"p":1,"g":32}'));
const variants = arg('--variants', 'fwd|gi:auto|gw:gemm|gw:auto').split('|');
const rounds = Number(arg('--rounds', '5'));
const engine = await lib.createEngine();
const rand = (n, seed) => { const r = lib.ref.makeRng(seed); const a = new Float32Array(n); for (let i = 0; i < n; i++) a[i] = r() * 2 - 1; return a; };
const outH = Math.floor((L.h + 2 * L.p - L.k) / L.s) + 1;
const xShape = [1, L.cin, L.h, L.h], wShape = [L.cout, L.cin / L.g, L.k, L.k], yShape = [1, L.cout, outH, outH];
const x = engine.tensor(rand(L.cin * L.h * L.h, 1), xShape);
const w = engine.tensor(rand(wShape.reduce((a, b) => a * b), 2), wShape);
const dy = engine.tensor(rand(yShape.reduce((a, b) => a * b), 3), yShape);
const wT = engine.tensor(rand(wShape.reduce((a, b) => a * b), 4), [wShape[1] * L.k * L.k, L.cout, 1, 1]);
const opts = { stride: L.s, padding: L.p, groups: L.g };
// A variant may end in a JSON tuning: gw:gemm{"target":1024,"oBlock":8} (conv_weight_gemm's knob), or
// c2gemm{"kernel":"direct","blockCo":8,"blockW":16} (a plan for the col2im route's GEMM alone).
const run = (v) => {
  const brace = v.indexOf('{');
  const tuning = brace >= 0 ? JSON.parse(v.slice(brace)) : {};
  const [kind, route] = (brace >= 0 ? v.slice(0, brace) : v).split(':');
  for (const k of Object.keys(lib.gradWeightTuning)) delete lib.gradWeightTuning[k];
  if (kind === 'gw') Object.assign(lib.gradWeightTuning, tuning);
  // The col2im route's GEMM alone (cols = W^T · dy as a 1x1 conv), on the plan given as JSON.
  if (kind === 'c2gemm') return lib.conv2dWith(Object.keys(tuning).length ? tuning : null, dy, wT, null, {});
  if (kind === 'fwd') return lib.conv2dWith(null, x, w, null, opts);
  if (kind === 'gi') return lib.conv2dGradInputWith(route, dy, w, xShape, opts);
  return lib.conv2dGradWeightWith(route, dy, x, wShape, opts);
};
const res = Object.fromEntries(variants.map((v) => [v, { wall: [], cpu: [] }]));
for (const v of variants) { const t = performance.now(); const y = run(v); await engine.flush(); y.dispose(); console.log(`${v} first ${(performance.now() - t).toFixed(0)} ms`); }
for (let r = 0; r < rounds; r++) for (const v of variants) {
  const c = process.cpuUsage(); const t = performance.now();
  const y = run(v); await engine.flush();
  res[v].wall.push(performance.now() - t); const d = process.cpuUsage(c); res[v].cpu.push((d.user + d.system) / 1000); y.dispose();
}
const med = (a) => { const s = [...a].sort((p, q) => p - q); return s[Math.floor(s.length / 2)]; };
const f = med(res[variants[0]].wall), fc = med(res[variants[0]].cpu);
for (const v of variants) console.log(`${v.padEnd(14)} wall median ${med(res[v].wall).toFixed(1)} ms (min ${Math.min(...res[v].wall).toFixed(1)}), ÷${variants[0]} ${(med(res[v].wall) / f).toFixed(2)}x; cpu median ${med(res[v].cpu).toFixed(0)} ms, ÷ ${(med(res[v].cpu) / fc).toFixed(2)}x`);
engine.dispose(); process.exit(0);
