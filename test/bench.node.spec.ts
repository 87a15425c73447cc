// The benchmark suite cannot rot: its smoke mode (one case per family, 2 timed runs, fullconv beside
// TensorFlow.js and ONNX Runtime in headless Chromium) runs in a child process and must write a
// results JSON with numbers, a reason wherever an engine has none, and no failed fullconv check.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ok, equal } from './assert.js';
import type { BenchResults } from '../bench/results.js';

const root = process.cwd();

function runSmoke(outDir: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'scripts/bench.mjs'), '--smoke', '--out', outDir], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('bench: the smoke run', function () {
  this.timeout(150_000);
  let results: BenchResults;
  let outDir: string;
  let files: string[];

  before(async () => {
    outDir = mkdtempSync(path.join(os.tmpdir(), 'fullconv-bench-'));
    const { code, output } = await runSmoke(outDir);
    equal(code, 0, `scripts/bench.mjs --smoke exited with ${code}:\n${output.slice(-4000)}`);
    files = readdirSync(outDir);
    const json = files.find((f) => f.endsWith('-smoke.json'));
    ok(json, `no results JSON in ${outDir}: ${files.join(', ')}\n${output.slice(-2000)}`);
    results = JSON.parse(readFileSync(path.join(outDir, json), 'utf8')) as BenchResults;
  });

  after(() => {
    if (outDir && existsSync(outDir)) rmSync(outDir, { recursive: true, force: true });
  });

  it('writes JSON, Markdown and SVG beside each other', () => {
    for (const ext of ['.json', '.md', '.svg']) ok(files.some((f) => f.endsWith(`-smoke${ext}`)), `no ${ext} in ${files.join(', ')}`);
    ok(!results.incomplete, 'the run stopped early');
  });

  it('measures the adapter ceilings', () => {
    const c = results.ceilings;
    ok(c, 'no ceilings');
    ok(c.fmaGflops > 0 && Number.isFinite(c.fmaGflops), `FMA peak ${c.fmaGflops}`);
    ok(c.copyGBps > 0 && c.copyBufferGBps > 0, `copy ${c.copyGBps} / ${c.copyBufferGBps}`);
  });

  it('runs one case of every family, with numbers or a reason for each engine', () => {
    const families = new Set(results.cases.map((r) => r.family));
    for (const f of ['conv', 'pool', 'conv-grad', 'pool-grad', 'net', 'fcn', 'dispatch']) ok(families.has(f as never), `no ${f} case`);
    let timed = 0;
    for (const r of results.cases) {
      if (!r.impls) {
        ok(r.status === 'ok' ? (r.metrics?.length ?? 0) > 0 : !!r.reason, `${r.id}: status ${r.status} without metrics or reason`);
        continue;
      }
      for (const [name, x] of Object.entries(r.impls)) {
        if (x.status === 'ok') {
          ok(x.timing && x.timing.runs === 2 && x.timing.gpuMs > 0 && x.timing.readMs >= x.timing.gpuMs, `${r.id} ${name}: timing ${JSON.stringify(x.timing)}`);
          ok(x.rate! > 0 && Number.isFinite(x.rate!), `${r.id} ${name}: rate ${x.rate}`);
          ok(x.check?.passed, `${r.id} ${name}: ok without a passed check`);
          timed++;
        } else ok(x.reason && x.reason.length > 0, `${r.id} ${name}: ${x.status} without a reason`);
      }
    }
    ok(timed >= 5, `only ${timed} timed engine runs`);
  });

  it('has no failed fullconv correctness check', () => {
    const bad = results.cases.filter((r) => ['wrong', 'failed'].includes(r.impls?.fullconv?.status ?? r.status ?? 'ok'));
    equal(bad.map((r) => `${r.id}: ${r.impls?.fullconv?.reason ?? r.reason}`).join('\n'), '');
  });
});
