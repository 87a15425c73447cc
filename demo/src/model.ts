// The demo's classifier: trained weights from demo/models/ when they are there, else the same kind
// of network with fresh random weights (said plainly on the page). Both become fully convolutional.
import { Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential, type Engine, type ModelGeometry } from './lib.js';

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
function randomClassifier(engine: Engine): Sequential {
  return new Sequential(engine, [
    new Conv2d(1, 8, 5), new ReLU(), new MaxPool2d({ kernel: 2 }),
    new Conv2d(8, 16, 5), new ReLU(), new MaxPool2d({ kernel: 2 }),
    new Flatten(), new Linear(16 * 4 * 4, 64), new ReLU(), new Linear(64, 10),
  ], { seed: RANDOM_SEED });
}

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
  return finishModel(randomClassifier(engine), {
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
