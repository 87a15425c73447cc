// `npm run bench -- --node`: fullconv alone on Dawn (the `webgpu` package), checked against the
// float64 reference. Events go to stdout as `@@bench <json>` lines for scripts/bench.mjs.
import { createEngine } from './api.js';
import type { BenchEvent } from './results.js';
import { runBench, type RunOptions } from './runner.js';

export { selectCases } from './runner.js';

const emit = (e: BenchEvent): void => {
  process.stdout.write(`@@bench ${JSON.stringify(e)}\n`);
};

async function main(config: RunOptions): Promise<void> {
  const engine = await createEngine();
  const checkEngine = await createEngine({ poison: true });
  const reason = 'Node run (--node): fullconv alone on Dawn';
  const gc = (globalThis as { gc?: () => void }).gc;
  await runBench({ engine, checkEngine, peers: { reasons: { tfjs: reason, ort: reason } }, runtime: 'node', emit, ...(gc ? { collectGarbage: gc } : {}) }, config);
  engine.dispose();
  checkEngine.dispose();
}

// Imported without a config (scripts/bench.mjs --list), it only lends its case list.
const configText = process.env.FULLCONV_BENCH_CONFIG;
if (configText) {
  try {
    await main(JSON.parse(configText) as RunOptions);
  } catch (e) {
    emit({ kind: 'fatal', error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
  // Dawn keeps the process alive; the run is over.
  process.exit(0);
}
