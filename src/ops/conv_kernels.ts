// Launchers for the conv2d kernels: each takes a validated geometry and records its dispatches.
// Which one runs, with which block or tile shape, is decided in conv.ts.
import type { Conv2dGeometry } from '../geometry.js';
import { Kernel } from '../runtime/kernels.js';
import type { Engine } from '../engine.js';
import type { Tensor } from '../tensor.js';
import padSource from '../../shaders/pad2d.wgsl';
import directSource from '../../shaders/conv2d_direct.wgsl';
import tiledSource from '../../shaders/conv2d.wgsl';
import depthwiseSource from '../../shaders/conv2d_depthwise.wgsl';
import depthwise3x3Source from '../../shaders/conv2d_depthwise3x3.wgsl';
import fcSource from '../../shaders/conv2d_fc.wgsl';

const padKernel = new Kernel('pad2d.wgsl', padSource, 'main');
const directKernel = new Kernel('conv2d_direct.wgsl', directSource, 'main');
const packKernel = new Kernel('conv2d_direct.wgsl', directSource, 'pack_weights');
const tiledKernel = new Kernel('conv2d.wgsl', tiledSource, 'main');
const depthwiseKernel = new Kernel('conv2d_depthwise.wgsl', depthwiseSource, 'main');
const depthwise3x3Kernels = [
  new Kernel('conv2d_depthwise3x3.wgsl', depthwise3x3Source, 'main'),
  new Kernel('conv2d_depthwise3x3.wgsl', depthwise3x3Source, 'main_s2'),
];
const fcKernel = new Kernel('conv2d_fc.wgsl', fcSource, 'main');

/** Invocations per workgroup of the direct, depthwise and fc kernels (their `WG`). */
const WG = 64;

function flags(bias: Tensor | null, g: Conv2dGeometry): { hasBias: number; relu: number } {
  return { hasBias: bias ? 1 : 0, relu: g.relu ? 1 : 0 };
}

/**
 * Zero-pads x once into a scratch tensor [planes + extraPlanes, Hp, Wp] (Wp % 4 == 0) whose rows
 * reach at least `needCols` columns; the extra planes are zeros. The caller disposes it.
 */
function padInput(engine: Engine, x: Tensor, g: Conv2dGeometry, needCols: number, extraPlanes: number): { xp: Tensor; Hp: number; Wp: number; planes: number } {
  const Wp = Math.ceil(Math.max(needCols, g.W + g.padLeft) / 4) * 4;
  const Hp = g.H + g.padTop + g.padBottom;
  const planes = g.N * g.Cin;
  const elements = (planes + extraPlanes) * Hp * Wp;
  const xp = engine.empty([elements], 'float32', 'conv2d padded input');
  const count4 = elements / 4;
  engine.run(padKernel, { x, xp }, { H: g.H, W: g.W, Hp, Wp, padTop: g.padTop, padLeft: g.padLeft, planes, count4 }, Math.ceil(count4 / 256));
  return { xp, Hp, Wp, planes };
}

/** Register-blocked direct kernel: blockCo channels x blockW columns per invocation (4, 8 or 16 each). */
export function runDirect(engine: Engine, x: Tensor, weight: Tensor, bias: Tensor | null, g: Conv2dGeometry, y: Tensor, blockCo: number, blockW: number): void {
  const wBlocks = Math.ceil(g.outW / blockW);
  const coBlocksPerGroup = Math.ceil(g.coutPerGroup / blockCo);
  const K = g.cinPerGroup * g.kH * g.kW;
  const Kpad = Math.ceil(K / 4) * 4;
  const coPad = coBlocksPerGroup * blockCo;
  const packedCount = g.groups * (Kpad + 1) * coPad;
  const wp = engine.empty([packedCount], 'float32', 'conv2d packed weights');
  engine.run(packKernel, { weight, packBias: bias ?? weight, packed: wp }, { K, Kpad, coutPerGroup: g.coutPerGroup, coPad, count: packedCount, hasBias: bias ? 1 : 0 }, Math.ceil(packedCount / 256));
  // The last column block reads up to here; one extra zero plane serves the taps past K.
  const needCols = (wBlocks * blockW - 1) * g.strideW + (g.kW - 1) * g.dilationW + 1;
  let padded: ReturnType<typeof padInput>;
  try {
    padded = padInput(engine, x, g, needCols, 1);
  } catch (e) {
    wp.dispose();
    throw e;
  }
  const { xp, Hp, Wp, planes } = padded;
  const total = g.N * g.groups * coBlocksPerGroup * g.outH * wBlocks;
  engine.run(
    directKernel,
    { xp, wp, y },
    {
      Cin: g.Cin, Hp, Wp, Cout: g.Cout, outH: g.outH, outW: g.outW,
      cinPerGroup: g.cinPerGroup, coutPerGroup: g.coutPerGroup, coBlocksPerGroup, wBlocks, groups: g.groups,
      kH: g.kH, kW: g.kW, strideH: g.strideH, strideW: g.strideW, dilationH: g.dilationH, dilationW: g.dilationW,
      K, Kpad, coPad, zeroOffset: planes * Hp * Wp, total, relu: g.relu ? 1 : 0,
    },
    Math.ceil(total / WG),
    { BLOCK_CO: blockCo, BLOCK_W: blockW },
  );
  xp.dispose();
  wp.dispose();
  // The 16-channel block's width depends on the row length (conv.ts directBlock): compile its
  // sibling now, once per engine, so that a later image size never compiles a pipeline.
  if (blockCo === 16) void engine.precompile(directKernel, { BLOCK_CO: 16, BLOCK_W: blockW === 8 ? 16 : 8 }).catch(() => undefined);
}

/** Workgroup-tiled implicit GEMM: tileM channels x tileN pixels per workgroup, tileK taps per step. */
export function runTiled(engine: Engine, x: Tensor, weight: Tensor, bias: Tensor | null, g: Conv2dGeometry, y: Tensor, tileM: number, tileN: number, tileK: number): void {
  const M = g.coutPerGroup;
  const K = g.cinPerGroup * g.kH * g.kW;
  const P = g.N * g.outH * g.outW;
  const tilesM = Math.ceil(M / tileM);
  const tilesN = Math.ceil(P / tileN);
  const tiles = tilesM * tilesN * g.groups;
  const aligned = M % tileM === 0 && P % tileN === 0 && K % tileK === 0;
  engine.run(
    tiledKernel,
    // The vec4 view binds the whole (pooled, >= 16-byte) buffer: a 1-3 element weight is still a valid vec4 binding.
    { x, weight, weight4: weight.storage.buffer, bias: bias ?? weight, y },
    {
      Cin: g.Cin, H: g.H, W: g.W, Cout: g.Cout, outH: g.outH, outW: g.outW,
      cinPerGroup: g.cinPerGroup, coutPerGroup: g.coutPerGroup,
      kH: g.kH, kW: g.kW, strideH: g.strideH, strideW: g.strideW, dilationH: g.dilationH, dilationW: g.dilationW,
      padTop: g.padTop, padLeft: g.padLeft, M, K, P, tilesM, tilesN, tiles, ...flags(bias, g),
    },
    tiles,
    { TILE_M: tileM, TILE_N: tileN, TILE_K: tileK, ALIGNED: aligned ? 1 : 0 },
  );
}

/** Depthwise (one input channel per group): 8 columns of one channel per invocation. */
export function runDepthwise(engine: Engine, x: Tensor, weight: Tensor, bias: Tensor | null, g: Conv2dGeometry, y: Tensor): void {
  const wBlocks = Math.ceil(g.outW / 8);
  const needCols = (wBlocks * 8 - 1) * g.strideW + (g.kW - 1) * g.dilationW + 1;
  const { xp, Hp, Wp } = padInput(engine, x, g, needCols, 0);
  const total = g.N * g.Cout * g.outH * wBlocks;
  engine.run(
    depthwiseKernel,
    { xp, weight, bias: bias ?? weight, y },
    {
      Cin: g.Cin, Hp, Wp, Cout: g.Cout, outH: g.outH, outW: g.outW, coutPerGroup: g.coutPerGroup, wBlocks,
      kH: g.kH, kW: g.kW, strideH: g.strideH, strideW: g.strideW, dilationH: g.dilationH, dilationW: g.dilationW,
      total, ...flags(bias, g),
    },
    Math.ceil(total / WG),
  );
  xp.dispose();
}

/** Depthwise 3x3 stride 1 or 2 (both ways) undilated: 8 rows x 8 columns of one channel per invocation, reading x unpadded. */
export function runDepthwise3x3(engine: Engine, x: Tensor, weight: Tensor, bias: Tensor | null, g: Conv2dGeometry, y: Tensor): void {
  const wBlocks = Math.ceil(g.outW / 8);
  const hBlocks = Math.ceil(g.outH / 8);
  const total = g.N * g.Cout * hBlocks * wBlocks;
  engine.run(
    depthwise3x3Kernels[g.strideH - 1]!,
    { x, weight, bias: bias ?? weight, y },
    {
      H: g.H, W: g.W, outH: g.outH, outW: g.outW, padTop: g.padTop, padLeft: g.padLeft,
      Cin: g.Cin, Cout: g.Cout, coutPerGroup: g.coutPerGroup, wBlocks, hBlocks, total, ...flags(bias, g),
    },
    Math.ceil(total / WG),
  );
}

/** Kernel == unpadded input (output 1x1): a fully connected layer; `split` invocations per 4 output channels. */
export function runFc(engine: Engine, x: Tensor, weight: Tensor, bias: Tensor | null, g: Conv2dGeometry, y: Tensor, split: number): void {
  const K = g.cinPerGroup * g.kH * g.kW;
  const coBlocksPerGroup = Math.ceil(g.coutPerGroup / 4);
  const blocks = g.groups * coBlocksPerGroup;
  engine.run(
    fcKernel,
    // The vec4 views bind whole (pooled, >= 16-byte) buffers, valid even for a 1-3 element tensor.
    { x, x4: x.storage.buffer, weight, weight4: weight.storage.buffer, bias: bias ?? weight, y },
    { Cout: g.Cout, coutPerGroup: g.coutPerGroup, coBlocksPerGroup, blocks, N: g.N, K, groups: g.groups, ...flags(bias, g) },
    Math.ceil(blocks / (WG / split)),
    { SPLIT: split, VEC4: K % 4 === 0 ? 1 : 0 },
  );
}
