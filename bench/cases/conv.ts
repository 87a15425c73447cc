// conv2d forward on L1–L8: fullconv, TensorFlow.js (fused conv + bias), ONNX Runtime (Conv).
import { need } from '../api.js';
import { depthwiseToTf, nchwToNhwc, nhwcToNchw, numel, oihwToHwio, randomFloats, randomWeights } from '../data.js';
import { ortRunnable, ortSession, releaseOrt } from '../peers/ort.js';
import { tfInput, tfRunnable } from '../peers/tfjs.js';
import * as ref from '../../test/reference.js';
import { LAYERS, SMOKE_LAYER, describeLayer, type LayerSpec } from './layers.js';
import type { Tensor4D } from '@tensorflow/tfjs-core';
import { convFlops, defineCase, fullconvRunnable, outSize, type CaseDef } from './types.js';

export interface ConvData {
  l: LayerSpec;
  xShape: number[];
  wShape: number[];
  yShape: number[];
  x: Float32Array;
  w: Float32Array;
  b: Float32Array;
}

export function convData(l: LayerSpec, seed: number): ConvData {
  const out = outSize(l.size, l.k, l.stride, l.pad);
  const xShape = [1, l.cin, l.size, l.size];
  const wShape = [l.cout, l.cin / l.groups, l.k, l.k];
  return {
    l,
    xShape,
    wShape,
    yShape: [1, l.cout, out, out],
    x: randomFloats(numel(xShape), seed),
    w: randomWeights(wShape, seed + 1),
    b: randomFloats(l.cout, seed + 2, -0.1, 0.1),
  };
}

export function refConvOpts(l: LayerSpec): ref.ConvOpts {
  return { stride: [l.stride, l.stride], pad: [l.pad, l.pad, l.pad, l.pad], dilation: [1, 1], groups: l.groups };
}

export function layerFlops(l: LayerSpec): number {
  const out = outSize(l.size, l.k, l.stride, l.pad);
  return convFlops(l.cout, out, out, l.cin / l.groups, l.k, l.k);
}

/** TensorFlow.js weight layout for the layer: HWIO, or [kH, kW, C, 1] for depthwise. */
export function tfWeight(d: ConvData): { data: Float32Array; shape: number[] } {
  const { l } = d;
  if (l.groups === 1) return { data: oihwToHwio(d.w, d.wShape), shape: [l.k, l.k, l.cin, l.cout] };
  if (l.groups === l.cin && l.cout === l.cin) return { data: depthwiseToTf(d.w, d.wShape), shape: [l.k, l.k, l.cin, 1] };
  throw new Error(`${l.name}: grouped convolution other than depthwise`);
}

function convCase(l: LayerSpec, seed: number): CaseDef<ConvData> {
  const opts = { stride: l.stride, padding: l.pad, groups: l.groups };
  return {
    id: `conv/${l.name}`,
    family: 'conv',
    title: `conv2d ${l.name}`,
    shape: describeLayer(l),
    work: { unit: 'GFLOP/s', amount: layerFlops(l), rule: '2·Cout·Hout·Wout·Cin/groups·kH·kW' },
    comparison: 'float',
    data: () => convData(l, seed),
    reference: (d) => ref.conv2d(ref.fromValues(d.xShape, d.x), ref.fromValues(d.wShape, d.w), ref.fromValues([l.cout], d.b), refConvOpts(l)).data,
    fullconv(engine, d) {
      const { conv2d } = need('conv2d');
      const x = engine.tensor(d.x, d.xShape);
      const w = engine.tensor(d.w, d.wShape);
      const b = engine.tensor(d.b, [l.cout]);
      return {
        runnable: fullconvRunnable(engine, () => conv2d(x, w, b, opts)),
        dispose: () => [x, w, b].forEach((t) => t.dispose()),
      };
    },
    tfjs(peer, d) {
      const { tf } = peer;
      const x = tfInput(peer, nchwToNhwc(d.x, d.xShape), [1, l.size, l.size, l.cin]);
      const wt = tfWeight(d);
      const w = tfInput(peer, wt.data, wt.shape);
      const b = tfInput(peer, d.b, [l.cout]);
      const depthwise = l.groups > 1;
      const make = depthwise
        ? () => tf.fused.depthwiseConv2d({ x: x as Tensor4D, filter: w as Tensor4D, strides: l.stride, pad: l.pad, bias: b })
        : () => tf.fused.conv2d({ x: x as Tensor4D, filter: w as Tensor4D, strides: l.stride, pad: l.pad, dataFormat: 'NHWC', bias: b });
      return {
        runnable: tfRunnable(peer, make),
        canonical: (raw) => nhwcToNchw(raw, d.yShape),
        dispose: () => [x, w, b].forEach((t) => t.dispose()),
        note: depthwise ? 'tf.fused.depthwiseConv2d, NHWC' : 'tf.fused.conv2d with bias, NHWC',
      };
    },
    async ort(peer, d) {
      const graph = {
        name: `conv_${l.name}`,
        nodes: [{ opType: 'Conv', inputs: ['X', 'W', 'B'], outputs: ['Y'], attributes: { kernel_shape: [l.k, l.k], strides: [l.stride, l.stride], pads: [l.pad, l.pad, l.pad, l.pad], dilations: [1, 1], group: l.groups } }],
        initializers: [{ name: 'W', dims: d.wShape, data: d.w }, { name: 'B', dims: [l.cout], data: d.b }],
        inputs: [{ name: 'X', dims: d.xShape }],
        outputs: [{ name: 'Y', dims: d.yShape }],
      };
      const c = await ortSession(peer, graph, { X: { data: d.x, dims: d.xShape } });
      return { runnable: ortRunnable(c, 'Y'), dispose: () => releaseOrt(c), note: 'Conv node, weights as initializers' };
    },
  };
}

export const convCases = LAYERS.map((l, i) => defineCase(convCase(l, 100 + i)));
export const convSmokeCase = defineCase(convCase(SMOKE_LAYER, 190));
