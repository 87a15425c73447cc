// The demo's classifier: trained weights from demo/models/ when they are there, else the same kind
// of network with fresh random weights (said plainly on the page). Both become fully convolutional.
import { Conv2d, modelFromSpec, type Engine, type ModelGeometry, type ModelSpec, type Sequential } from './lib.js';

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

/** A LeNet-like classifier without padding, so fully convolutional and sliding-window scores agree exactly. */
export const UNTRAINED_SPEC: ModelSpec = {
  inputShape: [1, 28, 28],
  layers: [
    { type: 'Conv2d', cin: 1, cout: 8, kernel: 5 }, { type: 'ReLU' }, { type: 'MaxPool2d', kernel: 2 },
    { type: 'Conv2d', cin: 8, cout: 16, kernel: 5 }, { type: 'ReLU' }, { type: 'MaxPool2d', kernel: 2 },
    { type: 'Flatten' }, { type: 'Linear', in: 16 * 4 * 4, out: 64 }, { type: 'ReLU' }, { type: 'Linear', in: 64, out: 10 },
  ],
};

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
  return finishModel(modelFromSpec(engine, UNTRAINED_SPEC, { seed: RANDOM_SEED }), {
    inputShape: [1, 28, 28],
    classes,
    trained: false,
    mean: 0,
    std: 1,
    source: `random weights (seed ${RANDOM_SEED})`,
  });
}

export function disposeModel(m: DemoModel | null): void {
  if (!m) return;
  m.fcn.dispose();
  m.classifier.dispose();
}
