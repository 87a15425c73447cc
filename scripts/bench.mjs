// The benchmark suite: fullconv beside TensorFlow.js (WebGPU) and ONNX Runtime Web (WebGPU EP) in
// headless Chromium, or fullconv alone on Dawn with --node. Writes bench/results/<date>-<adapter>.{json,md,svg}.
//
//   npm run bench                       every case (under 10 minutes on 2 CPU cores with SwiftShader)
//   npm run bench -- --cases conv,pool  families, case ids or regular expressions over ids (conv/L2, /L[23]$/)
//   npm run bench -- --repeats 20       exactly N timed runs per engine and case
//   npm run bench -- --quick            3 timed runs, shorter ceilings
//   npm run bench:smoke                 one case per family, 2 runs (results under bench/results/tmp/)
//   npm run bench -- --node             fullconv alone in Node on Dawn, checked against the float64 reference
//   other options: --out DIR, --budget-ms N (more runs while a case's engine is under N ms, default 1500),
//   --cap-ms N (fewer runs, at least 1, where 10 would pass N ms; default 12000), --no-tfjs, --no-ort, --list
import { dawnEnv } from './node-env.mjs';
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import { launchBrowser } from './browser.mjs';
import { serve } from './serve.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const buildDir = path.join(root, 'bench/.build');
/** No event for this long means the run hangs: write what there is and stop. */
const INACTIVITY_MS = 8 * 60 * 1000;

function parseArgs(argv) {
  const o = { cases: null, repeats: null, quick: false, smoke: false, node: false, out: null, budgetMs: 1500, capMs: 12000, tfjs: true, ort: true, list: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--cases') o.cases = value();
    else if (a === '--repeats') o.repeats = positiveInt(a, value());
    else if (a === '--budget-ms') o.budgetMs = positiveInt(a, value());
    else if (a === '--cap-ms') o.capMs = positiveInt(a, value());
    else if (a === '--out') o.out = path.resolve(value());
    else if (a === '--quick') o.quick = true;
    else if (a === '--smoke') o.smoke = true;
    else if (a === '--node') o.node = true;
    else if (a === '--no-tfjs') o.tfjs = false;
    else if (a === '--no-ort') o.ort = false;
    else if (a === '--list') o.list = true;
    else if (a === '--help' || a === '-h') {
      console.log(readUsage());
      process.exit(0);
    } else throw new Error(`unknown option ${a} (try --help)`);
  }
  o.out ??= path.join(root, o.smoke ? 'bench/results/tmp' : 'bench/results');
  return o;
}

function positiveInt(name, v) {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
  return n;
}

function readUsage() {
  return 'usage: node scripts/bench.mjs [--cases LIST] [--repeats N] [--quick] [--smoke] [--node] [--out DIR] [--budget-ms N] [--cap-ms N] [--no-tfjs] [--no-ort] [--list]';
}

const common = { bundle: true, format: 'esm', target: 'es2022', loader: { '.wgsl': 'text' }, sourcemap: true, logLevel: 'warning', absWorkingDir: root };

async function buildBench(opts) {
  mkdirSync(buildDir, { recursive: true });
  await build({ ...common, entryPoints: ['bench/report.ts'], outfile: 'bench/.build/report.mjs', platform: 'node', packages: 'external' });
  if (opts.node || opts.list) {
    await build({ ...common, entryPoints: ['bench/node_main.ts'], outfile: 'bench/.build/node.mjs', platform: 'node', packages: 'external' });
  }
  if (!opts.node && !opts.list) {
    await build({
      ...common,
      entryPoints: ['bench/page.ts'],
      outfile: 'bench/.build/page.js',
      platform: 'browser',
      external: ['webgpu', 'node:*'],
      define: { 'process.env.NODE_ENV': '"production"' },
    });
  }
}


/** Collects events into a results object and prints a line per case. */
function collector(report) {
  const res = { meta: null, ceilings: null, cases: [], totalMs: 0 };
  let finished = null;
  let lastEvent = Date.now();
  const done = new Promise((resolve) => (finished = resolve));
  const handle = (e) => {
    lastEvent = Date.now();
    if (e.kind === 'meta') {
      res.meta = e.meta;
      const a = e.meta.adapter;
      console.log(`adapter: ${[a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / ')} (${a.kind}) via ${e.meta.runtime}${e.meta.browser ? ` — ${e.meta.browser}` : ''}`);
      for (const [k, v] of Object.entries(e.meta.peers)) if (k !== 'fullconv') console.log(`peer ${k}: ${v.version ?? ''} ${v.status}`);
    } else if (e.kind === 'ceilings') {
      res.ceilings = e.ceilings;
      const c = e.ceilings;
      console.log(`ceilings: FMA ${c.fmaGflops.toFixed(1)} GFLOP/s (${Object.entries(c.fmaByVariant).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}), copy kernel ${c.copyGBps.toFixed(2)} GB/s, copyBufferToBuffer ${c.copyBufferGBps.toFixed(2)} GB/s`);
    } else if (e.kind === 'case') {
      res.cases.push(e.result);
      console.log(report.progressLine(e.result, e.index, e.total));
    } else if (e.kind === 'log') console.log(e.text);
    else if (e.kind === 'done') {
      res.totalMs = e.totalMs;
      finished({ ok: true });
    } else if (e.kind === 'fatal') {
      console.error(`bench failed: ${e.error}`);
      finished({ ok: false });
    }
  };
  const watchdog = setInterval(() => {
    if (Date.now() - lastEvent > INACTIVITY_MS) {
      console.error(`bench: no progress for ${INACTIVITY_MS / 60000} minutes; stopping with partial results`);
      finished({ ok: false });
    }
  }, 10000);
  return { res, handle, done: done.finally(() => clearInterval(watchdog)) };
}

/**
 * launchBrowser removes the profile on 'disconnected' with a plain rmSync, which throws ENOTEMPTY
 * (and kills this process before it writes results) while Chromium still flushes files there:
 * remove it with retries, quietly, instead.
 */
function quietProfileCleanup(browser) {
  const flag = browser.process()?.spawnargs.find((a) => a.startsWith('--user-data-dir='));
  if (!flag) return;
  browser.removeAllListeners('disconnected');
  browser.once('disconnected', () => {
    try {
      rmSync(flag.slice('--user-data-dir='.length), { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    } catch {
      // a leftover temporary profile is harmless
    }
  });
}

async function runBrowser(opts, c) {
  const browser = await launchBrowser(['--js-flags=--expose-gc']);
  quietProfileCleanup(browser);
  // puppeteer names every Chromium build "Chrome/<version>": say which one it is.
  const reported = await browser.version();
  const version = /chromium/i.test(browser.process()?.spawnfile ?? '') ? reported.replace(/^(Headless)?Chrome\//, 'Chromium ') : reported;
  const config = { cases: opts.cases, repeats: opts.repeats, quick: opts.quick, smoke: opts.smoke, budgetMs: opts.budgetMs, capMs: opts.capMs, browser: version, peers: { tfjs: opts.tfjs, ort: opts.ort } };
  const html = '<!doctype html><meta charset="utf-8"><title>fullconv bench</title><script type="module" src="/bench/.build/page.js"></script>';
  const { server, url } = await serve(root, { '/bench.html': { type: 'text/html', body: html }, '/favicon.ico': { type: 'image/svg+xml', body: '<svg xmlns="http://www.w3.org/2000/svg"/>' }, '/bench-config.json': { type: 'application/json', body: JSON.stringify(config) } });
  try {
    const page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') console.log(`  [page error] ${m.text()}`);
    });
    page.on('pageerror', (e) => console.log(`  [page exception] ${e.message}`));
    page.on('crash', () => c.handle({ kind: 'fatal', error: 'the page crashed (out of memory?)' }));
    await page.exposeFunction('__bench', (e) => c.handle(e));
    await page.goto(`${url}/bench.html`);
    return await c.done;
  } finally {
    await browser.close().catch(() => undefined);
    server.close();
  }
}

function runNode(opts, c) {
  const config = { cases: opts.cases, repeats: opts.repeats, quick: opts.quick, smoke: opts.smoke, budgetMs: opts.budgetMs, capMs: opts.capMs };
  const child = spawn(process.execPath, ['--expose-gc', path.join(buildDir, 'node.mjs')], {
    cwd: root,
    env: { ...dawnEnv(), FULLCONV_BENCH_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let buffered = '';
  child.stdout.on('data', (d) => {
    buffered += d;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.startsWith('@@bench ')) c.handle(JSON.parse(line.slice(8)));
      else if (line.trim()) console.log(`  [node] ${line}`);
    }
  });
  child.on('close', (code) => c.handle(code === 0 ? { kind: 'log', text: '' } : { kind: 'fatal', error: `the Node bench exited with code ${code}` }));
  return c.done.finally(() => child.kill());
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  await buildBench(opts);
  const report = await import(pathToFileURL(path.join(buildDir, 'report.mjs')).href);
  if (opts.list) {
    const { selectCases } = await import(pathToFileURL(path.join(buildDir, 'node.mjs')).href);
    for (const k of selectCases(opts)) console.log(`${k.id}\t${k.title} — ${k.shape}`);
    return 0;
  }
  const c = collector(report);
  const started = Date.now();
  const outcome = opts.node ? await runNode(opts, c) : await runBrowser(opts, c);
  if (!c.res.meta) {
    console.error('bench: no results (the page or the Node run failed before starting)');
    return 1;
  }
  if (!outcome.ok) c.res.incomplete = true;
  c.res.totalMs ||= Date.now() - started;
  const files = report.writeResults(c.res, opts.out);
  const wrong = c.res.cases.filter((r) => r.impls?.fullconv && ['wrong', 'failed'].includes(r.impls.fullconv.status)).map((r) => r.id);
  console.log(`\n${c.res.cases.length} cases in ${(c.res.totalMs / 1000).toFixed(0)} s${wrong.length ? `; fullconv wrong or failed: ${wrong.join(', ')}` : ''}`);
  console.log(`wrote ${path.relative(root, files.json)}, ${path.relative(root, files.md)}, ${path.relative(root, files.svg)}`);
  return outcome.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e && e.stack ? e.stack : e);
    process.exit(1);
  },
);
