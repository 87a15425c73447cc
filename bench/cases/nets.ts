// Whole-network forward passes: a LeNet-5 (batch 16) and a small VGG-style net, the same
// weights in every engine; fullconv runs its Sequential model in eval mode.
import type { Tensor as TfTensor, Tensor2D, Tensor4D } from '@tensorflow/tfjs-core';
import { need, type Engine, type Layer } from '../api.js';
import { linearWeightForNhwc, nchwToNhwc, numel, oihwToHwio, randomFloats, randomWeights } from '../data.js';
import { DataType, type GraphSpec, type InitializerSpec, type NodeSpec } from '../onnx.js';
import { ortRunnable, ortSession, releaseOrt } from '../peers/ort.js';
import { tfInput, tfRunnable } from '../peers/tfjs.js';
import * as ref from '../../test/reference.js';
import { convFlops, defineCase, fullconvRunnable, outSize, type CaseDef, type Prepared } from './types.js';

export type NetLayer =
  | { kind: 'conv'; cin: number; cout: number; k: number; pad: number } // always followed by ReLU
  | { kind: 'pool'; k: number; s: number } // max pool
  | { kind: 'flatten' }
  | { kind: 'linear'; in: number; out: number; relu: boolean };

export interface NetSpec {
  name: string;
  title: string;
  input: [number, number, number, number];
  layers: NetLayer[];
}

const conv = (cin: number, cout: number, k: number, pad: number): NetLayer => ({ kind: 'conv', cin, cout, k, pad });
const pool: NetLayer = { kind: 'pool', k: 2, s: 2 };
const flatten: NetLayer = { kind: 'flatten' };
const linear = (i: number, o: number, relu: boolean): NetLayer => ({ kind: 'linear', in: i, out: o, relu });

export const LENET: NetSpec = {
  name: 'lenet',
  title: 'LeNet-5',
  input: [16, 1, 32, 32],
  layers: [conv(1, 6, 5, 0), pool, conv(6, 16, 5, 0), pool, flatten, linear(400, 120, true), linear(120, 84, true), linear(84, 10, false)],
};

export const VGG_SMALL: NetSpec = {
  name: 'vgg-small',
  title: 'VGG-style small net',
  input: [1, 3, 64, 64],
  layers: [conv(3, 32, 3, 1), conv(32, 32, 3, 1), pool, conv(32, 64, 3, 1), conv(64, 64, 3, 1), pool, conv(64, 128, 3, 1), conv(128, 128, 3, 1), pool, flatten, linear(8192, 256, true), linear(256, 10, false)],
};

/** Each layer's input shape (NCHW, or [N, F] after flatten) and the network's output shape. */
export function netShapes(net: NetSpec): { inputs: number[][]; output: number[] } {
  const inputs: number[][] = [];
  let s: number[] = [...net.input];
  for (const l of net.layers) {
    inputs.push(s);
    if (l.kind === 'conv') s = [s[0]!, l.cout, outSize(s[2]!, l.k, 1, l.pad), outSize(s[3]!, l.k, 1, l.pad)];
    else if (l.kind === 'pool') s = [s[0]!, s[1]!, outSize(s[2]!, l.k, l.s, 0), outSize(s[3]!, l.k, l.s, 0)];
    else if (l.kind === 'flatten') s = [s[0]!, numel(s.slice(1))];
    else {
      if (s[1] !== l.in) throw new Error(`${net.name}: linear expects ${l.in} features, gets ${s[1]}`);
      s = [s[0]!, l.out];
    }
  }
  return { inputs, output: s };
}

export function netFlops(net: NetSpec): number {
  const { inputs } = netShapes(net);
  let flops = 0;
  net.layers.forEach((l, i) => {
    const s = inputs[i]!;
    if (l.kind === 'conv') {
      const o = outSize(s[2]!, l.k, 1, l.pad);
      flops += convFlops(l.cout, o, o, l.cin, l.k, l.k, s[0]!);
    } else if (l.kind === 'linear') flops += 2 * s[0]! * l.in * l.out;
  });
  return flops;
}

interface Param {
  w: Float32Array;
  b: Float32Array;
  wShape: number[];
}

export interface NetData {
  x: Float32Array;
  /** One entry per conv / linear layer, by layer index. */
  params: Map<number, Param>;
}

export function netData(net: NetSpec, seed: number): NetData {
  const params = new Map<number, Param>();
  net.layers.forEach((l, i) => {
    if (l.kind === 'conv') {
      const wShape = [l.cout, l.cin, l.k, l.k];
      params.set(i, { w: randomWeights(wShape, seed + 10 * i), b: randomFloats(l.cout, seed + 10 * i + 1, -0.1, 0.1), wShape });
    } else if (l.kind === 'linear') {
      const wShape = [l.out, l.in];
      params.set(i, { w: randomWeights(wShape, seed + 10 * i), b: randomFloats(l.out, seed + 10 * i + 1, -0.1, 0.1), wShape });
    }
  });
  return { x: randomFloats(numel(net.input), seed), params };
}

export function netReference(net: NetSpec, d: NetData): ref.RefArray {
  let h = ref.fromValues(net.input, d.x);
  net.layers.forEach((l, i) => {
    const p = d.params.get(i);
    if (l.kind === 'conv') {
      h = ref.conv2d(h, ref.fromValues(p!.wShape, p!.w), ref.fromValues([l.cout], p!.b), { stride: [1, 1], pad: [l.pad, l.pad, l.pad, l.pad], dilation: [1, 1], groups: 1, relu: true });
    } else if (l.kind === 'pool') h = ref.maxPool2d(h, { kernel: [l.k, l.k], stride: [l.s, l.s], pad: [0, 0, 0, 0] }).output;
    else if (l.kind === 'flatten') h = { shape: [h.shape[0]!, numel(h.shape.slice(1))], data: h.data };
    else {
      h = ref.linear(h, ref.fromValues(p!.wShape, p!.w), ref.fromValues([l.out], p!.b));
      if (l.relu) h = ref.relu(h);
    }
  });
  return h;
}

/** fullconv's Sequential with the case's weights loaded under torch's names. */
function sequentialForward(net: NetSpec, engine: Engine, d: NetData): Prepared {
  const api = need('Sequential', 'Conv2d', 'ReLU', 'MaxPool2d', 'Flatten', 'Linear');
  const layers: Layer[] = [];
  const record: Record<string, Float32Array> = {};
  net.layers.forEach((l, i) => {
    const p = d.params.get(i);
    if (p) {
      record[`${layers.length}.weight`] = p.w;
      record[`${layers.length}.bias`] = p.b;
    }
    if (l.kind === 'conv') layers.push(new api.Conv2d(l.cin, l.cout, l.k, { padding: l.pad }), new api.ReLU());
    else if (l.kind === 'pool') layers.push(new api.MaxPool2d({ kernel: l.k, stride: l.s }));
    else if (l.kind === 'flatten') layers.push(new api.Flatten());
    else {
      layers.push(new api.Linear(l.in, l.out));
      if (l.relu) layers.push(new api.ReLU());
    }
  });
  const model = new api.Sequential(engine, layers, { seed: 1 });
  model.loadParameters(record);
  model.eval();
  const x = engine.tensor(d.x, [...net.input]);
  return {
    runnable: fullconvRunnable(engine, () => model.forward(x)),
    dispose: () => {
      x.dispose();
      model.dispose();
    },
    note: 'Sequential.forward in eval mode',
  };
}

function netCase(net: NetSpec, seed: number, smoke = false): CaseDef<NetData> {
  const { inputs, output } = netShapes(net);
  return {
    id: `net/${net.name}${smoke ? '-smoke' : ''}`,
    family: 'net',
    title: `${net.title} forward`,
    shape: `batch ${net.input[0]}, ${net.input.slice(1).join('×')} → ${output[1]} classes`,
    work: { unit: 'GFLOP/s', amount: netFlops(net), rule: 'conv and linear multiply-adds ×2' },
    comparison: 'float',
    data: () => netData(net, seed),
    reference: (d) => netReference(net, d).data,
    fullconv: (engine, d) => sequentialForward(net, engine, d),
    tfjs(peer, d) {
      const { tf } = peer;
      const [n, c, h, w] = net.input;
      const x = tfInput(peer, nchwToNhwc(d.x, net.input), [n, h, w, c]);
      const params = new Map<number, { w: TfTensor; b: TfTensor }>();
      net.layers.forEach((l, i) => {
        const p = d.params.get(i);
        if (!p) return;
        let wt: { data: Float32Array; shape: number[] };
        if (l.kind === 'conv') wt = { data: oihwToHwio(p.w, p.wShape), shape: [l.k, l.k, l.cin, l.cout] };
        else if (l.kind === 'linear' && net.layers[i - 1]?.kind === 'flatten') {
          // TensorFlow flattens NHWC as (h, w, c): permute the weight's columns to match.
          const s = inputs[i - 1]!;
          wt = { data: linearWeightForNhwc(p.w, l.out, s[1]!, s[2]!, s[3]!), shape: [l.in, l.out] };
        } else wt = { data: transpose2d(p.w, p.wShape[0]!, p.wShape[1]!), shape: [p.wShape[1]!, p.wShape[0]!] };
        params.set(i, { w: tfInput(peer, wt.data, wt.shape), b: tfInput(peer, p.b, [p.b.length]) });
      });
      const forward = (): TfTensor => {
        let hcur: TfTensor = x;
        net.layers.forEach((l, i) => {
          const p = params.get(i);
          if (l.kind === 'conv') hcur = tf.fused.conv2d({ x: hcur as Tensor4D, filter: p!.w as Tensor4D, bias: p!.b, strides: 1, pad: l.pad === 0 ? 'valid' : l.pad, dataFormat: 'NHWC', activation: 'relu' });
          else if (l.kind === 'pool') hcur = tf.maxPool(hcur as Tensor4D, l.k, l.s, 'valid');
          else if (l.kind === 'flatten') hcur = tf.reshape(hcur, [n, -1]);
          else hcur = tf.fused.matMul({ a: hcur as Tensor2D, b: p!.w as Tensor2D, bias: p!.b, activation: l.relu ? 'relu' : 'linear' });
        });
        return hcur;
      };
      return {
        runnable: tfRunnable(peer, forward),
        dispose: () => {
          x.dispose();
          for (const p of params.values()) [p.w, p.b].forEach((t) => t.dispose());
        },
        note: 'tf.fused.conv2d (+ReLU), maxPool, reshape, tf.fused.matMul; NHWC',
      };
    },
    async ort(peer, d) {
      const graph = ortNetGraph(net, d);
      const c = await ortSession(peer, graph, { X: { data: d.x, dims: [...net.input] } });
      return { runnable: ortRunnable(c, 'Y'), dispose: () => releaseOrt(c), note: 'Conv, Relu, MaxPool, Reshape, Gemm nodes' };
    },
  };
}

/** The net as an ONNX graph: Conv, Relu, MaxPool, Reshape (NCHW flatten, as torch), Gemm. */
export function ortNetGraph(net: NetSpec, d: NetData): GraphSpec {
  const { output } = netShapes(net);
  const nodes: NodeSpec[] = [];
  const initializers: InitializerSpec[] = [];
  let h = 'X';
  net.layers.forEach((l, i) => {
    const p = d.params.get(i);
    const out = `h${i}`;
    if (p) initializers.push({ name: `W${i}`, dims: p.wShape, data: p.w }, { name: `B${i}`, dims: [p.b.length], data: p.b });
    if (l.kind === 'conv') {
      nodes.push({ opType: 'Conv', inputs: [h, `W${i}`, `B${i}`], outputs: [`c${i}`], attributes: { kernel_shape: [l.k, l.k], pads: [l.pad, l.pad, l.pad, l.pad], strides: [1, 1] } });
      nodes.push({ opType: 'Relu', inputs: [`c${i}`], outputs: [out] });
    } else if (l.kind === 'pool') nodes.push({ opType: 'MaxPool', inputs: [h], outputs: [out], attributes: { kernel_shape: [l.k, l.k], strides: [l.s, l.s] } });
    else if (l.kind === 'flatten') {
      initializers.push({ name: `S${i}`, dims: [2], data: new BigInt64Array([BigInt(net.input[0]), -1n]) });
      nodes.push({ opType: 'Reshape', inputs: [h, `S${i}`], outputs: [out] });
    } else if (l.relu) {
      nodes.push({ opType: 'Gemm', inputs: [h, `W${i}`, `B${i}`], outputs: [`g${i}`], attributes: { transB: 1 } });
      nodes.push({ opType: 'Relu', inputs: [`g${i}`], outputs: [out] });
    } else nodes.push({ opType: 'Gemm', inputs: [h, `W${i}`, `B${i}`], outputs: [out], attributes: { transB: 1 } });
    h = out;
  });
  nodes[nodes.length - 1]!.outputs = ['Y'];
  return { name: net.name, nodes, initializers, inputs: [{ name: 'X', dims: [...net.input] }], outputs: [{ name: 'Y', dims: output, elemType: DataType.FLOAT }] };
}

function transpose2d(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c]!;
  return out;
}

export const netCases = [defineCase(netCase(LENET, 500)), defineCase(netCase(VGG_SMALL, 600))];
/** --smoke runs: LeNet on 2 images. */
export const netSmokeCase = defineCase(netCase({ ...LENET, input: [2, 1, 32, 32] }, 590, true));
