// One engine per test run, with poisoned outputs (NaN) so an element a kernel forgets shows.
import { createEngine, type Engine } from '../src/index.js';

let shared: Promise<Engine> | null = null;

export function getEngine(): Promise<Engine> {
  shared ??= createEngine({ poison: true }).then((e) => {
    const a = e.adapterInfo;
    console.log(`adapter: ${a.vendor} ${a.architecture} ${a.device} (${a.description}) via ${a.runtime}`);
    return e;
  });
  return shared;
}

/** Which runtime the specs were bundled for. */
export const RUNTIME: 'node' | 'browser' = (process.env.FULLCONV_TEST_RUNTIME as 'node' | 'browser' | undefined) ?? 'node';
