// 2-D pooling forward and backward on 64×112×112 (DESIGN.md's pools) and 256×56×56: max 2/2,
// max 3/2 pad 1, avg 2/2, L2 2/2.
import type { NamedAttrMap, Tensor, Tensor4D } from '@tensorflow/tfjs-core';
import { need, type PoolOptions } from '../api.js';
import { distinctFloats, nchwToNhwc, nhwcToNchw, numel, randomFloats } from '../data.js';
import type { NodeSpec } from '../onnx.js';
import { ortRunnable, ortSession, releaseOrt } from '../peers/ort.js';
import { tfInput, tfRunnable, type Tf } from '../peers/tfjs.js';
import * as ref from '../../test/reference.js';
import { defineCase, fullconvRunnable, outSize, type CaseDef } from './types.js';

export interface PoolSpec {
  name: string;
  mode: 'max' | 'avg' | 'l2';
  k: number;
  s: number;
  pad: number;
}

export const POOLS: PoolSpec[] = [
  { name: 'max2s2', mode: 'max', k: 2, s: 2, pad: 0 },
  { name: 'max3s2p1', mode: 'max', k: 3, s: 2, pad: 1 },
  { name: 'avg2s2', mode: 'avg', k: 2, s: 2, pad: 0 },
  { name: 'l2_2s2', mode: 'l2', k: 2, s: 2, pad: 0 },
];

/** The pools' input: [1, C, size, size]. */
interface PoolInput {
  c: number;
  size: number;
}

const DESIGN_INPUT: PoolInput = { c: 64, size: 112 };
/** The same bytes as 256 channels of 56×56: a later layer's shape (ids end in -c256). */
const DEEP_INPUT: PoolInput = { c: 256, size: 56 };
/** --smoke runs: a sixteenth of the data, the same kernels. */
const SMOKE_INPUT: PoolInput = { c: 16, size: 56 };
const ORT_NO_GRADIENTS = 'no gradient ops: ONNX Runtime Web runs inference graphs; training kernels are in onnxruntime-training, not in the WebGPU EP';

function describe(p: PoolSpec, input: PoolInput): string {
  const what = p.mode === 'l2' ? 'L2' : p.mode;
  return `${what} k${p.k} s${p.s}${p.pad ? ` p${p.pad}` : ''}, ${input.c}×${input.size}×${input.size}`;
}

function yShape(p: PoolSpec, input: PoolInput): number[] {
  const o = outSize(input.size, p.k, p.s, p.pad);
  return [1, input.c, o, o];
}

function fcOpts(p: PoolSpec): PoolOptions {
  return p.mode === 'l2' ? { p: 2, kernel: p.k, stride: p.s, padding: p.pad } : { kernel: p.k, stride: p.s, padding: p.pad };
}

const refPad = (p: PoolSpec): ref.Pad4 => [p.pad, p.pad, p.pad, p.pad];

function refForward(p: PoolSpec, x: ref.RefArray): ref.RefArray {
  const base = { kernel: [p.k, p.k] as ref.Pair, stride: [p.s, p.s] as ref.Pair, pad: refPad(p) };
  if (p.mode === 'max') return ref.maxPool2d(x, base).output;
  if (p.mode === 'avg') return ref.avgPool2d(x, { ...base, countIncludePad: true });
  return ref.lpPool2d(x, { ...base, p: 2 });
}

/** The pool in TensorFlow.js (NHWC). It has no L2 pool: sqrt(avgPool(x²)·k²), four ops. */
function tfForward(tf: Tf, p: PoolSpec, x: Tensor4D): Tensor4D {
  if (p.mode === 'max') return tf.maxPool(x, p.k, p.s, p.pad === 0 ? 'valid' : p.pad);
  if (p.mode === 'avg') return tf.avgPool(x, p.k, p.s, p.pad === 0 ? 'valid' : p.pad);
  return tf.sqrt(tf.mul(tf.avgPool(tf.square(x), p.k, p.s, p.pad === 0 ? 'valid' : p.pad), p.k * p.k)) as Tensor4D;
}

const TF_L2_NOTE = 'composed: square, avgPool, ×k², sqrt (TensorFlow.js has no L2 pool)';

function ortNode(p: PoolSpec): NodeSpec {
  const attributes = { kernel_shape: [p.k, p.k], strides: [p.s, p.s], pads: [p.pad, p.pad, p.pad, p.pad] };
  if (p.mode === 'max') return { opType: 'MaxPool', inputs: ['X'], outputs: ['Y'], attributes };
  if (p.mode === 'avg') return { opType: 'AveragePool', inputs: ['X'], outputs: ['Y'], attributes: { ...attributes, count_include_pad: 1 } };
  return { opType: 'LpPool', inputs: ['X'], outputs: ['Y'], attributes: { ...attributes, p: 2 } };
}

interface PoolData {
  x: Float32Array;
}

/** The id suffix of an input other than DESIGN_INPUT. */
function inputSuffix(input: PoolInput): string {
  return input === DEEP_INPUT ? '-c256' : '';
}

function poolCase(p: PoolSpec, index: number, input = DESIGN_INPUT, smoke = false): CaseDef<PoolData> {
  const { c: C, size: SIZE } = input;
  const X_SHAPE = [1, C, SIZE, SIZE];
  const ys = yShape(p, input);
  return {
    id: `pool/${p.name}${inputSuffix(input)}${smoke ? '-smoke' : ''}`,
    family: 'pool',
    title: `${p.mode === 'l2' ? 'lpPool2d (p=2)' : p.mode === 'max' ? 'maxPool2d' : 'avgPool2d'} ${p.name}`,
    shape: describe(p, input),
    work: { unit: 'GB/s', amount: 4 * (numel(X_SHAPE) + numel(ys)), rule: 'input read + output written, once each' },
    comparison: p.mode === 'max' ? 'exact' : 'float',
    // Distinct values: no ties, so every engine's max (and its argmax) is the same element.
    data: () => ({ x: distinctFloats(numel(X_SHAPE), 200 + index) }),
    reference: (d) => refForward(p, ref.fromValues(X_SHAPE, d.x)).data,
    fullconv(engine, d) {
      const f = p.mode === 'max' ? need('maxPool2d').maxPool2d : p.mode === 'avg' ? need('avgPool2d').avgPool2d : need('lpPool2d').lpPool2d;
      const x = engine.tensor(d.x, X_SHAPE);
      return { runnable: fullconvRunnable(engine, () => f(x, fcOpts(p))), dispose: () => x.dispose() };
    },
    tfjs(peer, d) {
      const x = tfInput(peer, nchwToNhwc(d.x, X_SHAPE), [1, SIZE, SIZE, C]) as Tensor4D;
      return {
        runnable: tfRunnable(peer, () => tfForward(peer.tf, p, x)),
        canonical: (raw) => nhwcToNchw(raw, ys),
        dispose: () => x.dispose(),
        ...(p.mode === 'l2' ? { note: TF_L2_NOTE } : {}),
      };
    },
    async ort(peer, d) {
      const graph = { name: `pool_${p.name}`, nodes: [ortNode(p)], initializers: [], inputs: [{ name: 'X', dims: X_SHAPE }], outputs: [{ name: 'Y', dims: ys }] };
      const c = await ortSession(peer, graph, { X: { data: d.x, dims: X_SHAPE } });
      return { runnable: ortRunnable(c, 'Y'), dispose: () => releaseOrt(c), note: `${ortNode(p).opType} node` };
    },
  };
}

interface PoolGradData {
  x: Float32Array;
  dy: Float32Array;
}

function poolGradCase(p: PoolSpec, index: number, input = DESIGN_INPUT, smoke = false): CaseDef<PoolGradData> {
  const { c: C, size: SIZE } = input;
  const X_SHAPE = [1, C, SIZE, SIZE];
  const ys = yShape(p, input);
  const tfPad = p.pad === 0 ? 'valid' : p.pad;
  return {
    id: `pool-grad/${p.name}${inputSuffix(input)}${smoke ? '-smoke' : ''}`,
    family: 'pool-grad',
    title: `${p.mode === 'l2' ? 'lpPool2dGrad' : p.mode === 'max' ? 'maxPool2dGrad' : 'avgPool2dGrad'} ${p.name}`,
    shape: describe(p, input),
    work: { unit: 'GB/s', amount: 4 * (numel(X_SHAPE) + numel(ys)), rule: 'dy read + dx written, once each' },
    comparison: 'float',
    data: () => ({ x: distinctFloats(numel(X_SHAPE), 300 + index), dy: randomFloats(numel(ys), 310 + index) }),
    reference(d) {
      const x = ref.fromValues(X_SHAPE, d.x);
      const dy = ref.fromValues(ys, d.dy);
      const base = { kernel: [p.k, p.k] as ref.Pair, stride: [p.s, p.s] as ref.Pair, pad: refPad(p) };
      if (p.mode === 'max') return ref.maxPool2dGrad(dy, ref.maxPool2d(x, base).indices, X_SHAPE).data;
      if (p.mode === 'avg') return ref.avgPool2dGrad(dy, X_SHAPE, { ...base, countIncludePad: true }).data;
      const o = { ...base, p: 2 };
      return ref.lpPool2dGrad(dy, x, ref.lpPool2d(x, o), o).data;
    },
    fullconv(engine, d) {
      const x = engine.tensor(d.x, X_SHAPE);
      const dy = engine.tensor(d.dy, ys);
      const opts = fcOpts(p);
      if (p.mode === 'max') {
        const { maxPool2dWithIndices, maxPool2dGrad } = need('maxPool2dWithIndices', 'maxPool2dGrad');
        const { output, indices } = maxPool2dWithIndices(x, opts);
        return {
          runnable: fullconvRunnable(engine, () => maxPool2dGrad(dy, indices, X_SHAPE)),
          dispose: () => [x, dy, output, indices].forEach((t) => t.dispose()),
          note: 'routes dy through the forward\'s int32 indices',
        };
      }
      if (p.mode === 'avg') {
        const { avgPool2dGrad } = need('avgPool2dGrad');
        return { runnable: fullconvRunnable(engine, () => avgPool2dGrad(dy, X_SHAPE, opts)), dispose: () => [x, dy].forEach((t) => t.dispose()) };
      }
      const { lpPool2d, lpPool2dGrad } = need('lpPool2d', 'lpPool2dGrad');
      const y = lpPool2d(x, opts);
      return { runnable: fullconvRunnable(engine, () => lpPool2dGrad(dy, x, y, opts)), dispose: () => [x, dy, y].forEach((t) => t.dispose()) };
    },
    tfjs(peer, d) {
      const { tf } = peer;
      const x = tfInput(peer, nchwToNhwc(d.x, X_SHAPE), [1, SIZE, SIZE, C]) as Tensor4D;
      const dy = tfInput(peer, nchwToNhwc(d.dy, ys), [1, ys[2]!, ys[3]!, C]) as Tensor4D;
      const attrs = { filterSize: p.k, strides: p.s, pad: tfPad } as unknown as NamedAttrMap;
      const extra: Tensor[] = [];
      let make: () => Tensor;
      let note: string;
      if (p.mode === 'max') {
        const y = tf.maxPool(x, p.k, p.s, tfPad);
        extra.push(y);
        make = () => tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, attrs);
        note = 'MaxPoolGrad kernel: recomputes each window\'s argmax from x and y';
      } else if (p.mode === 'avg') {
        make = () => tf.engine().runKernel('AvgPoolGrad', { dy, input: x }, attrs);
        note = 'AvgPoolGrad kernel';
      } else {
        const grad = tf.grad((xi: Tensor) => tfForward(tf, p, xi as Tensor4D));
        make = () => grad(x, dy);
        note = `tf.grad of the ${TF_L2_NOTE.replace('composed: ', 'composed pool (')}): includes its forward`;
      }
      return {
        runnable: tfRunnable(peer, make),
        canonical: (raw) => nhwcToNchw(raw, X_SHAPE),
        dispose: () => [x, dy, ...extra].forEach((t) => t.dispose()),
        note,
      };
    },
    ort: ORT_NO_GRADIENTS,
  };
}

export const poolCases = [
  ...POOLS.map((p, i) => defineCase(poolCase(p, i))),
  ...POOLS.map((p, i) => defineCase(poolCase(p, 20 + i, DEEP_INPUT))),
];
export const poolGradCases = [
  ...POOLS.map((p, i) => defineCase(poolGradCase(p, i))),
  ...POOLS.map((p, i) => defineCase(poolGradCase(p, 20 + i, DEEP_INPUT))),
];
export const poolSmokeCase = defineCase(poolCase(POOLS[1]!, 8, SMOKE_INPUT, true));
export const poolGradSmokeCase = defineCase(poolGradCase(POOLS[1]!, 9, SMOKE_INPUT, true));
export { ORT_NO_GRADIENTS };
