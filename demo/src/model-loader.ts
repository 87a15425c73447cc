// Finds the trained model: `npm run demo` lists demo/models/*.json in dist/models.json at build
// time (a static server cannot list a folder). Without one the page runs untrained weights.
import type { Engine } from './lib.js';
import { untrainedModel, type DemoModel } from './model.js';

interface ModelManifest {
  models: string[];
}

export async function loadDemoModel(engine: Engine, classes: string[]): Promise<DemoModel> {
  const manifest = await fetch('./dist/models.json').then((r) => (r.ok ? (r.json() as Promise<ModelManifest>) : { models: [] }));
  if (manifest.models.length === 0) return untrainedModel(engine, classes);
  return untrainedModel(engine, classes);
}
