// Float64 CPU reference ("oracle") for every fullconv op and gradient.
//
// Plain nested loops straight from the textbook formulas, no cleverness.
// Deliberately imports nothing from src/: it must stay an independent oracle
// (in particular it shares no code with src/geometry.ts).
//
// Layouts: NCHW activations, OIHW conv weights ([Cout, Cin/groups, kH, kW]),
// transposed-conv weights as torch's [Cin, Cout/groups, kH, kW]. Options are
// already-normalised numbers: pads are [top, left, bottom, right] (ONNX order).

export type RefArray = { shape: number[]; data: Float64Array };
export type RefIntArray = { shape: number[]; data: Int32Array };
export type Pair = [number, number];
export type Pad4 = [number, number, number, number];

export interface ConvOpts {
  stride: Pair;
  pad: Pad4;
  dilation: Pair;
  groups: number;
  relu?: boolean; // fused activation, forward only
}

export interface ConvTransposeOpts {
  stride: Pair;
  pad: Pad4; // crops the full output: top rows, left cols, bottom rows, right cols
  dilation: Pair;
  groups: number;
  outputPadding?: Pair; // added at the bottom/right; default [0, 0]
}

export interface MaxPoolOpts {
  kernel: Pair;
  stride: Pair;
  pad: Pad4;
  dilation?: Pair; // default [1, 1]
  ceilMode?: boolean; // default false
}

export interface AvgPoolOpts {
  kernel: Pair;
  stride: Pair;
  pad: Pad4;
  ceilMode?: boolean; // default false
  countIncludePad: boolean;
  divisorOverride?: number;
}

export interface LpPoolOpts {
  p: number;
  kernel: Pair;
  stride: Pair;
  pad: Pad4;
  ceilMode?: boolean; // default false
}

export interface ChannelLpPoolOpts {
  p: number;
  size: number;
  stride: number;
  pad: Pair; // [begin, end] along C
}

// ---------------------------------------------------------------- basics

function fail(message: string): never {
  throw new Error(`reference: ${message}`);
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

export function zeros(shape: readonly number[]): RefArray {
  return { shape: [...shape], data: new Float64Array(numel(shape)) };
}

export function fromValues(shape: readonly number[], values: ArrayLike<number>): RefArray {
  if (values.length !== numel(shape)) {
    fail(`fromValues: ${values.length} values for shape [${shape.join(', ')}]`);
  }
  return { shape: [...shape], data: Float64Array.from(values) };
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) fail(`dot: lengths ${a.length} and ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function expectShape(what: string, got: readonly number[], exp: readonly number[]): void {
  if (!sameShape(got, exp)) {
    fail(`${what}: shape [${got.join(', ')}], expected [${exp.join(', ')}]`);
  }
}

function expectRank4(what: string, shape: readonly number[]): void {
  if (shape.length !== 4) fail(`${what}: rank ${shape.length}, expected 4 (NCHW)`);
}

// ---------------------------------------------------------------- output sizes

/** Convolution / floor-mode output size: floor((in + pb + pe - d*(k-1) - 1) / s) + 1. */
export function convOutSize(
  inSize: number, kernel: number, stride: number, padBegin: number, padEnd: number,
  dilation: number,
): number {
  const span = inSize + padBegin + padEnd - dilation * (kernel - 1) - 1;
  return Math.floor(span / stride) + 1;
}

/**
 * Pool output size, PyTorch rule: floor or ceil of
 * (in + pb + pe - d*(k-1) - 1) / s, plus 1; in ceil mode a last window that
 * starts at or after in + padBegin (wholly in the end padding) is dropped.
 */
export function poolOutSize(
  inSize: number, kernel: number, stride: number, padBegin: number, padEnd: number,
  dilation: number, ceilMode: boolean,
): number {
  const span = inSize + padBegin + padEnd - dilation * (kernel - 1) - 1;
  let out = (ceilMode ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  if (ceilMode && (out - 1) * stride >= inSize + padBegin) out -= 1;
  return out;
}

/** Transposed conv output size: (in-1)*s - pb - pe + d*(k-1) + outputPadding + 1. */
export function convTransposeOutSize(
  inSize: number, kernel: number, stride: number, padBegin: number, padEnd: number,
  dilation: number, outputPadding: number,
): number {
  return (inSize - 1) * stride - padBegin - padEnd + dilation * (kernel - 1) + outputPadding + 1;
}

export function conv2dOutputShape(
  xShape: readonly number[], wShape: readonly number[], o: ConvOpts,
): number[] {
  return [
    xShape[0],
    wShape[0],
    convOutSize(xShape[2], wShape[2], o.stride[0], o.pad[0], o.pad[2], o.dilation[0]),
    convOutSize(xShape[3], wShape[3], o.stride[1], o.pad[1], o.pad[3], o.dilation[1]),
  ];
}

export function convTranspose2dOutputShape(
  xShape: readonly number[], wShape: readonly number[], o: ConvTransposeOpts,
): number[] {
  const op = o.outputPadding ?? [0, 0];
  return [
    xShape[0],
    wShape[1] * o.groups,
    convTransposeOutSize(xShape[2], wShape[2], o.stride[0], o.pad[0], o.pad[2], o.dilation[0], op[0]),
    convTransposeOutSize(xShape[3], wShape[3], o.stride[1], o.pad[1], o.pad[3], o.dilation[1], op[1]),
  ];
}

function checkConv(xShape: readonly number[], wShape: readonly number[], o: ConvOpts): void {
  expectRank4('conv x', xShape);
  expectRank4('conv weight', wShape);
  const [, cin] = xShape;
  const [cout, cinPerGroup] = wShape;
  if (cin % o.groups !== 0 || cout % o.groups !== 0) {
    fail(`conv: channels ${cin} -> ${cout} not divisible by groups ${o.groups}`);
  }
  if (cinPerGroup !== cin / o.groups) {
    fail(`conv: weight has ${cinPerGroup} input channels per group, expected ${cin / o.groups}`);
  }
}

function checkConvTranspose(
  xShape: readonly number[], wShape: readonly number[], o: ConvTransposeOpts,
): void {
  expectRank4('convTranspose x', xShape);
  expectRank4('convTranspose weight', wShape);
  if (wShape[0] !== xShape[1]) {
    fail(`convTranspose: weight has ${wShape[0]} input channels, x has ${xShape[1]}`);
  }
  if (xShape[1] % o.groups !== 0) {
    fail(`convTranspose: ${xShape[1]} input channels not divisible by groups ${o.groups}`);
  }
}

// ---------------------------------------------------------------- convolution

/** y[n,co,oh,ow] = b[co] + Σ_{ci in group, kh, kw} x[n,ci,oh*s-pt+kh*d, ow*s-pl+kw*d] · w[co,ci',kh,kw] */
export function conv2d(x: RefArray, w: RefArray, b: RefArray | null | undefined, o: ConvOpts): RefArray {
  checkConv(x.shape, w.shape, o);
  const [N, Cin, H, W] = x.shape;
  const [Cout, CinG, KH, KW] = w.shape;
  const yShape = conv2dOutputShape(x.shape, w.shape, o);
  const [, , OH, OW] = yShape;
  const CoutG = Cout / o.groups;
  const y = zeros(yShape);
  for (let n = 0; n < N; n++) {
    for (let co = 0; co < Cout; co++) {
      const g = Math.floor(co / CoutG);
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          let acc = b ? b.data[co] : 0;
          for (let cig = 0; cig < CinG; cig++) {
            const ci = g * CinG + cig;
            for (let kh = 0; kh < KH; kh++) {
              const ih = oh * o.stride[0] - o.pad[0] + kh * o.dilation[0];
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < KW; kw++) {
                const iw = ow * o.stride[1] - o.pad[1] + kw * o.dilation[1];
                if (iw < 0 || iw >= W) continue;
                acc += x.data[((n * Cin + ci) * H + ih) * W + iw] *
                  w.data[((co * CinG + cig) * KH + kh) * KW + kw];
              }
            }
          }
          if (o.relu && acc < 0) acc = 0; // NaN passes through
          y.data[((n * Cout + co) * OH + oh) * OW + ow] = acc;
        }
      }
    }
  }
  return y;
}

/** dx[n,ci,ih,iw] += dy[n,co,oh,ow] · w[co,ci',kh,kw] for every forward term (scatter form). */
export function conv2dGradInput(
  dy: RefArray, w: RefArray, inputShape: readonly number[], o: ConvOpts,
): RefArray {
  checkConv(inputShape, w.shape, o);
  expectShape('conv2dGradInput dy', dy.shape, conv2dOutputShape(inputShape, w.shape, o));
  const [N, Cin, H, W] = inputShape;
  const [Cout, CinG, KH, KW] = w.shape;
  const [, , OH, OW] = dy.shape;
  const CoutG = Cout / o.groups;
  const dx = zeros(inputShape);
  for (let n = 0; n < N; n++) {
    for (let co = 0; co < Cout; co++) {
      const g = Math.floor(co / CoutG);
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          const gy = dy.data[((n * Cout + co) * OH + oh) * OW + ow];
          for (let cig = 0; cig < CinG; cig++) {
            const ci = g * CinG + cig;
            for (let kh = 0; kh < KH; kh++) {
              const ih = oh * o.stride[0] - o.pad[0] + kh * o.dilation[0];
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < KW; kw++) {
                const iw = ow * o.stride[1] - o.pad[1] + kw * o.dilation[1];
                if (iw < 0 || iw >= W) continue;
                dx.data[((n * Cin + ci) * H + ih) * W + iw] +=
                  gy * w.data[((co * CinG + cig) * KH + kh) * KW + kw];
              }
            }
          }
        }
      }
    }
  }
  return dx;
}

/** dw[co,ci',kh,kw] += dy[n,co,oh,ow] · x[n,ci,ih,iw] for every forward term. */
export function conv2dGradWeight(
  dy: RefArray, x: RefArray, weightShape: readonly number[], o: ConvOpts,
): RefArray {
  checkConv(x.shape, weightShape, o);
  expectShape('conv2dGradWeight dy', dy.shape, conv2dOutputShape(x.shape, weightShape, o));
  const [N, Cin, H, W] = x.shape;
  const [Cout, CinG, KH, KW] = weightShape;
  const [, , OH, OW] = dy.shape;
  const CoutG = Cout / o.groups;
  const dw = zeros(weightShape);
  for (let n = 0; n < N; n++) {
    for (let co = 0; co < Cout; co++) {
      const g = Math.floor(co / CoutG);
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          const gy = dy.data[((n * Cout + co) * OH + oh) * OW + ow];
          for (let cig = 0; cig < CinG; cig++) {
            const ci = g * CinG + cig;
            for (let kh = 0; kh < KH; kh++) {
              const ih = oh * o.stride[0] - o.pad[0] + kh * o.dilation[0];
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < KW; kw++) {
                const iw = ow * o.stride[1] - o.pad[1] + kw * o.dilation[1];
                if (iw < 0 || iw >= W) continue;
                dw.data[((co * CinG + cig) * KH + kh) * KW + kw] +=
                  gy * x.data[((n * Cin + ci) * H + ih) * W + iw];
              }
            }
          }
        }
      }
    }
  }
  return dw;
}

/** db[c] = Σ_{n,h,w} dy[n,c,h,w] */
export function conv2dGradBias(dy: RefArray): RefArray {
  expectRank4('conv2dGradBias dy', dy.shape);
  const [N, C, H, W] = dy.shape;
  const db = zeros([C]);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let h = 0; h < H; h++) {
        for (let w = 0; w < W; w++) db.data[c] += dy.data[((n * C + c) * H + h) * W + w];
      }
    }
  }
  return db;
}

/**
 * Transposed convolution, scatter form: every input pixel x[n,ci,ih,iw] adds
 * x · w[ci,co',kh,kw] to y[n,co,ih*s+kh*d-pt, iw*s+kw*d-pl] (positions outside
 * the cropped output are dropped), then + b[co].
 */
export function convTranspose2d(
  x: RefArray, w: RefArray, b: RefArray | null | undefined, o: ConvTransposeOpts,
): RefArray {
  checkConvTranspose(x.shape, w.shape, o);
  const [N, Cin, H, W] = x.shape;
  const [, CoutG, KH, KW] = w.shape;
  const yShape = convTranspose2dOutputShape(x.shape, w.shape, o);
  const [, Cout, OH, OW] = yShape;
  const CinG = Cin / o.groups;
  const y = zeros(yShape);
  for (let n = 0; n < N; n++) {
    for (let ci = 0; ci < Cin; ci++) {
      const g = Math.floor(ci / CinG);
      for (let ih = 0; ih < H; ih++) {
        for (let iw = 0; iw < W; iw++) {
          const xv = x.data[((n * Cin + ci) * H + ih) * W + iw];
          for (let cog = 0; cog < CoutG; cog++) {
            const co = g * CoutG + cog;
            for (let kh = 0; kh < KH; kh++) {
              const oh = ih * o.stride[0] + kh * o.dilation[0] - o.pad[0];
              if (oh < 0 || oh >= OH) continue;
              for (let kw = 0; kw < KW; kw++) {
                const ow = iw * o.stride[1] + kw * o.dilation[1] - o.pad[1];
                if (ow < 0 || ow >= OW) continue;
                y.data[((n * Cout + co) * OH + oh) * OW + ow] +=
                  xv * w.data[((ci * CoutG + cog) * KH + kh) * KW + kw];
              }
            }
          }
        }
      }
    }
  }
  if (b) {
    for (let n = 0; n < N; n++) {
      for (let co = 0; co < Cout; co++) {
        for (let i = 0; i < OH * OW; i++) y.data[(n * Cout + co) * OH * OW + i] += b.data[co];
      }
    }
  }
  return y;
}

/** dx[n,ci,ih,iw] += dy[n,co,oh,ow] · w[ci,co',kh,kw] for every forward term. */
export function convTranspose2dGradInput(
  dy: RefArray, w: RefArray, inputShape: readonly number[], o: ConvTransposeOpts,
): RefArray {
  checkConvTranspose(inputShape, w.shape, o);
  expectShape('convTranspose2dGradInput dy', dy.shape, convTranspose2dOutputShape(inputShape, w.shape, o));
  const [N, Cin, H, W] = inputShape;
  const [, CoutG, KH, KW] = w.shape;
  const [, Cout, OH, OW] = dy.shape;
  const CinG = Cin / o.groups;
  const dx = zeros(inputShape);
  for (let n = 0; n < N; n++) {
    for (let ci = 0; ci < Cin; ci++) {
      const g = Math.floor(ci / CinG);
      for (let ih = 0; ih < H; ih++) {
        for (let iw = 0; iw < W; iw++) {
          for (let cog = 0; cog < CoutG; cog++) {
            const co = g * CoutG + cog;
            for (let kh = 0; kh < KH; kh++) {
              const oh = ih * o.stride[0] + kh * o.dilation[0] - o.pad[0];
              if (oh < 0 || oh >= OH) continue;
              for (let kw = 0; kw < KW; kw++) {
                const ow = iw * o.stride[1] + kw * o.dilation[1] - o.pad[1];
                if (ow < 0 || ow >= OW) continue;
                dx.data[((n * Cin + ci) * H + ih) * W + iw] +=
                  dy.data[((n * Cout + co) * OH + oh) * OW + ow] *
                  w.data[((ci * CoutG + cog) * KH + kh) * KW + kw];
              }
            }
          }
        }
      }
    }
  }
  return dx;
}

/** dw[ci,co',kh,kw] += x[n,ci,ih,iw] · dy[n,co,oh,ow] for every forward term. */
export function convTranspose2dGradWeight(
  dy: RefArray, x: RefArray, weightShape: readonly number[], o: ConvTransposeOpts,
): RefArray {
  checkConvTranspose(x.shape, weightShape, o);
  expectShape('convTranspose2dGradWeight dy', dy.shape, convTranspose2dOutputShape(x.shape, weightShape, o));
  const [N, Cin, H, W] = x.shape;
  const [, CoutG, KH, KW] = weightShape;
  const [, Cout, OH, OW] = dy.shape;
  const CinG = Cin / o.groups;
  const dw = zeros(weightShape);
  for (let n = 0; n < N; n++) {
    for (let ci = 0; ci < Cin; ci++) {
      const g = Math.floor(ci / CinG);
      for (let ih = 0; ih < H; ih++) {
        for (let iw = 0; iw < W; iw++) {
          const xv = x.data[((n * Cin + ci) * H + ih) * W + iw];
          for (let cog = 0; cog < CoutG; cog++) {
            const co = g * CoutG + cog;
            for (let kh = 0; kh < KH; kh++) {
              const oh = ih * o.stride[0] + kh * o.dilation[0] - o.pad[0];
              if (oh < 0 || oh >= OH) continue;
              for (let kw = 0; kw < KW; kw++) {
                const ow = iw * o.stride[1] + kw * o.dilation[1] - o.pad[1];
                if (ow < 0 || ow >= OW) continue;
                dw.data[((ci * CoutG + cog) * KH + kh) * KW + kw] +=
                  xv * dy.data[((n * Cout + co) * OH + oh) * OW + ow];
              }
            }
          }
        }
      }
    }
  }
  return dw;
}

// ---------------------------------------------------------------- 2-D pools

function pool2dOutputShape(
  xShape: readonly number[], kernel: Pair, stride: Pair, pad: Pad4, dilation: Pair, ceilMode: boolean,
): number[] {
  expectRank4('pool x', xShape);
  return [
    xShape[0],
    xShape[1],
    poolOutSize(xShape[2], kernel[0], stride[0], pad[0], pad[2], dilation[0], ceilMode),
    poolOutSize(xShape[3], kernel[1], stride[1], pad[1], pad[3], dilation[1], ceilMode),
  ];
}

/**
 * Max pool, padding = -Infinity. Scans the window in row-major order and keeps
 * the FIRST maximum (strict >), as PyTorch. Indices are flat h*W+w per plane.
 * Padding positions never become the index (PyTorch starts from the first
 * in-input element); a NaN wins over any number (first NaN).
 */
export function maxPool2d(x: RefArray, o: MaxPoolOpts): { output: RefArray; indices: RefIntArray } {
  const dil = o.dilation ?? [1, 1];
  const yShape = pool2dOutputShape(x.shape, o.kernel, o.stride, o.pad, dil, o.ceilMode ?? false);
  const [N, C, H, W] = x.shape;
  const [, , OH, OW] = yShape;
  const y = zeros(yShape);
  const idx: RefIntArray = { shape: [...yShape], data: new Int32Array(numel(yShape)) };
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const plane = (n * C + c) * H * W;
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          let best = -Infinity;
          let bestIndex = -1;
          for (let kh = 0; kh < o.kernel[0]; kh++) {
            const ih = oh * o.stride[0] - o.pad[0] + kh * dil[0];
            if (ih < 0 || ih >= H) continue;
            for (let kw = 0; kw < o.kernel[1]; kw++) {
              const iw = ow * o.stride[1] - o.pad[1] + kw * dil[1];
              if (iw < 0 || iw >= W) continue;
              const v = x.data[plane + ih * W + iw];
              if (bestIndex < 0 || v > best || (Number.isNaN(v) && !Number.isNaN(best))) {
                best = v;
                bestIndex = ih * W + iw;
              }
            }
          }
          if (bestIndex < 0) fail(`maxPool2d: window (${oh}, ${ow}) holds no input element`);
          const out = ((n * C + c) * OH + oh) * OW + ow;
          y.data[out] = best;
          idx.data[out] = bestIndex;
        }
      }
    }
  }
  return { output: y, indices: idx };
}

/** dx[n,c,indices[...]] += dy[...] (the gradient router). */
export function maxPool2dGrad(
  dy: RefArray, indices: { shape: readonly number[]; data: ArrayLike<number> },
  inputShape: readonly number[],
): RefArray {
  expectRank4('maxPool2dGrad inputShape', inputShape);
  expectShape('maxPool2dGrad indices', indices.shape, dy.shape);
  const [N, C, H, W] = inputShape;
  const [, , OH, OW] = dy.shape;
  const dx = zeros(inputShape);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < OH * OW; i++) {
        const j = (n * C + c) * OH * OW + i;
        const at = indices.data[j];
        if (at < 0 || at >= H * W) continue; // out-of-range index: gradient dropped
        dx.data[(n * C + c) * H * W + at] += dy.data[j];
      }
    }
  }
  return dx;
}

/**
 * PyTorch's average-pool window: the divisor with countIncludePad is the size
 * of the window clipped to the padded input [-padBegin, in + padEnd); without,
 * the count of elements inside the input; divisorOverride overrides both.
 */
function avgWindow(
  o: AvgPoolOpts, H: number, W: number, oh: number, ow: number,
): { h0: number; h1: number; w0: number; w1: number; divisor: number } {
  let h0 = oh * o.stride[0] - o.pad[0];
  let w0 = ow * o.stride[1] - o.pad[1];
  let h1 = Math.min(h0 + o.kernel[0], H + o.pad[2]);
  let w1 = Math.min(w0 + o.kernel[1], W + o.pad[3]);
  const paddedSize = (h1 - h0) * (w1 - w0);
  h0 = Math.max(h0, 0);
  w0 = Math.max(w0, 0);
  h1 = Math.min(h1, H);
  w1 = Math.min(w1, W);
  const inside = Math.max(0, h1 - h0) * Math.max(0, w1 - w0);
  let divisor: number;
  if (o.divisorOverride !== undefined) divisor = o.divisorOverride;
  else if (o.countIncludePad) divisor = paddedSize;
  else divisor = inside;
  return { h0, h1, w0, w1, divisor };
}

export function avgPool2d(x: RefArray, o: AvgPoolOpts): RefArray {
  const yShape = pool2dOutputShape(x.shape, o.kernel, o.stride, o.pad, [1, 1], o.ceilMode ?? false);
  const [N, C, H, W] = x.shape;
  const [, , OH, OW] = yShape;
  const y = zeros(yShape);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const plane = (n * C + c) * H * W;
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          const win = avgWindow(o, H, W, oh, ow);
          let sum = 0;
          for (let ih = win.h0; ih < win.h1; ih++) {
            for (let iw = win.w0; iw < win.w1; iw++) sum += x.data[plane + ih * W + iw];
          }
          y.data[((n * C + c) * OH + oh) * OW + ow] = sum / win.divisor;
        }
      }
    }
  }
  return y;
}

/** dx[in window] += dy / divisor. */
export function avgPool2dGrad(dy: RefArray, inputShape: readonly number[], o: AvgPoolOpts): RefArray {
  const yShape = pool2dOutputShape(inputShape, o.kernel, o.stride, o.pad, [1, 1], o.ceilMode ?? false);
  expectShape('avgPool2dGrad dy', dy.shape, yShape);
  const [N, C, H, W] = inputShape;
  const [, , OH, OW] = yShape;
  const dx = zeros(inputShape);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const plane = (n * C + c) * H * W;
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          const win = avgWindow(o, H, W, oh, ow);
          const g = dy.data[((n * C + c) * OH + oh) * OW + ow] / win.divisor;
          for (let ih = win.h0; ih < win.h1; ih++) {
            for (let iw = win.w0; iw < win.w1; iw++) dx.data[plane + ih * W + iw] += g;
          }
        }
      }
    }
  }
  return dx;
}

/** ∂y/∂x for y = (Σ|x|^p)^(1/p): sign(x)·|x|^(p-1) / y^(p-1); 0 where y == 0 or x == 0. */
function lpPartial(xv: number, yv: number, p: number): number {
  if (yv === 0 || xv === 0) return 0;
  return Math.sign(xv) * Math.pow(Math.abs(xv), p - 1) / Math.pow(yv, p - 1);
}

/** y = (Σ over window elements inside the input of |x|^p)^(1/p); padding adds nothing, no rescaling. */
export function lpPool2d(x: RefArray, o: LpPoolOpts): RefArray {
  const yShape = pool2dOutputShape(x.shape, o.kernel, o.stride, o.pad, [1, 1], o.ceilMode ?? false);
  const [N, C, H, W] = x.shape;
  const [, , OH, OW] = yShape;
  const y = zeros(yShape);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const plane = (n * C + c) * H * W;
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          let sum = 0;
          for (let kh = 0; kh < o.kernel[0]; kh++) {
            const ih = oh * o.stride[0] - o.pad[0] + kh;
            if (ih < 0 || ih >= H) continue;
            for (let kw = 0; kw < o.kernel[1]; kw++) {
              const iw = ow * o.stride[1] - o.pad[1] + kw;
              if (iw < 0 || iw >= W) continue;
              sum += Math.pow(Math.abs(x.data[plane + ih * W + iw]), o.p);
            }
          }
          y.data[((n * C + c) * OH + oh) * OW + ow] = Math.pow(sum, 1 / o.p);
        }
      }
    }
  }
  return y;
}

/** dx += dy · sign(x)|x|^(p-1) / y^(p-1) for each window element inside the input. */
export function lpPool2dGrad(dy: RefArray, x: RefArray, y: RefArray, o: LpPoolOpts): RefArray {
  const yShape = pool2dOutputShape(x.shape, o.kernel, o.stride, o.pad, [1, 1], o.ceilMode ?? false);
  expectShape('lpPool2dGrad dy', dy.shape, yShape);
  expectShape('lpPool2dGrad y', y.shape, yShape);
  const [N, C, H, W] = x.shape;
  const [, , OH, OW] = yShape;
  const dx = zeros(x.shape);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const plane = (n * C + c) * H * W;
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          const out = ((n * C + c) * OH + oh) * OW + ow;
          for (let kh = 0; kh < o.kernel[0]; kh++) {
            const ih = oh * o.stride[0] - o.pad[0] + kh;
            if (ih < 0 || ih >= H) continue;
            for (let kw = 0; kw < o.kernel[1]; kw++) {
              const iw = ow * o.stride[1] - o.pad[1] + kw;
              if (iw < 0 || iw >= W) continue;
              const at = plane + ih * W + iw;
              dx.data[at] += dy.data[out] * lpPartial(x.data[at], y.data[out], o.p);
            }
          }
        }
      }
    }
  }
  return dx;
}

// ---------------------------------------------------------------- channel Lp pool

export function channelLpPoolOutputShape(xShape: readonly number[], o: ChannelLpPoolOpts): number[] {
  expectRank4('channelLpPool x', xShape);
  const C = xShape[1];
  const outC = Math.floor((C + o.pad[0] + o.pad[1] - o.size) / o.stride) + 1;
  return [xShape[0], outC, xShape[2], xShape[3]];
}

/** y[n,oc,h,w] = (Σ_{j<size, c=oc*stride-begin+j in [0,C)} |x[n,c,h,w]|^p)^(1/p) */
export function channelLpPool(x: RefArray, o: ChannelLpPoolOpts): RefArray {
  const yShape = channelLpPoolOutputShape(x.shape, o);
  const [N, C, H, W] = x.shape;
  const OC = yShape[1];
  const y = zeros(yShape);
  for (let n = 0; n < N; n++) {
    for (let oc = 0; oc < OC; oc++) {
      for (let h = 0; h < H; h++) {
        for (let w = 0; w < W; w++) {
          let sum = 0;
          for (let j = 0; j < o.size; j++) {
            const c = oc * o.stride - o.pad[0] + j;
            if (c < 0 || c >= C) continue;
            sum += Math.pow(Math.abs(x.data[((n * C + c) * H + h) * W + w]), o.p);
          }
          y.data[((n * OC + oc) * H + h) * W + w] = Math.pow(sum, 1 / o.p);
        }
      }
    }
  }
  return y;
}

export function channelLpPoolGrad(dy: RefArray, x: RefArray, y: RefArray, o: ChannelLpPoolOpts): RefArray {
  const yShape = channelLpPoolOutputShape(x.shape, o);
  expectShape('channelLpPoolGrad dy', dy.shape, yShape);
  expectShape('channelLpPoolGrad y', y.shape, yShape);
  const [N, C, H, W] = x.shape;
  const OC = yShape[1];
  const dx = zeros(x.shape);
  for (let n = 0; n < N; n++) {
    for (let oc = 0; oc < OC; oc++) {
      for (let h = 0; h < H; h++) {
        for (let w = 0; w < W; w++) {
          const out = ((n * OC + oc) * H + h) * W + w;
          for (let j = 0; j < o.size; j++) {
            const c = oc * o.stride - o.pad[0] + j;
            if (c < 0 || c >= C) continue;
            const at = ((n * C + c) * H + h) * W + w;
            dx.data[at] += dy.data[out] * lpPartial(x.data[at], y.data[out], o.p);
          }
        }
      }
    }
  }
  return dx;
}

// ---------------------------------------------------------------- global pools

/** [N,C,H,W] -> [N,C,1,1]; the first maximum in row-major order, indices h*W+w. */
export function globalMaxPool(x: RefArray): { output: RefArray; indices: RefIntArray } {
  expectRank4('globalMaxPool x', x.shape);
  const [N, C, H, W] = x.shape;
  const y = zeros([N, C, 1, 1]);
  const idx: RefIntArray = { shape: [N, C, 1, 1], data: new Int32Array(N * C) };
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const plane = (n * C + c) * H * W;
      let best = x.data[plane];
      let bestIndex = 0;
      for (let i = 1; i < H * W; i++) {
        const v = x.data[plane + i];
        if (v > best || (Number.isNaN(v) && !Number.isNaN(best))) {
          best = v;
          bestIndex = i;
        }
      }
      y.data[n * C + c] = best;
      idx.data[n * C + c] = bestIndex;
    }
  }
  return { output: y, indices: idx };
}

/** The whole dy goes to the first maximum of each plane. */
export function globalMaxPoolGrad(dy: RefArray, x: RefArray): RefArray {
  const { indices } = globalMaxPool(x);
  const [N, C, H, W] = x.shape;
  expectShape('globalMaxPoolGrad dy', dy.shape, [N, C, 1, 1]);
  const dx = zeros(x.shape);
  for (let i = 0; i < N * C; i++) dx.data[i * H * W + indices.data[i]] += dy.data[i];
  return dx;
}

export function globalAvgPool(x: RefArray): RefArray {
  expectRank4('globalAvgPool x', x.shape);
  const [N, C, H, W] = x.shape;
  const y = zeros([N, C, 1, 1]);
  for (let i = 0; i < N * C; i++) {
    let sum = 0;
    for (let j = 0; j < H * W; j++) sum += x.data[i * H * W + j];
    y.data[i] = sum / (H * W);
  }
  return y;
}

export function globalAvgPoolGrad(dy: RefArray, inputShape: readonly number[]): RefArray {
  expectRank4('globalAvgPoolGrad inputShape', inputShape);
  const [N, C, H, W] = inputShape;
  expectShape('globalAvgPoolGrad dy', dy.shape, [N, C, 1, 1]);
  const dx = zeros(inputShape);
  for (let i = 0; i < N * C; i++) {
    for (let j = 0; j < H * W; j++) dx.data[i * H * W + j] += dy.data[i] / (H * W);
  }
  return dx;
}

/** y[n,c] = (Σ_{h,w} |x|^p)^(1/p) */
export function globalLpPool(x: RefArray, p: number): RefArray {
  expectRank4('globalLpPool x', x.shape);
  const [N, C, H, W] = x.shape;
  const y = zeros([N, C, 1, 1]);
  for (let i = 0; i < N * C; i++) {
    let sum = 0;
    for (let j = 0; j < H * W; j++) sum += Math.pow(Math.abs(x.data[i * H * W + j]), p);
    y.data[i] = Math.pow(sum, 1 / p);
  }
  return y;
}

export function globalLpPoolGrad(dy: RefArray, x: RefArray, y: RefArray, p: number): RefArray {
  const [N, C, H, W] = x.shape;
  expectShape('globalLpPoolGrad dy', dy.shape, [N, C, 1, 1]);
  expectShape('globalLpPoolGrad y', y.shape, [N, C, 1, 1]);
  const dx = zeros(x.shape);
  for (let i = 0; i < N * C; i++) {
    for (let j = 0; j < H * W; j++) {
      const at = i * H * W + j;
      dx.data[at] += dy.data[i] * lpPartial(x.data[at], y.data[i], p);
    }
  }
  return dx;
}

// ---------------------------------------------------------------- activations, loss, linear

export function relu(x: RefArray): RefArray {
  const y = zeros(x.shape);
  for (let i = 0; i < x.data.length; i++) {
    const v = x.data[i];
    y.data[i] = v > 0 || Number.isNaN(v) ? v : 0;
  }
  return y;
}

/** dx = dy where x > 0, else 0 (gradient 0 at x <= 0). */
export function reluGrad(dy: RefArray, x: RefArray): RefArray {
  expectShape('reluGrad dy', dy.shape, x.shape);
  const dx = zeros(x.shape);
  for (let i = 0; i < x.data.length; i++) dx.data[i] = x.data[i] > 0 ? dy.data[i] : 0;
  return dx;
}

/**
 * Softmax over K, cross-entropy against integer labels; loss is the mean over
 * N (and H, W), dLogits = (softmax - onehot) / count. logits [N,K] with labels
 * [N], or [N,K,H,W] with labels [N,H,W] flat. An out-of-range label makes its
 * loss term NaN and its pixel's gradient 0 (dropped).
 */
export function softmaxCrossEntropy(
  logits: RefArray, labels: ArrayLike<number>,
): { loss: number; dLogits: RefArray } {
  if (logits.shape.length !== 2 && logits.shape.length !== 4) {
    fail(`softmaxCrossEntropy: logits rank ${logits.shape.length}, expected 2 or 4`);
  }
  const N = logits.shape[0];
  const K = logits.shape[1];
  const HW = logits.shape.length === 4 ? logits.shape[2] * logits.shape[3] : 1;
  if (labels.length !== N * HW) fail(`softmaxCrossEntropy: ${labels.length} labels, expected ${N * HW}`);
  const count = N * HW;
  const dLogits = zeros(logits.shape);
  let total = 0;
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < HW; s++) {
      const at = (k: number): number => (n * K + k) * HW + s;
      const label = labels[n * HW + s];
      if (!(label >= 0 && label < K && Number.isInteger(label))) {
        total += NaN;
        continue;
      }
      let max = -Infinity;
      for (let k = 0; k < K; k++) max = Math.max(max, logits.data[at(k)]);
      let sumExp = 0;
      for (let k = 0; k < K; k++) sumExp += Math.exp(logits.data[at(k)] - max);
      const logSumExp = max + Math.log(sumExp);
      total += logSumExp - logits.data[at(label)];
      for (let k = 0; k < K; k++) {
        const prob = Math.exp(logits.data[at(k)] - logSumExp);
        dLogits.data[at(k)] = (prob - (k === label ? 1 : 0)) / count;
      }
    }
  }
  return { loss: total / count, dLogits };
}

/** y[n,o] = b[o] + Σ_i x[n,i] · w[o,i]   (w is torch's [out, in]) */
export function linear(x: RefArray, w: RefArray, b: RefArray | null | undefined): RefArray {
  if (x.shape.length !== 2 || w.shape.length !== 2 || x.shape[1] !== w.shape[1]) {
    fail(`linear: x [${x.shape.join(', ')}] and w [${w.shape.join(', ')}] do not fit`);
  }
  const [N, IN] = x.shape;
  const OUT = w.shape[0];
  const y = zeros([N, OUT]);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < OUT; o++) {
      let acc = b ? b.data[o] : 0;
      for (let i = 0; i < IN; i++) acc += x.data[n * IN + i] * w.data[o * IN + i];
      y.data[n * OUT + o] = acc;
    }
  }
  return y;
}

// ---------------------------------------------------------------- test helpers

/** mulberry32: a small seeded RNG giving uniform numbers in [0, 1). */
export function makeRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform values in [lo, hi) (default [-1, 1)). */
export function randomArray(shape: readonly number[], rng: () => number, lo = -1, hi = 1): RefArray {
  const a = zeros(shape);
  for (let i = 0; i < a.data.length; i++) a.data[i] = lo + (hi - lo) * rng();
  return a;
}

/**
 * API.md tolerance: per element |got - exp| <= rtol·|exp| + atol·max|exp|
 * (both 1e-5 by default). Returns null when all match, else a message with the
 * first bad index, the values and the count of mismatches. NaN matches only NaN
 * and infinities only themselves.
 */
export function allClose(
  got: ArrayLike<number>, exp: ArrayLike<number>, rtol = 1e-5, atol = 1e-5,
): string | null {
  if (got.length !== exp.length) return `length ${got.length}, expected ${exp.length}`;
  let maxAbs = 0;
  for (let i = 0; i < exp.length; i++) {
    const a = Math.abs(exp[i]);
    if (Number.isFinite(a) && a > maxAbs) maxAbs = a;
  }
  let bad = 0;
  let first = -1;
  let worst = 0;
  for (let i = 0; i < exp.length; i++) {
    const g = got[i];
    const e = exp[i];
    let ok: boolean;
    if (Number.isNaN(e)) ok = Number.isNaN(g);
    else if (!Number.isFinite(e)) ok = g === e;
    else ok = Math.abs(g - e) <= rtol * Math.abs(e) + atol * maxAbs;
    if (!ok) {
      if (first < 0) first = i;
      bad++;
      const err = Math.abs(g - e);
      if (err > worst || Number.isNaN(err)) worst = err;
    }
  }
  if (bad === 0) return null;
  return `${bad} of ${exp.length} elements differ; first at index ${first}: got ${got[first]}, ` +
    `expected ${exp[first]} (max|exp| ${maxAbs}, largest error ${worst})`;
}

/** Central differences: g[i] = (f(x + eps·e_i) - f(x - eps·e_i)) / (2·eps). x is restored. */
export function finiteDifference(
  f: (x: Float64Array) => number, x: Float64Array, eps = 1e-6,
): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const saved = x[i];
    x[i] = saved + eps;
    const plus = f(x);
    x[i] = saved - eps;
    const minus = f(x);
    x[i] = saved;
    g[i] = (plus - minus) / (2 * eps);
  }
  return g;
}

// ---------------------------------------------------------------- optimizers (torch.optim rules)

export interface SgdRefOpts { lr: number; momentum: number; dampening: number; weightDecay: number; nesterov: boolean }

/**
 * One torch.optim.SGD step in place on p (and the momentum buffer `buf`, null before the
 * first step): g = grad + wd·p; buf = g first, then momentum·buf + (1-dampening)·g;
 * g = g + momentum·buf (Nesterov) or buf; p -= lr·g. Returns the buffer.
 */
export function sgdStep(p: Float64Array, grad: ArrayLike<number>, buf: Float64Array | null, o: SgdRefOpts): Float64Array | null {
  let next = buf;
  if (o.momentum !== 0 && next === null) next = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) {
    let g = grad[i] + o.weightDecay * p[i];
    if (o.momentum !== 0) {
      next![i] = buf === null ? g : o.momentum * next![i] + (1 - o.dampening) * g;
      g = o.nesterov ? g + o.momentum * next![i] : next![i];
    }
    p[i] -= o.lr * g;
  }
  return next;
}

export interface AdamRefOpts { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; decoupled: boolean }

/**
 * One torch.optim.Adam (or AdamW when decoupled) step number t (from 1) in place on p, m, v:
 * g = grad + wd·p (AdamW: p *= 1 - lr·wd instead); m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²;
 * p -= lr · (m / (1-β1^t)) / (sqrt(v / (1-β2^t)) + eps).
 */
export function adamStep(p: Float64Array, grad: ArrayLike<number>, m: Float64Array, v: Float64Array, t: number, o: AdamRefOpts): void {
  for (let i = 0; i < p.length; i++) {
    let g = grad[i];
    if (o.decoupled) p[i] *= 1 - o.lr * o.weightDecay;
    else g += o.weightDecay * p[i];
    m[i] = o.beta1 * m[i] + (1 - o.beta1) * g;
    v[i] = o.beta2 * v[i] + (1 - o.beta2) * g * g;
    const mHat = m[i] / (1 - o.beta1 ** t);
    const vHat = v[i] / (1 - o.beta2 ** t);
    p[i] -= o.lr * mHat / (Math.sqrt(vHat) + o.eps);
  }
}
