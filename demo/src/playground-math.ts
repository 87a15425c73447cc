// The lecture's shape arithmetic, spelled out with the numbers for the playground's text.
// Pure: no DOM, no GPU. The GPU result's shape is shown next to it, so a disagreement would show.

export interface ConvSettings {
  kernel: number;
  stride: number;
  padding: number;
  dilation: number;
  inChannels: number;
  outChannels: number;
}

export type PoolMode = 'none' | 'max' | 'avg' | 'l2';

export interface PoolSettings {
  mode: PoolMode;
  size: number;
  stride: number;
}

export interface AxisSize {
  /** floor((W - F' + 2P) / S) + 1, or null when the window does not fit (F' > W + 2P). */
  out: number | null;
  /** The exact quotient (W - F' + 2P) / S + 1 before flooring. */
  exact: number;
  /** (W - F' + 2P) mod S: the input columns the last window leaves out. */
  remainder: number;
  effectiveKernel: number;
}

/** Output size along one axis: out = floor((W - F' + 2P) / S) + 1 with F' = D(F - 1) + 1. */
export function axisSize(inSize: number, kernel: number, stride: number, padding: number, dilation = 1): AxisSize {
  const effectiveKernel = dilation * (kernel - 1) + 1;
  const span = inSize - effectiveKernel + 2 * padding;
  if (span < 0) return { out: null, exact: span / stride + 1, remainder: 0, effectiveKernel };
  return { out: Math.floor(span / stride) + 1, exact: span / stride + 1, remainder: span % stride, effectiveKernel };
}

const fmt = (x: number): string => (Number.isInteger(x) ? String(x) : x.toFixed(2));

/** "(28 − 5 + 2·1)/2 + 1 = 13.5 → 13" with the dilated kernel spelled out when D > 1. */
export function convFormulaText(axis: 'W' | 'H', inSize: number, s: ConvSettings): string {
  const a = axisSize(inSize, s.kernel, s.stride, s.padding, s.dilation);
  const kernelText = s.dilation === 1 ? `${s.kernel}` : `${a.effectiveKernel}`;
  const prefix = s.dilation === 1 ? '' : `F′ = D(F − 1) + 1 = ${s.dilation}·(${s.kernel} − 1) + 1 = ${a.effectiveKernel}; `;
  const numbers = `(${inSize} − ${kernelText} + 2·${s.padding})/${s.stride} + 1`;
  if (a.out === null) return `${prefix}${axis}out = ${numbers}: the kernel (${a.effectiveKernel}) is larger than the padded input (${inSize + 2 * s.padding})`;
  const floorNote = Number.isInteger(a.exact) ? `${a.out}` : `${fmt(a.exact)} → ⌊·⌋ = ${a.out} (the last ${a.remainder} of ${inSize + 2 * s.padding} padded pixels are not covered)`;
  return `${prefix}${axis}out = ${numbers} = ${floorNote}`;
}

export function poolFormulaText(axis: 'W' | 'H', inSize: number, p: PoolSettings): string {
  const a = axisSize(inSize, p.size, p.stride, 0, 1);
  const numbers = `(${inSize} − ${p.size})/${p.stride} + 1`;
  if (a.out === null) return `${axis}out = ${numbers}: the window (${p.size}) is larger than the input (${inSize})`;
  return `${axis}out = ${numbers} = ${Number.isInteger(a.exact) ? a.out : `${fmt(a.exact)} → ⌊·⌋ = ${a.out}`}`;
}

/** Weights F·F·Cin·Cout plus one bias per output channel; pooling has none. */
export function convParameterCount(s: ConvSettings): { count: number; text: string } {
  const count = s.kernel * s.kernel * s.inChannels * s.outChannels + s.outChannels;
  return { count, text: `F·F·Cin·Cout + Cout = ${s.kernel}·${s.kernel}·${s.inChannels}·${s.outChannels} + ${s.outChannels} = ${count}` };
}

export interface ReceptiveField {
  /** Input pixels one output value sees, per axis. */
  size: number;
  /** Input pixels between neighbouring output values. */
  jump: number;
  text: string;
}

/** r_out = r_in + (F' − 1)·j_in, j_out = j_in·S: conv first, then the pool. */
export function receptiveField(conv: ConvSettings, pool: PoolSettings): ReceptiveField {
  const convKernel = conv.dilation * (conv.kernel - 1) + 1;
  const afterConv = 1 + (convKernel - 1);
  const convJump = conv.stride;
  const convText = `conv: 1 + (${convKernel} − 1)·1 = ${afterConv}, jump ${convJump}`;
  if (pool.mode === 'none') return { size: afterConv, jump: convJump, text: convText };
  const size = afterConv + (pool.size - 1) * convJump;
  const jump = convJump * pool.stride;
  return { size, jump, text: `${convText}; pool: ${afterConv} + (${pool.size} − 1)·${convJump} = ${size}, jump ${convJump}·${pool.stride} = ${jump}` };
}
