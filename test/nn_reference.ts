// Float64 reference for Sequential models: the layers written out as test/reference.ts calls,
// and backward as the reference's gradient functions chained by hand. Imports nothing from src/.
import * as ref from './reference.js';

export type RefLayer =
  | { kind: 'conv'; opts: ref.ConvOpts }
  | { kind: 'linear' }
  | { kind: 'relu' }
  | { kind: 'maxpool'; opts: ref.MaxPoolOpts }
  | { kind: 'avgpool'; opts: ref.AvgPoolOpts }
  | { kind: 'lppool'; opts: ref.LpPoolOpts }
  | { kind: 'channellp'; opts: ref.ChannelLpPoolOpts }
  | { kind: 'flatten' }
  | { kind: 'softmax' };

/** Conv options from plain numbers: square stride/dilation, padding p or [t, l, b, r]. */
export function convOpts(pad: number | ref.Pad4 = 0, stride = 1, dilation = 1, groups = 1): ref.ConvOpts {
  return { stride: [stride, stride], pad: typeof pad === 'number' ? [pad, pad, pad, pad] : pad, dilation: [dilation, dilation], groups };
}

export function poolOpts(kernel: number, stride = kernel, pad = 0, ceilMode = false): { kernel: ref.Pair; stride: ref.Pair; pad: ref.Pad4; ceilMode: boolean } {
  return { kernel: [kernel, kernel], stride: [stride, stride], pad: [pad, pad, pad, pad], ceilMode };
}

export function paramCount(layer: RefLayer): number {
  return layer.kind === 'conv' || layer.kind === 'linear' ? 2 : 0;
}

/** Softmax over dim 1 of [N, K] or [N, K, H, W], max-subtracted. */
export function softmax(x: ref.RefArray): ref.RefArray {
  const [N, K] = x.shape;
  const S = x.shape.length === 4 ? x.shape[2] * x.shape[3] : 1;
  const y = ref.zeros(x.shape);
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      const at = (k: number): number => (n * K + k) * S + s;
      let max = -Infinity;
      for (let k = 0; k < K; k++) max = Math.max(max, x.data[at(k)]);
      let total = 0;
      for (let k = 0; k < K; k++) total += Math.exp(x.data[at(k)] - max);
      for (let k = 0; k < K; k++) y.data[at(k)] = Math.exp(x.data[at(k)] - max) / total;
    }
  }
  return y;
}

/** dx_k = y_k (dy_k - Σ_j dy_j y_j) along dim 1. */
export function softmaxGrad(dy: ref.RefArray, y: ref.RefArray): ref.RefArray {
  const [N, K] = y.shape;
  const S = y.shape.length === 4 ? y.shape[2] * y.shape[3] : 1;
  const dx = ref.zeros(y.shape);
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      const at = (k: number): number => (n * K + k) * S + s;
      let inner = 0;
      for (let k = 0; k < K; k++) inner += dy.data[at(k)] * y.data[at(k)];
      for (let k = 0; k < K; k++) dx.data[at(k)] = y.data[at(k)] * (dy.data[at(k)] - inner);
    }
  }
  return dx;
}

export interface RefTrace {
  /** acts[i] is layer i's input; acts[L] the output. */
  acts: ref.RefArray[];
  indices: (ref.RefIntArray | null)[];
}

export function forward(layers: readonly RefLayer[], params: readonly ref.RefArray[], x: ref.RefArray): RefTrace {
  const acts = [x];
  const indices: (ref.RefIntArray | null)[] = [];
  let p = 0;
  for (const layer of layers) {
    const a = acts[acts.length - 1]!;
    let y: ref.RefArray;
    let idx: ref.RefIntArray | null = null;
    switch (layer.kind) {
      case 'conv': y = ref.conv2d(a, params[p]!, params[p + 1]!, layer.opts); break;
      case 'linear': y = ref.linear(a, params[p]!, params[p + 1]!); break;
      case 'relu': y = ref.relu(a); break;
      case 'maxpool': ({ output: y, indices: idx } = ref.maxPool2d(a, layer.opts)); break;
      case 'avgpool': y = ref.avgPool2d(a, layer.opts); break;
      case 'lppool': y = ref.lpPool2d(a, layer.opts); break;
      case 'channellp': y = ref.channelLpPool(a, layer.opts); break;
      case 'flatten': y = { shape: [a.shape[0]!, a.data.length / a.shape[0]!], data: a.data }; break;
      case 'softmax': y = softmax(a); break;
    }
    p += paramCount(layer);
    acts.push(y);
    indices.push(idx);
  }
  return { acts, indices };
}

/** dx and every parameter's gradient (in parameter order) for dy at the output of `trace`. */
export function backward(layers: readonly RefLayer[], params: readonly ref.RefArray[], trace: RefTrace, dy: ref.RefArray): { dx: ref.RefArray; grads: ref.RefArray[] } {
  const grads: ref.RefArray[] = new Array(params.length);
  let p = params.length;
  let g = dy;
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i]!;
    const x = trace.acts[i]!;
    const y = trace.acts[i + 1]!;
    p -= paramCount(layer);
    switch (layer.kind) {
      case 'conv':
        grads[p] = ref.conv2dGradWeight(g, x, params[p]!.shape, layer.opts);
        grads[p + 1] = ref.conv2dGradBias(g);
        g = ref.conv2dGradInput(g, params[p]!, x.shape, layer.opts);
        break;
      case 'linear': {
        const [N, IN] = x.shape as [number, number];
        const OUT = y.shape[1]!;
        const w = params[p]!;
        const dw = ref.zeros([OUT, IN]);
        const db = ref.zeros([OUT]);
        const dx = ref.zeros([N, IN]);
        for (let n = 0; n < N; n++) {
          for (let o = 0; o < OUT; o++) {
            const d = g.data[n * OUT + o];
            db.data[o] += d;
            for (let k = 0; k < IN; k++) {
              dw.data[o * IN + k] += d * x.data[n * IN + k];
              dx.data[n * IN + k] += d * w.data[o * IN + k];
            }
          }
        }
        grads[p] = dw;
        grads[p + 1] = db;
        g = dx;
        break;
      }
      case 'relu': g = ref.reluGrad(g, x); break;
      case 'maxpool': g = ref.maxPool2dGrad(g, trace.indices[i]!, x.shape); break;
      case 'avgpool': g = ref.avgPool2dGrad(g, x.shape, layer.opts); break;
      case 'lppool': g = ref.lpPool2dGrad(g, x, y, layer.opts); break;
      case 'channellp': g = ref.channelLpPoolGrad(g, x, y, layer.opts); break;
      case 'flatten': g = { shape: [...x.shape], data: g.data }; break;
      case 'softmax': g = softmaxGrad(g, y); break;
    }
  }
  return { dx: g, grads };
}
