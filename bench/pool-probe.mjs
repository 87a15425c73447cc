// Exploration only (not the bench suite): the pool ops of a git revision ("old", --base, default
// HEAD) vs the working tree ("new") vs the WGSL copy kernel, interleaved in one process (Node,
// Dawn; on SwiftShader timings move ±30% between processes). Best round of --runs, each round
// --reps dispatches per flush; --cpu ranks by process CPU time (steadier on a loaded machine).
// node bench/pool-probe.mjs [--cases max2s2,max3s2p1,avg2s2,l2_2s2] [--dirs fwd,grad] [--shapes 64x112,256x56]
//   [--which old,new] [--base REV] [--runs 5] [--reps 4] [--cpu] [--check] [--tune '{"gradWG":64};{"gradWG":256}']
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const out = path.join(root, 'dist-test', 'pool-probe.mjs');
const base = (() => { const i = process.argv.indexOf('--base'); return i >= 0 ? process.argv[i + 1] : 'HEAD'; })();
const oldDir = path.join(root, 'dist-test', 'pool-probe-old');
mkdirSync(path.join(oldDir, 'ops'), { recursive: true });
mkdirSync(path.join(oldDir, 'shaders'), { recursive: true });
const show = (file) => execFileSync('git', ['show', `${base}:${file}`], { cwd: root, encoding: 'utf8' });
// The old pool.ts imports the working tree's modules, except its own shaders.
writeFileSync(path.join(oldDir, 'ops', 'pool.ts'), show('src/ops/pool.ts')
  .replace(/from '\.\.\/([a-z_/]+)\.js'/g, (_, m) => `from '${root}/src/${m}.ts'`)
  .replace(/from '\.\/([a-z_]+)\.js'/g, (_, m) => `from '${root}/src/ops/${m}.ts'`)
  .replace(/'\.\.\/\.\.\/shaders\//g, "'../shaders/"));
for (const f of ['pool2d.wgsl', 'pool2d_grad.wgsl']) writeFileSync(path.join(oldDir, 'shaders', f), show(`shaders/${f}`));
await build({
  stdin: {
    contents: `export { createEngine } from './src/engine.ts'; export * as nu from './src/ops/pool.ts'; export * as old from '${oldDir}/ops/pool.ts'; export { Kernel } from './src/runtime/kernels.ts'; export * as ref from './test/reference.ts'; export { default as copySource } from './bench/shaders/copy_bandwidth.wgsl';`,
    resolveDir: root, loader: 'ts',
  },
  bundle: true, format: 'esm', platform: 'node', packages: 'external', outfile: out, loader: { '.wgsl': 'text' }, logLevel: 'warning',
});
const lib = await import(pathToFileURL(out).href + `?t=${Date.now()}`);
const arg = (n, d) => { const i = process.argv.indexOf(n); return i >= 0 ? process.argv[i + 1] : d; };
const runs = Number(arg('--runs', '5'));
const which = arg('--which', 'old,new').split(',');
const check = process.argv.includes('--check');
const POOLS = { max2s2: ['max', 2, 2, 0], max3s2p1: ['max', 3, 2, 1], avg2s2: ['avg', 2, 2, 0], l2_2s2: ['l2', 2, 2, 0] };
const caseNames = arg('--cases', Object.keys(POOLS).join(',')).split(',');
const dirs = arg('--dirs', 'fwd,grad').split(',');
const shapes = arg('--shapes', '64x112,256x56').split(',').map((s) => s.split('x').map(Number));
const engine = await lib.createEngine({ poison: check });

console.log(`adapter: ${engine.adapterInfo.description} (${engine.adapterInfo.kind})`);
const rand = (n, seed) => { const r = lib.ref.makeRng(seed); const a = new Float32Array(n); for (let i = 0; i < n; i++) a[i] = r() * 2 - 1; return a; };
const copyKernel = new lib.Kernel('copy_bandwidth.wgsl', lib.copySource, 'main');
async function time(fn) {
  let t0 = performance.now(); let r = fn(); await engine.flush(); const first = performance.now() - t0;
  if (r) r.dispose?.();
  const ts = [];
  for (let i = 0; i < runs; i++) { t0 = performance.now(); r = fn(); await engine.flush(); ts.push(performance.now() - t0); r?.dispose?.(); }
  ts.sort((a, b) => a - b);
  return { med: ts[Math.floor(ts.length / 2)], min: ts[0], first };
}
async function copyGBps(bytes) {
  const n = bytes / 4; const src = engine.tensor(rand(n, 9), [n]); const dst = engine.empty([n]);
  const t = await time(() => { engine.run(copyKernel, { src, dst }, { count: n / 4 }, Math.ceil(n / 4 / 256)); });
  src.dispose(); dst.dispose();
  return (2 * bytes) / (t.min * 1e6);
}
const reps = Number(arg('--reps', '4'));
/** Interleaved rounds: each variant runs `reps` dispatches per flush; best round per variant. */
async function race(variants) {
  for (const v of variants) { const r = v.fn(); await engine.flush(); r?.dispose?.(); }
  const best = variants.map(() => Infinity);
  const cpu = variants.map(() => Infinity);
  for (let round = 0; round < runs; round++) {
    for (let i = 0; i < variants.length; i++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const made = [];
      for (let k = 0; k < reps; k++) made.push(variants[i].fn());
      await engine.flush();
      best[i] = Math.min(best[i], (performance.now() - t0) / reps);
      const d = process.cpuUsage(c0);
      cpu[i] = Math.min(cpu[i], (d.user + d.system) / 1000 / reps);
      made.forEach((r) => r?.dispose?.());
    }
  }
  return cpuMode ? cpu : best;
}
const cpuMode = process.argv.includes('--cpu');
for (const [C, S] of shapes) {
  const xs = [1, C, S, S];
  const x = engine.tensor(rand(C * S * S, 1), xs);
  const n = C * S * S;
  const cs = engine.tensor(rand(n, 9), [n]); const cd = engine.empty([n]);
  const copyVariant = { name: 'copy', fn: () => { engine.run(copyKernel, { src: cs, dst: cd }, { count: n / 4 }, Math.ceil(n / 4 / 256)); } };
  console.log(`\n${C}x${S}x${S}`);
  for (const name of caseNames) {
    const [mode, k, s, pad] = POOLS[name];
    const opts = mode === 'l2' ? { kernel: k, stride: s, padding: pad, p: 2 } : { kernel: k, stride: s, padding: pad };
    const o = Math.floor((S + 2 * pad - k) / s) + 1;
    const ys = [1, C, o, o];
    const bytes = 4 * (C * S * S + C * o * o);
    const dy = engine.tensor(rand(C * o * o, 2), ys);
    for (const dir of dirs) {
      const variants = [copyVariant];
      const extra = [];
      for (const w of which) {
        const m = w === 'new' ? lib.nu : lib[w];
        let fn;
        if (dir === 'fwd') fn = () => (mode === 'max' ? m.maxPool2d(x, opts) : mode === 'avg' ? m.avgPool2d(x, opts) : m.lpPool2d(x, opts));
        else if (mode === 'max') { const { output, indices } = lib.nu.maxPool2dWithIndices(x, opts); extra.push(output, indices); fn = () => m.maxPool2dGrad(dy, indices, xs); }
        else if (mode === 'avg') fn = () => m.avgPool2dGrad(dy, xs, opts);
        else { const y = lib.old.lpPool2d(x, opts); extra.push(y); fn = () => m.lpPool2dGrad(dy, x, y, opts); }
        if (w === 'new' && arg('--tune')) {
          for (const t of arg('--tune').split(';')) {
            const tune = JSON.parse(t);
            variants.push({ name: `new ${t}`, fn: () => { const keep = { ...lib.nu.poolTuning }; Object.assign(lib.nu.poolTuning, tune); try { return fn(); } finally { for (const k of Object.keys(lib.nu.poolTuning)) if (!(k in keep)) delete lib.nu.poolTuning[k]; Object.assign(lib.nu.poolTuning, keep); } } });
          }
        } else variants.push({ name: w, fn });
      }
      if (process.argv.includes('--exp') && dir === 'fwd' && name === 'max2s2') {
        const { readFileSync } = await import('node:fs');
        const k = new lib.Kernel('p22.wgsl', readFileSync('/tmp/exp/p22.wgsl', 'utf8'), 'main');
        for (const ov of [1, 2, 4]) for (const wg of [64, 256]) {
          if ((o / 4) % ov) continue; const bpr = o / 4 / ov; const blocks = C * o * bpr;
          variants.push({ name: `p22 ov${ov} wg${wg}`, fn: () => { const y = engine.empty(ys); engine.run(k, { xv: x, yv: y }, { blocks, blocksPerRow: bpr, outH: o, inRowVecs: S / 4, outRowVecs: o / 4 }, Math.ceil(blocks / wg), { OV: ov, WG: wg }); return y; } });
        }
        const wg64 = new lib.Kernel('copy64.wgsl', lib.copySource.replaceAll('256', '64'), 'main');
        variants.push({ name: 'copy wg64', fn: () => { engine.run(wg64, { src: cs, dst: cd }, { count: n / 4 }, Math.ceil(n / 4 / 64)); } });
      }
      const best = await race(variants);
      const copyGB = (2 * 4 * n) / (best[0] * 1e6);
      const line = variants.slice(1).map((v, i) => { const gb = bytes / (best[i + 1] * 1e6); return `${v.name}: ${best[i + 1].toFixed(2)} ms ${gb.toFixed(3)} GB/s ${(100 * gb / copyGB).toFixed(0)}%`; });
      console.log(`${dir.padEnd(4)} ${name.padEnd(9)} copy ${copyGB.toFixed(3)} GB/s\n    ${line.join('\n    ')}`);
      if (check) {
        const res = [];
        for (const v of variants.slice(1)) { const r = v.fn(); res.push(await r.read()); r.dispose(); }
        for (let j = 1; j < res.length; j++) {
          let bad = 0; for (let i = 0; i < res[0].length; i++) { const d = Math.abs(res[0][i] - res[j][i]); if (!(d <= 1e-5 * (1 + Math.abs(res[0][i])))) bad++; }
          if (bad) console.log(`   MISMATCH ${variants[j + 1].name}: ${bad}`);
        }
      }
      extra.forEach((e) => e.dispose());
    }
    dy.dispose();
  }
  x.dispose(); cs.dispose(); cd.dispose();
}
engine.dispose();
process.exit(0);
