// Finds the trained models: `npm run demo` lists demo/models/NAME.json files that have a
// NAME.safetensors beside them in dist/models.json at build time (a static server cannot list a
// folder). NAME.json is scripts/train.mjs's record (architecture, input mean/std, classes, test
// accuracy), which parseModelSpec reads. Without one the page runs untrained weights, and says so.
import { loadSafetensors, modelFromSpec, parseModelSpec, type Engine } from '../../src/index.js';
import { finishModel, untrainedModel, type DemoModel } from './model.js';

/** The picker's value for the untrained fallback. */
export const UNTRAINED = 'untrained';

interface ModelManifest {
  models: string[];
}

/** What the training record says beyond the architecture (shown on the page, never needed). */
interface TrainingRecord {
  testAccuracy?: number | null;
  epochsCompleted?: number;
}

async function fetchOk(url: string): Promise<Response> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r;
}

/** Names (NAME for NAME.json + NAME.safetensors) of the trained models the build found. */
export async function listModels(): Promise<string[]> {
  const response = await fetch('./dist/models.json');
  if (!response.ok) return [];
  const manifest = (await response.json()) as ModelManifest;
  return manifest.models;
}

export async function loadTrainedModel(engine: Engine, name: string, fallbackClasses: string[]): Promise<DemoModel> {
  const text = await (await fetchOk(`./models/${name}.json`)).text();
  const spec = parseModelSpec(text);
  const record = JSON.parse(text) as TrainingRecord;
  if (!spec.inputShape) throw new Error(`models/${name}.json has no input shape, which the fully convolutional conversion needs`);
  const bytes = new Uint8Array(await (await fetchOk(`./models/${name}.safetensors`)).arrayBuffer());
  const classifier = modelFromSpec(engine, spec);
  try {
    loadSafetensors(classifier, bytes);
  } catch (e) {
    classifier.dispose();
    throw e;
  }
  const accuracy = typeof record.testAccuracy === 'number' ? `, ${(100 * record.testAccuracy).toFixed(1)}% on the Fashion-MNIST test set` : '';
  const epochs = typeof record.epochsCompleted === 'number' ? `, ${record.epochsCompleted} epochs` : '';
  return finishModel(classifier, {
    inputShape: spec.inputShape,
    classes: spec.classes ?? fallbackClasses,
    trained: true,
    mean: spec.mean?.[0] ?? 0,
    std: spec.std?.[0] ?? 1,
    source: `models/${name}.safetensors (${(bytes.byteLength / 1024).toFixed(0)} KB${epochs}${accuracy})`,
  });
}

/** The named model (default: the first trained one), else untrained weights; `problem` says why a trained one did not load. */
export async function loadDemoModel(engine: Engine, classes: string[], name: string | null): Promise<{ model: DemoModel; problem: string | null }> {
  const wanted = name ?? (await listModels())[0] ?? UNTRAINED;
  if (wanted === UNTRAINED) return { model: untrainedModel(engine, classes), problem: null };
  try {
    return { model: await loadTrainedModel(engine, wanted, classes), problem: null };
  } catch (e) {
    const why = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return { model: untrainedModel(engine, classes), problem: `models/${wanted} did not load (${why})` };
  }
}
