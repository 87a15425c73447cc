// Global max / average / Lp pools over each (n, c) plane, and their gradients.
import { globalPoolGeometry, globalPoolGradGeometry, resolveLpNorm } from '../geometry.js';
import { Kernel } from '../runtime/kernels.js';
import type { Engine } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { checkTensor } from './util.js';
import source from '../../shaders/global_pool.wgsl';

const WG = 64;
const MODE = { max: 0, avg: 1, lp: 2 } as const;
type Mode = (typeof MODE)[keyof typeof MODE];

const reduceKernel = new Kernel('global_pool.wgsl', source, 'reduce');
const reduceVec4Kernel = new Kernel('global_pool.wgsl', source, 'reduce_vec4');
const combineKernel = new Kernel('global_pool.wgsl', source, 'combine');
const gradKernels = {
  max: { scalar: new Kernel('global_pool.wgsl', source, 'max_grad'), vec4: new Kernel('global_pool.wgsl', source, 'max_grad_vec4') },
  avg: { scalar: new Kernel('global_pool.wgsl', source, 'avg_grad'), vec4: new Kernel('global_pool.wgsl', source, 'avg_grad_vec4') },
  lp: { scalar: new Kernel('global_pool.wgsl', source, 'lp_grad'), vec4: new Kernel('global_pool.wgsl', source, 'lp_grad_vec4') },
};

/** Elements one lane should at least reduce before a tree step pays. */
const ELEMENTS_PER_LANE = 8;
/** A plane is split into chunks of at least this many elements when there are too few planes. */
const MIN_CHUNK = 4096;
/** Segments (plane chunks) wanted in flight to keep the device busy. */
const TARGET_SEGMENTS = 256;
/** Elements per invocation in the vec4 gradient kernels. */
const GRAD_GROUP = 16;

/** Lanes per segment: a power of two <= WG, about `elements / ELEMENTS_PER_LANE`. */
function lanesFor(elements: number): number {
  let lanes = 1;
  while (lanes < WG && lanes * ELEMENTS_PER_LANE * 2 <= elements) lanes *= 2;
  return lanes;
}

/** The P_CASE override: exact paths for p = 2, 1 and 3, pow for any other p. */
function pCase(p: number): number {
  return p === 2 || p === 1 || p === 3 ? p : 0;
}

/**
 * How many lanes reduce a segment: 'auto' picks 1 on SwiftShader and a workgroup tree elsewhere;
 * tests set 'tree' to check the tree on any adapter.
 */
export const globalPoolLanes: { mode: 'auto' | 'tree' } = { mode: 'auto' };

interface Reduced { value: Tensor; aux: Tensor }

/**
 * One pass for small or many planes; for few huge planes, a pass over chunks then a pass
 * merging each plane's chunk partials. `value` is [N, C, 1, 1]; `aux` the argmax (max mode).
 * On SwiftShader a lane reduces a whole segment (lanes = 1): its workgroup barriers cost more
 * than the tree saves. Planes of a multiple of 4 elements are read as vec4s; the other kernel
 * is compiled at the first use too, so no later image size compiles a pipeline.
 */
function reduce(op: string, engine: Engine, x: Tensor, mode: Mode, p: number, auxShape: 'indices' | 'scratch'): Reduced {
  const g = globalPoolGeometry(op, x.shape);
  const planes = g.N * g.C;
  const planeSize = g.H * g.W;
  const vec4 = planeSize % 4 === 0;
  const chunks = Math.max(1, Math.min(Math.floor(planeSize / MIN_CHUNK), Math.ceil(TARGET_SEGMENTS / planes)));
  const chunkLen = Math.ceil(planeSize / chunks / 4) * 4;
  const serialLanes = globalPoolLanes.mode === 'auto' && engine.adapterInfo.kind === 'swiftshader';
  const lanesOver = (elements: number) => (serialLanes ? 1 : lanesFor(elements));
  const value = engine.empty(g.outputShape, 'float32', op);
  const aux = engine.empty(auxShape === 'indices' ? g.outputShape : [planes], 'int32', op);
  const lanes = lanesOver(vec4 ? chunkLen / 4 : chunkLen);
  const segments = planes * chunks;
  const common = { planeSize, chunkLen, chunks, count: 0, p, groupsPerPlane: 0 };
  const overrides: Record<string, number> = mode === MODE.lp ? { MODE: mode, WG, P_CASE: pCase(p) } : { MODE: mode, WG };
  const groups = (n: number, l: number) => Math.ceil(n / (WG / l));
  const [kernel, other] = vec4 ? [reduceVec4Kernel, reduceKernel] : [reduceKernel, reduceVec4Kernel];
  void engine.precompile(other, overrides).catch(() => undefined);
  const input: Record<string, Tensor> = vec4 ? { xv: x } : { x };
  if (chunks === 1) {
    engine.run(kernel, { ...input, value, aux }, { ...common, segments, lanes, finalize: 1 }, groups(segments, lanes), overrides);
    return { value, aux };
  }
  const partialValue = engine.empty([segments], 'float32', op);
  const partialAux = engine.empty([segments], 'int32', op);
  engine.run(kernel, { ...input, value: partialValue, aux: partialAux }, { ...common, segments, lanes, finalize: 0 }, groups(segments, lanes), overrides);
  const combineLanes = lanesOver(chunks);
  engine.run(combineKernel, { partialValue, partialAux, value, aux }, { ...common, segments: planes, lanes: combineLanes, finalize: 1 },
    groups(planes, combineLanes), overrides);
  partialValue.dispose();
  partialAux.dispose();
  return { value, aux };
}

export function globalMaxPool(x: Tensor): Tensor {
  checkTensor('globalMaxPool', 'x', x);
  const r = reduce('globalMaxPool', x.engine, x, MODE.max, 2, 'scratch');
  r.aux.dispose();
  return r.value;
}

/** [N, C, 1, 1] maxima and their flat `h * W + w` indices (first maximum on ties). */
export function globalMaxPoolWithIndices(x: Tensor): { output: Tensor; indices: Tensor } {
  checkTensor('globalMaxPoolWithIndices', 'x', x);
  const r = reduce('globalMaxPoolWithIndices', x.engine, x, MODE.max, 2, 'indices');
  return { output: r.value, indices: r.aux };
}

export function globalAvgPool(x: Tensor): Tensor {
  checkTensor('globalAvgPool', 'x', x);
  const r = reduce('globalAvgPool', x.engine, x, MODE.avg, 2, 'scratch');
  r.aux.dispose();
  return r.value;
}

/** y = (Σ_{h,w} |x|^p)^(1/p) per plane, safe from overflow for large p. */
export function globalLpPool(x: Tensor, p = 2): Tensor {
  checkTensor('globalLpPool', 'x', x);
  const order = resolveLpNorm('globalLpPool', p);
  const r = reduce('globalLpPool', x.engine, x, MODE.lp, order, 'scratch');
  r.aux.dispose();
  return r.value;
}

/**
 * dx for a global pool, element-wise: 16 elements of one plane per invocation as vec4s when
 * planes hold a multiple of 4 elements, else one per invocation (both compile at the first use).
 */
function elementwise(kernels: { scalar: Kernel; vec4: Kernel }, op: string, engine: Engine, bindings: Record<string, Tensor>,
  shape: readonly number[], overrides: Record<string, number>, p: number): Tensor {
  const dx = engine.empty(shape, 'float32', op);
  const planeSize = shape[2]! * shape[3]!;
  const planes = shape[0]! * shape[1]!;
  const groupsPerPlane = Math.ceil(planeSize / GRAD_GROUP);
  const vec4 = planeSize % 4 === 0;
  const count = vec4 ? planes * groupsPerPlane : dx.size;
  const uniforms = { segments: 0, planeSize, chunkLen: 0, chunks: 0, lanes: 1, finalize: 0, count, p, groupsPerPlane };
  void engine.precompile(vec4 ? kernels.scalar : kernels.vec4, overrides).catch(() => undefined);
  if (vec4) {
    const { x, ...rest } = bindings;
    engine.run(kernels.vec4, { ...rest, ...(x ? { xv: x } : {}), dxv: dx }, uniforms, Math.ceil(count / WG), overrides);
  } else {
    engine.run(kernels.scalar, { ...bindings, dx }, uniforms, Math.ceil(count / WG), overrides);
  }
  return dx;
}

/** The whole dy of a plane goes to its first maximum (torch's amax would split ties). */
export function globalMaxPoolGrad(dy: Tensor, x: Tensor): Tensor {
  const op = 'globalMaxPoolGrad';
  checkTensor(op, 'dy', dy);
  checkTensor(op, 'x', x, dy.engine);
  globalPoolGradGeometry(op, dy.shape, x.shape);
  const { value, aux } = reduce(op, dy.engine, x, MODE.max, 2, 'scratch');
  value.dispose();
  const dx = elementwise(gradKernels.max, op, dy.engine, { dy, argmax: aux }, x.shape, { WG }, 2);
  aux.dispose();
  return dx;
}

export function globalAvgPoolGrad(dy: Tensor, inputShape: readonly number[]): Tensor {
  const op = 'globalAvgPoolGrad';
  checkTensor(op, 'dy', dy);
  const g = globalPoolGradGeometry(op, dy.shape, inputShape);
  return elementwise(gradKernels.avg, op, dy.engine, { dy }, [g.N, g.C, g.H, g.W], { WG }, 2);
}

/** dx = dy · sign(x)·|x|^(p-1) / y^(p-1); 0 for an all-zero plane. */
export function globalLpPoolGrad(dy: Tensor, x: Tensor, y: Tensor, p = 2): Tensor {
  const op = 'globalLpPoolGrad';
  checkTensor(op, 'dy', dy);
  checkTensor(op, 'x', x, dy.engine);
  checkTensor(op, 'y', y, dy.engine);
  const order = resolveLpNorm(op, p);
  globalPoolGradGeometry(op, dy.shape, x.shape, y.shape);
  return elementwise(gradKernels.lp, op, dy.engine, { dy, x, y }, x.shape, { WG, P_CASE: pCase(order) }, order);
}
