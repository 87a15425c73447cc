// The small networks the nn and fcn specs share, each with its float64 twin (test/nn_reference.ts).
import {
  AvgPool2d, ChannelLpPool, Conv2d, Flatten, Linear, LpPool2d, MaxPool2d, ReLU, Sequential, Softmax,
  type Engine, type Tensor,
} from '../src/index.js';
import * as ref from './reference.js';
import { convOpts, poolOpts, type RefLayer } from './nn_reference.js';

export interface TestNet {
  model: Sequential;
  reference: RefLayer[];
}

const RELU: RefLayer = { kind: 'relu' };
const FLATTEN: RefLayer = { kind: 'flatten' };
const LINEAR: RefLayer = { kind: 'linear' };

/** LeNet-like, 1×28×28: conv5→6, relu, maxpool2, conv5→16, relu, maxpool2, flatten, 256→120→84→10. */
export function lenet(engine: Engine, seed: number): TestNet {
  const model = new Sequential(engine, [
    new Conv2d(1, 6, 5), new ReLU(), new MaxPool2d({ kernel: 2 }),
    new Conv2d(6, 16, 5), new ReLU(), new MaxPool2d({ kernel: 2 }),
    new Flatten(), new Linear(256, 120), new ReLU(), new Linear(120, 84), new ReLU(), new Linear(84, 10),
  ], { seed });
  const reference: RefLayer[] = [
    { kind: 'conv', opts: convOpts(0) }, RELU, { kind: 'maxpool', opts: poolOpts(2) },
    { kind: 'conv', opts: convOpts(0) }, RELU, { kind: 'maxpool', opts: poolOpts(2) },
    FLATTEN, LINEAR, RELU, LINEAR, RELU, LINEAR,
  ];
  return { model, reference };
}

/** VGG-style, 3×16×16: two blocks of (conv3 pad 1, relu) ×2 + maxpool2, then 256→64→10 and softmax. */
export function smallVgg(engine: Engine, seed: number): TestNet {
  const model = new Sequential(engine, [
    new Conv2d(3, 8, 3, { padding: 1 }), new ReLU(), new Conv2d(8, 8, 3, { padding: 1 }), new ReLU(), new MaxPool2d({ kernel: 2 }),
    new Conv2d(8, 16, 3, { padding: 1 }), new ReLU(), new Conv2d(16, 16, 3, { padding: 1 }), new ReLU(), new MaxPool2d({ kernel: 2 }),
    new Flatten(), new Linear(256, 64), new ReLU(), new Linear(64, 10), new Softmax(),
  ], { seed });
  const conv: RefLayer = { kind: 'conv', opts: convOpts(1) };
  const pool: RefLayer = { kind: 'maxpool', opts: poolOpts(2) };
  const reference: RefLayer[] = [
    conv, RELU, conv, RELU, pool, conv, RELU, conv, RELU, pool, FLATTEN, LINEAR, RELU, LINEAR, { kind: 'softmax' },
  ];
  return { model, reference };
}

/**
 * Every layer kind with a gradient, 2×9×11 input: conv (pad 1), relu, maxpool 2 ceil, conv
 * [2, 3] stride [1, 2] pad [1, 1, 0, 1], L2 pool 2/1, channel L2 pool 2/2, avgpool 2/1 pad 1
 * (count_include_pad false), flatten, linear, relu, linear, softmax.
 */
export function everyLayerNet(engine: Engine, seed: number): TestNet {
  const model = new Sequential(engine, [
    new Conv2d(2, 6, 3, { padding: 1 }), new ReLU(), new MaxPool2d({ kernel: 2, ceilMode: true }),
    new Conv2d(6, 6, [2, 3], { stride: [1, 2], padding: [1, 1, 0, 1] }),
    new LpPool2d({ p: 2, kernel: 2, stride: 1 }), new ChannelLpPool({ size: 2, stride: 2 }),
    new AvgPool2d({ kernel: 2, stride: 1, padding: 1, countIncludePad: false }),
    new Flatten(), new Linear(45, 7), new ReLU(), new Linear(7, 4), new Softmax(),
  ], { seed });
  const reference: RefLayer[] = [
    { kind: 'conv', opts: convOpts(1) }, RELU, { kind: 'maxpool', opts: poolOpts(2, 2, 0, true) },
    { kind: 'conv', opts: { stride: [1, 2], pad: [1, 1, 0, 1], dilation: [1, 1], groups: 1 } },
    { kind: 'lppool', opts: { p: 2, ...poolOpts(2, 1) } }, { kind: 'channellp', opts: { p: 2, size: 2, stride: 2, pad: [0, 0] } },
    { kind: 'avgpool', opts: { ...poolOpts(2, 1, 1), countIncludePad: false } },
    FLATTEN, LINEAR, RELU, LINEAR, { kind: 'softmax' },
  ];
  return { model, reference };
}

export async function toRef(t: Tensor): Promise<ref.RefArray> {
  return ref.fromValues([...t.shape], await t.read());
}

export async function parametersAsRef(model: Sequential): Promise<ref.RefArray[]> {
  return Promise.all(model.parameters().map(toRef));
}

export function upload(engine: Engine, a: ref.RefArray): Tensor {
  return engine.tensor(Float32Array.from(a.data), a.shape);
}

/** Throws with `label` unless got matches exp within API.md's tolerance. */
export function expectClose(got: ArrayLike<number>, exp: ref.RefArray | ArrayLike<number>, label: string): void {
  const values = 'data' in exp ? exp.data : exp;
  const problem = ref.allClose(got, values);
  if (problem !== null) throw new Error(`${label}: ${problem}`);
}
