// Finds the trained model: `npm run demo` lists demo/models/*.json in dist/models.json at build
// time (a static server cannot list a folder). Each NAME.json (a model spec: layers, inputShape,
// classes, mean, std) has its weights in NAME.safetensors beside it. Without one the page runs
// untrained weights, and says so.
import { loadSafetensors, modelFromSpec, parseModelSpec, type Engine } from './lib.js';
import { finishModel, untrainedModel, type DemoModel } from './model.js';

interface ModelManifest {
  models: string[];
}

async function fetchOk(url: string): Promise<Response> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r;
}

export async function loadTrainedModel(engine: Engine, specFile: string, fallbackClasses: string[]): Promise<DemoModel> {
  const spec = parseModelSpec(await (await fetchOk(`./models/${specFile}`)).text());
  if (!spec.inputShape) throw new Error(`models/${specFile}: the spec has no inputShape, which the fully convolutional conversion needs`);
  const weightsFile = specFile.replace(/\.json$/, '.safetensors');
  const bytes = new Uint8Array(await (await fetchOk(`./models/${weightsFile}`)).arrayBuffer());
  const classifier = modelFromSpec(engine, spec);
  try {
    loadSafetensors(classifier, bytes);
  } catch (e) {
    classifier.dispose();
    throw e;
  }
  return finishModel(classifier, {
    inputShape: spec.inputShape,
    classes: spec.classes ?? fallbackClasses,
    trained: true,
    mean: spec.mean?.[0] ?? 0,
    std: spec.std?.[0] ?? 1,
    source: `models/${weightsFile} (${(bytes.byteLength / 1024).toFixed(0)} KB)`,
  });
}

/** The first trained model listed, else untrained weights; `problem` says why a listed one did not load. */
export async function loadDemoModel(engine: Engine, classes: string[]): Promise<{ model: DemoModel; problem: string | null }> {
  const response = await fetch('./dist/models.json');
  const manifest: ModelManifest = response.ok ? ((await response.json()) as ModelManifest) : { models: [] };
  const first = manifest.models[0];
  if (!first) return { model: untrainedModel(engine, classes), problem: null };
  try {
    return { model: await loadTrainedModel(engine, first, classes), problem: null };
  } catch (e) {
    const why = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return { model: untrainedModel(engine, classes), problem: `models/${first} did not load (${why})` };
  }
}
