// Exploration only (not the bench suite): times conv2d kernels on the DESIGN.md layers L1-L8.
// Usage: node bench/conv-probe.mjs [--layers L2,L3] [--plans '{"kernel":"direct"}|...'] [--runs 5] [--check]
// Bundles src/ with esbuild so it can force kernel plans through the internal conv2dWith.
import { build } from 'esbuild';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const out = path.join(root, 'dist-test', 'conv-probe.mjs');
await build({
  stdin: {
    contents: `export { createEngine } from './src/engine.ts'; export { conv2dWith, chooseConv2dPlan } from './src/ops/conv.ts'; export { Kernel } from './src/runtime/kernels.ts'; export * as ref from './test/reference.ts';`,
    resolveDir: root, loader: 'ts',
  },
  bundle: true, format: 'esm', platform: 'node', packages: 'external', outfile: out, loader: { '.wgsl': 'text' }, logLevel: 'warning',
});
const lib = await import(pathToFileURL(out).href + `?t=${Date.now()}`);

const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i >= 0 ? process.argv[i + 1] : dflt; };
const LAYERS = {
  L1: { cin: 3, cout: 64, h: 224, k: 3, s: 1, p: 1 },
  L2: { cin: 64, cout: 64, h: 56, k: 3, s: 1, p: 1 },
  L3: { cin: 128, cout: 128, h: 28, k: 3, s: 1, p: 1 },
  L4: { cin: 256, cout: 256, h: 14, k: 3, s: 1, p: 1 },
  L5: { cin: 3, cout: 96, h: 227, k: 11, s: 4, p: 0 },
  L6: { cin: 32, cout: 32, h: 112, k: 3, s: 1, p: 1, dw: true },
  L7: { cin: 512, cout: 4096, h: 7, k: 7, s: 1, p: 0 },
  L8: { cin: 256, cout: 256, h: 28, k: 1, s: 1, p: 0 },
};
const names = arg('--layers', Object.keys(LAYERS).join(',')).split(',');
const plans = arg('--plans', 'auto').split('|').map((s) => (s === 'auto' ? null : JSON.parse(s)));
const runs = Number(arg('--runs', '5'));
const check = process.argv.includes('--check');

const engine = await lib.createEngine();
console.log(`adapter: ${engine.adapterInfo.description} (${engine.adapterInfo.kind})`);
const rand = (n, seed) => { const r = lib.ref.makeRng(seed); const a = new Float32Array(n); for (let i = 0; i < n; i++) a[i] = r() * 2 - 1; return a; };

for (const name of names) {
  const L = LAYERS[name];
  const groups = L.dw ? L.cin : 1;
  const x = engine.tensor(rand(L.cin * L.h * L.h, 1), [1, L.cin, L.h, L.h]);
  const w = engine.tensor(rand(L.cout * (L.cin / groups) * L.k * L.k, 2), [L.cout, L.cin / groups, L.k, L.k]);
  const b = engine.tensor(rand(L.cout, 3), [L.cout]);
  const opts = { stride: L.s, padding: L.p, groups };
  const outH = Math.floor((L.h + 2 * L.p - L.k) / L.s) + 1;
  const flop = 2 * L.cout * outH * outH * (L.cin / groups) * L.k * L.k;
  for (const plan of plans) {
    const label = plan ? JSON.stringify(plan) : `auto ${JSON.stringify(lib.chooseConv2dPlan ? 'chosen' : '')}`;
    try {
      const t0 = performance.now();
      const y0 = lib.conv2dWith(plan, x, w, b, opts);
      await engine.flush();
      const first = performance.now() - t0;
      if (check) {
        const xs = lib.ref.fromValues(x.shape, await x.read());
        const ws = lib.ref.fromValues(w.shape, await w.read());
        const bs = lib.ref.fromValues(b.shape, await b.read());
        const e = lib.ref.conv2d(xs, ws, bs, { stride: [L.s, L.s], pad: [L.p, L.p, L.p, L.p], dilation: [1, 1], groups });
        const msg = lib.ref.allClose(await y0.read(), e.data);
        if (msg) console.log(`  ${name} ${label}: MISMATCH ${msg}`);
      }
      y0.dispose();
      const times = [];
      const cpu = [];
      for (let r = 0; r < runs; r++) {
        const c = process.cpuUsage();
        const t = performance.now();
        const y = lib.conv2dWith(plan, x, w, b, opts);
        await engine.flush();
        times.push(performance.now() - t);
        const d = process.cpuUsage(c);
        cpu.push((d.user + d.system) / 1000);
        y.dispose();
      }
      times.sort((a, b) => a - b);
      cpu.sort((a, b) => a - b);
      const med = times[Math.floor(times.length / 2)];
      const cmed = cpu[Math.floor(cpu.length / 2)];
      console.log(`${name} ${label.padEnd(40)} first ${first.toFixed(0)} ms, median ${med.toFixed(1)} ms, min ${times[0].toFixed(1)} ms, ${(flop / med / 1e6).toFixed(2)} GFLOP/s; cpu median ${cmed.toFixed(0)} ms (${(flop / cmed / 1e6 * 2).toFixed(2)} GFLOP/s per 2 cores)`);
    } catch (e) {
      console.log(`${name} ${label}: ${e.message}`);
    }
  }
  [x, w, b].forEach((t) => t.dispose());
}
engine.dispose();
process.exit(0);
