// Runs the same mocha specs in Node (Dawn) and in headless Chromium; fails if either fails.
// Usage: node scripts/test.mjs [--node] [--browser] [--grep PATTERN]
import { dawnEnv } from './node-env.mjs';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { launchBrowser } from './browser.mjs';
import { serve } from './serve.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const argv = process.argv.slice(2);
const grepAt = argv.indexOf('--grep');
const grep = grepAt >= 0 ? argv[grepAt + 1] : process.env.FULLCONV_GREP;
const onlyNode = argv.includes('--node');
const onlyBrowser = argv.includes('--browser');
const TEST_TIMEOUT_MS = 300000;


function runNode() {
  return new Promise((resolve) => {
    const args = [path.join(root, 'node_modules/mocha/bin/mocha.js'), '--timeout', String(TEST_TIMEOUT_MS), '--reporter', 'spec', '--reporter-option', 'maxDiffSize=2000', 'dist-test/node.mjs'];
    if (grep) args.push('--grep', grep);
    console.log('=== Node (Dawn) ===');
    const child = spawn(process.execPath, args, { cwd: root, env: dawnEnv(), stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.on('close', (code) => {
      const passed = Number(/(\d+) passing/.exec(out)?.[1] ?? 0);
      const failed = Number(/(\d+) failing/.exec(out)?.[1] ?? 0);
      const pending = Number(/(\d+) pending/.exec(out)?.[1] ?? 0);
      resolve({ passed, failed: failed + (code !== 0 && failed === 0 ? 1 : 0), pending });
    });
  });
}

const PAGE = (grepPattern) => `<!doctype html><meta charset="utf-8"><title>fullconv tests</title>
<div id="mocha"></div>
<script src="/node_modules/mocha/mocha.js"></script>
<script>
  mocha.setup({ ui: 'bdd', timeout: ${TEST_TIMEOUT_MS}, reporter: function (runner) {
    const path = (t) => t.titlePath().join(' > ');
    runner.on('pass', (t) => window.__report({ kind: 'pass', title: path(t), ms: t.duration }));
    runner.on('fail', (t, err) => window.__report({ kind: 'fail', title: path(t), error: String(err && (err.stack || err.message) || err) }));
    runner.on('pending', (t) => window.__report({ kind: 'pending', title: path(t) }));
    runner.on('end', () => window.__report({ kind: 'end' }));
  } });
  ${grepPattern ? `mocha.grep(${JSON.stringify(grepPattern)});` : ''}
</script>
<script type="module">
  try { await import('/dist-test/browser.js'); mocha.run(); }
  catch (e) { window.__report({ kind: 'fail', title: 'loading the specs', error: String(e && e.stack || e) }); window.__report({ kind: 'end' }); }
</script>`;

async function runBrowser() {
  console.log('=== Chromium (headless, WebGPU) ===');
  const counts = { passed: 0, failed: 0, pending: 0 };
  let browser;
  const { server, url } = await serve(root, { '/test.html': { type: 'text/html', body: PAGE(grep) } });
  try {
    browser = await launchBrowser();
    console.log(`browser: ${await browser.version()}`);
    const page = await browser.newPage();
    page.on('console', (m) => {
      const text = m.text();
      if (m.type() === 'error' || text.startsWith('adapter:') || text.startsWith('[fullconv]')) console.log(`  [page ${m.type()}] ${text}`);
    });
    page.on('pageerror', (e) => console.log(`  [page error] ${e.message}`));
    const done = new Promise((resolve) => {
      page.exposeFunction('__report', (ev) => {
        if (ev.kind === 'pass') {
          counts.passed++;
          console.log(`  ✔ ${ev.title} (${ev.ms ?? 0} ms)`);
        } else if (ev.kind === 'fail') {
          counts.failed++;
          console.log(`  ✘ ${ev.title}\n${ev.error.split('\n').map((l) => '      ' + l).join('\n')}`);
        } else if (ev.kind === 'pending') {
          counts.pending++;
          console.log(`  - ${ev.title} (pending)`);
        } else if (ev.kind === 'end') resolve();
      });
    });
    await page.goto(`${url}/test.html`);
    await done;
    mkdirSync(path.join(root, 'test-artifacts'), { recursive: true });
  } catch (e) {
    counts.failed++;
    console.log(`  ✘ the browser run failed: ${e && e.stack ? e.stack : e}`);
  } finally {
    await browser?.close().catch(() => undefined);
    server.close();
  }
  console.log(`  ${counts.passed} passing, ${counts.failed} failing, ${counts.pending} pending (Chromium)`);
  return counts;
}

const results = [];
if (!onlyBrowser) results.push(await runNode());
if (!onlyNode) results.push(await runBrowser());
const passed = results.reduce((a, r) => a + r.passed, 0);
const failed = results.reduce((a, r) => a + r.failed, 0);
const skipped = results.reduce((a, r) => a + r.pending, 0);
console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
