// conv2d gradients (grad-input and grad-weight) on a subset of the layers: fullconv beside
// TensorFlow.js's Conv2DBackpropInput / Conv2DBackpropFilter kernels. ONNX Runtime has none.
import type { NamedAttrMap, Tensor4D } from '@tensorflow/tfjs-core';
import { need } from '../api.js';
import { hwioToOihw, nchwToNhwc, nhwcToNchw, numel, randomFloats } from '../data.js';
import { tfInput, tfRunnable } from '../peers/tfjs.js';
import * as ref from '../../test/reference.js';
import { convData, layerFlops, refConvOpts, tfWeight, type ConvData } from './conv.js';
import { SMOKE_LAYER, describeLayer, layer, type LayerSpec } from './layers.js';
import { ORT_NO_GRADIENTS } from './pool.js';
import { defineCase, fullconvRunnable, type CaseDef } from './types.js';

/** Which layers the gradients run on: a mid-size 3×3, a deep 3×3 and the strided 11×11. */
export const CONV_GRAD_LAYERS = ['L2', 'L4', 'L5'];
/** Layers with a weight-gradient case only: the FC layer as a conv (an outer product) and the 1×1 (a plain GEMM). */
export const CONV_GRAD_WEIGHT_LAYERS = ['L7', 'L8'];
/**
 * TensorFlow.js's Conv2DBackpropFilter on L7 takes tens of seconds a run on SwiftShader (its
 * forward alone ~14 s): the default run would spend ~1 minute there, so that peer sits it out.
 */
const TFJS_SKIP: Record<string, string> = {
  L7: 'skipped: Conv2DBackpropFilter on the 512→4096 7×7 FC layer takes tens of seconds a run on SwiftShader (its forward ~14 s); left out to keep the default run near 10 minutes',
};

type GradData = ConvData & { dy: Float32Array };

function gradData(l: LayerSpec, seed: number): GradData {
  const d = convData(l, seed);
  return { ...d, dy: randomFloats(numel(d.yShape), seed + 7) };
}

function gradCase(l: LayerSpec, which: 'input' | 'weight', index: number): CaseDef<GradData> {
  const opts = { stride: l.stride, padding: l.pad, groups: l.groups };
  const tfPad = l.pad === 0 ? 'valid' : l.pad;
  return {
    id: `conv-grad/${which}-${l.name}`,
    family: 'conv-grad',
    title: `conv2dGrad${which === 'input' ? 'Input' : 'Weight'} ${l.name}`,
    shape: describeLayer(l),
    work: { unit: 'GFLOP/s', amount: layerFlops(l), rule: 'the forward\'s 2·Cout·Hout·Wout·Cin/groups·kH·kW' },
    comparison: 'float',
    data: () => gradData(l, 400 + index),
    reference(d) {
      const dy = ref.fromValues(d.yShape, d.dy);
      if (which === 'input') return ref.conv2dGradInput(dy, ref.fromValues(d.wShape, d.w), d.xShape, refConvOpts(l)).data;
      return ref.conv2dGradWeight(dy, ref.fromValues(d.xShape, d.x), d.wShape, refConvOpts(l)).data;
    },
    fullconv(engine, d) {
      const dy = engine.tensor(d.dy, d.yShape);
      if (which === 'input') {
        const { conv2dGradInput } = need('conv2dGradInput');
        const w = engine.tensor(d.w, d.wShape);
        return { runnable: fullconvRunnable(engine, () => conv2dGradInput(dy, w, d.xShape, opts)), dispose: () => [dy, w].forEach((t) => t.dispose()) };
      }
      const { conv2dGradWeight } = need('conv2dGradWeight');
      const x = engine.tensor(d.x, d.xShape);
      return { runnable: fullconvRunnable(engine, () => conv2dGradWeight(dy, x, d.wShape, opts)), dispose: () => [dy, x].forEach((t) => t.dispose()) };
    },
    tfjs: which === 'weight' && TFJS_SKIP[l.name] !== undefined ? TFJS_SKIP[l.name]! : (peer, d) => {
      const { tf } = peer;
      const out = d.yShape[2]!;
      const dy = tfInput(peer, nchwToNhwc(d.dy, d.yShape), [1, out, out, l.cout]) as Tensor4D;
      if (which === 'input') {
        const wt = tfWeight(d);
        const w = tfInput(peer, wt.data, wt.shape) as Tensor4D;
        return {
          runnable: tfRunnable(peer, () => tf.conv2dTranspose(dy, w, [1, l.size, l.size, l.cin], l.stride, tfPad)),
          canonical: (raw) => nhwcToNchw(raw, d.xShape),
          dispose: () => [dy, w].forEach((t) => t.dispose()),
          note: 'tf.conv2dTranspose (its Conv2DBackpropInput kernel), NHWC',
        };
      }
      const x = tfInput(peer, nchwToNhwc(d.x, d.xShape), [1, l.size, l.size, l.cin]) as Tensor4D;
      const attrs = { strides: l.stride, pad: tfPad, dataFormat: 'NHWC', filterShape: [l.k, l.k, l.cin, l.cout] } as unknown as NamedAttrMap;
      return {
        runnable: tfRunnable(peer, () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs)),
        canonical: (raw) => hwioToOihw(raw, d.wShape),
        dispose: () => [dy, x].forEach((t) => t.dispose()),
        note: 'Conv2DBackpropFilter kernel, NHWC',
      };
    },
    ort: ORT_NO_GRADIENTS,
  };
}

export const convGradSmokeCase = defineCase(gradCase(SMOKE_LAYER, 'input', 9));
export const convGradCases = [
  ...CONV_GRAD_LAYERS.flatMap((name, i) => [defineCase(gradCase(layer(name), 'input', i)), defineCase(gradCase(layer(name), 'weight', i))]),
  ...CONV_GRAD_WEIGHT_LAYERS.map((name, i) => defineCase(gradCase(layer(name), 'weight', CONV_GRAD_LAYERS.length + i))),
];
