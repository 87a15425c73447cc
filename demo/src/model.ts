// The demo's classifier: trained weights from demo/models/ when they are there, else the same kind
// of network with fresh random weights (said plainly on the page). Both become fully convolutional.
import { ARCHITECTURES, Conv2d, modelFromSpec, type Engine, type ModelGeometry, type Sequential } from '../../src/index.js';

export interface DemoModel {
  /** The classifier as trained, on [C, H, W] crops. */
  classifier: Sequential;
  /** classifier.toFullyConvolutional(inputShape): any image at least H×W. */
  fcn: Sequential;
  inputShape: [number, number, number];
  classes: string[];
  trained: boolean;
  /** Input scaling: the network sees (gray - mean) / std, gray in [0, 1]. */
  mean: number;
  std: number;
  /** Where the weights came from, for the page. */
  source: string;
  /** Padding makes the fully convolutional answer differ from per-crop classification near windows' edges. */
  padded: boolean;
  geometryFor(height: number, width: number): ModelGeometry;
}

/** The seed of the untrained fallback, so its answers are the same on every load. */
const RANDOM_SEED = 20240607;

export function finishModel(classifier: Sequential, fields: Omit<DemoModel, 'classifier' | 'fcn' | 'geometryFor' | 'padded'>): DemoModel {
  classifier.eval();
  const fcn = classifier.toFullyConvolutional(fields.inputShape);
  fcn.eval();
  const padded = classifier.layers.some((l) => l instanceof Conv2d && hasPadding(l));
  return {
    ...fields,
    classifier,
    fcn,
    padded,
    geometryFor: (height, width) => fcn.geometry([fields.inputShape[0], height, width]),
  };
}

function hasPadding(layer: Conv2d): boolean {
  const p = layer.convOptions.padding;
  if (p === undefined || p === 'valid') return false;
  if (typeof p === 'number') return p > 0;
  if (p === 'same') return layer.kernel.some((k) => k > 1);
  return p.some((v) => v > 0);
}

export function untrainedModel(engine: Engine, classes: string[]): DemoModel {
  // The network scripts/train.mjs trains (LeNet-style, no padding), with torch's initial weights.
  const spec = ARCHITECTURES.lenet!;
  return finishModel(modelFromSpec(engine, spec, { seed: RANDOM_SEED }), {
    inputShape: spec.inputShape ?? [1, 28, 28],
    classes: spec.classes ?? classes,
    trained: false,
    mean: spec.mean?.[0] ?? 0,
    std: spec.std?.[0] ?? 1,
    source: `the LeNet architecture with random weights (seed ${RANDOM_SEED})`,
  });
}

export function disposeModel(m: DemoModel | null): void {
  if (!m) return;
  m.fcn.dispose();
  m.classifier.dispose();
}
