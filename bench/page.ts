// The bench page: loads fullconv and the peers in headless Chromium and runs the suite,
// reporting each event to the Node side through window.__bench (puppeteer's exposeFunction).
import { createEngine } from './api.js';
import { loadOrt } from './peers/ort.js';
import { loadTf } from './peers/tfjs_load.js';
import type { BenchEvent } from './results.js';
import { runBench, type Peers, type RunOptions } from './runner.js';

interface BenchWindow {
  __bench(e: BenchEvent): Promise<void>;
  gc?: () => void;
}

const win = window as unknown as BenchWindow;
const config = (await (await fetch('/bench-config.json')).json()) as RunOptions & { browser?: string; peers: ImplFlags };

interface ImplFlags {
  tfjs: boolean;
  ort: boolean;
}

const reason = (what: string, e: unknown): string => `${what} failed to load: ${e instanceof Error ? e.message : String(e)}`;

try {
  const engine = await createEngine();
  const checkEngine = await createEngine({ poison: true });
  const peers: Peers = { reasons: {} };
  if (config.peers.tfjs) {
    try {
      peers.tf = await loadTf();
    } catch (e) {
      peers.reasons.tfjs = reason('TensorFlow.js', e);
    }
  } else peers.reasons.tfjs = 'left out (--no-tfjs)';
  if (config.peers.ort) {
    try {
      peers.ort = await loadOrt();
    } catch (e) {
      peers.reasons.ort = reason('ONNX Runtime Web', e);
    }
  } else peers.reasons.ort = 'left out (--no-ort)';
  await runBench(
    { engine, checkEngine, peers, runtime: 'browser', ...(config.browser ? { browser: config.browser } : {}), emit: (e) => win.__bench(e), collectGarbage: () => win.gc?.() },
    config,
  );
} catch (e) {
  await win.__bench({ kind: 'fatal', error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
}
