// Transposed convolution as a GATHER over output pixels (no atomics, no racy scatter), and the
// same loop with the roles of the strides swapped: a plain strided convolution. One kernel so
// serves convTranspose2d, conv2dGradInput (a transposed conv of dy with the conv weights) and
// convTranspose2dGradInput (a conv of dy with the transposed-conv weights read as OIHW) wherever
// conv2d's own kernels do not (strides > 1, crops).
//
// Tap rule, per axis: t = out * outStride + padOffset + k * tapStep; the tap reads input
// position t / inStride when t is a multiple of inStride and inside the input, else nothing.
//   transposed conv: outStride 1, inStride s, padOffset +pad, tapStep -d  (in = (out + p - k*d) / s)
//   plain conv:      outStride s, inStride 1, padOffset -pad, tapStep +d  (in = out*s - p + k*d)
// Output pixels of one stride phase (out mod inStride) share their set of valid taps, so each
// invocation takes one output row and 8 columns of one phase: input columns outStride apart for
// every tap, with no divisibility test per column. Rows and columns no tap reaches (floor-mode
// leftovers of a conv's input) get exactly 0 (or the bias).
//
// As conv2d_direct.wgsl (SwiftShader speed facts): register blocks of CO_BLOCK channels x 8
// columns in vec4 accumulators written out by hand, no workgroup memory; x arrives with zero
// columns on both sides (pad_planes) so column loads need no bounds check; the weights arrive
// repacked by pack_weights as [groups][kH·kW][in/groups][out/groups rounded up to CO_BLOCK], so
// 4 output channels load as one aligned vec4.

override CO_BLOCK: u32 = 8u;   // output channels per invocation: 4, 8 or 16
const WG: u32 = 64u;

struct Params {
  inC: u32, inH: u32, inWp: u32, leftPad: u32,   // x: [N, inC, inH, inWp], input column c at c + leftPad
  outC: u32, outH: u32, outW: u32,
  inPerGroup: u32, outPerGroup: u32, outPadded: u32, coBlocksPerGroup: u32, groups: u32,
  kH: u32, kW: u32,
  outStrideH: u32, outStrideW: u32, inStrideH: u32, inStrideW: u32,
  padOffsetH: i32, padOffsetW: i32, tapStepH: i32, tapStepW: i32,
  rowsPerPhase: u32, colBlocksPerPhase: u32,
  hasBias: u32, invocations: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> wp: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

// One unit: 4 columns (array index) x 4 channels (vec4 lanes).
fn fma_unit(u: ptr<function, array<vec4<f32>, 4>>, w: vec4<f32>, xs: vec4<f32>) {
  (*u)[0] += w * xs.x;
  (*u)[1] += w * xs.y;
  (*u)[2] += w * xs.z;
  (*u)[3] += w * xs.w;
}

fn load4(at: u32, step: u32) -> vec4<f32> {
  return vec4<f32>(x[at], x[at + step], x[at + 2u * step], x[at + 3u * step]);
}

// Writes one unit: channels oc0 + 4q + c, columns ow0 + (4h + j) * colStep.
fn store_unit(u: array<vec4<f32>, 4>, q: u32, h: u32, oc0: u32, g: u32, rowOut: u32, ow0: u32, colStep: u32) {
  let p = params;
  for (var c = 0u; c < 4u; c++) {
    let oc = oc0 + 4u * q + c;
    if (oc >= p.outPerGroup) { return; }
    let channel = g * p.outPerGroup + oc;
    let b = select(0.0, bias[channel], p.hasBias != 0u);
    let at = rowOut + channel * p.outH * p.outW;
    for (var j = 0u; j < 4u; j++) {
      let ow = ow0 + (4u * h + j) * colStep;
      if (ow < p.outW) { y[at + ow] = u[j][c] + b; }
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let p = params;
  let index = (wid.x + wid.y * nwg.x) * WG + lid;
  if (index >= p.invocations) { return; }

  // Column block fastest, then row within the phase: neighbouring invocations share a phase
  // (the same valid taps) and read neighbouring input.
  var r = index;
  let colBlock = r % p.colBlocksPerPhase; r = r / p.colBlocksPerPhase;
  let rowInPhase = r % p.rowsPerPhase; r = r / p.rowsPerPhase;
  let phaseW = r % p.inStrideW; r = r / p.inStrideW;
  let phaseH = r % p.inStrideH; r = r / p.inStrideH;
  let blocksPerImage = p.groups * p.coBlocksPerGroup;
  let outBlock = r % blocksPerImage;
  let n = r / blocksPerImage;
  let oh = phaseH + p.inStrideH * rowInPhase;
  if (oh >= p.outH) { return; }
  let colStep = p.inStrideW;
  let ow0 = phaseW + colStep * colBlock * 8u;
  let g = outBlock / p.coBlocksPerGroup;
  let oc0 = (outBlock % p.coBlocksPerGroup) * CO_BLOCK;

  var u00: array<vec4<f32>, 4>; var u01: array<vec4<f32>, 4>; var u10: array<vec4<f32>, 4>; var u11: array<vec4<f32>, 4>;
  var u20: array<vec4<f32>, 4>; var u21: array<vec4<f32>, 4>; var u30: array<vec4<f32>, 4>; var u31: array<vec4<f32>, 4>;

  let plane = p.inH * p.inWp;
  let xImage = (n * p.inC + g * p.inPerGroup) * plane;
  let quads = p.outPadded / 4u;
  let wGroup = g * p.kH * p.kW * p.inPerGroup * quads + oc0 / 4u;
  let step = p.outStrideW;
  for (var kh = 0u; kh < p.kH; kh++) {
    let th = i32(oh * p.outStrideH) + p.padOffsetH + i32(kh) * p.tapStepH;
    if (th < 0 || th % i32(p.inStrideH) != 0) { continue; }
    let ih = u32(th) / p.inStrideH;
    if (ih >= p.inH) { continue; }
    for (var kw = 0u; kw < p.kW; kw++) {
      let tw = i32(ow0 * p.outStrideW) + p.padOffsetW + i32(kw) * p.tapStepW;
      if (tw % i32(p.inStrideW) != 0) { continue; }
      // The left zero columns make this >= 0 for every valid tap.
      var xo = xImage + ih * p.inWp + u32(tw / i32(p.inStrideW) + i32(p.leftPad));
      var wo = wGroup + (kh * p.kW + kw) * p.inPerGroup * quads;
      for (var ic = 0u; ic < p.inPerGroup; ic++) {
        let x0 = load4(xo, step);
        let x1 = load4(xo + 4u * step, step);
        let w0 = wp[wo];
        fma_unit(&u00, w0, x0); fma_unit(&u01, w0, x1);
        if (CO_BLOCK >= 8u) {
          let w1 = wp[wo + 1u];
          fma_unit(&u10, w1, x0); fma_unit(&u11, w1, x1);
        }
        if (CO_BLOCK >= 16u) {
          let w2 = wp[wo + 2u];
          let w3 = wp[wo + 3u];
          fma_unit(&u20, w2, x0); fma_unit(&u21, w2, x1);
          fma_unit(&u30, w3, x0); fma_unit(&u31, w3, x1);
        }
        xo += plane;
        wo += quads;
      }
    }
  }

  let rowOut = n * p.outC * p.outH * p.outW + oh * p.outW;
  store_unit(u00, 0u, 0u, oc0, g, rowOut, ow0, colStep); store_unit(u01, 0u, 1u, oc0, g, rowOut, ow0, colStep);
  if (CO_BLOCK >= 8u) { store_unit(u10, 1u, 0u, oc0, g, rowOut, ow0, colStep); store_unit(u11, 1u, 1u, oc0, g, rowOut, ow0, colStep); }
  if (CO_BLOCK >= 16u) {
    store_unit(u20, 2u, 0u, oc0, g, rowOut, ow0, colStep); store_unit(u21, 2u, 1u, oc0, g, rowOut, ow0, colStep);
    store_unit(u30, 3u, 0u, oc0, g, rowOut, ow0, colStep); store_unit(u31, 3u, 1u, oc0, g, rowOut, ow0, colStep);
  }
}

// Weights for `main` and conv_transpose2d_columns.wgsl: wp[g][tap][i'][slot][lane] from either
// layout, a vec4 per slot: output channel o' = slot·laneCo + lane, zero where lane >= laneCo or
// o' >= outPerGroup (`main`: laneCo 4, so wp[g][tap][i'][o'] with o' padded to outPadded).
// Element (g, o', i', tap) of the source is at g·inPerGroup·outPerGroup·kArea + o'·strideOut + i'·strideIn + tap.
struct PackParams { inPerGroup: u32, outPerGroup: u32, outPadded: u32, laneCo: u32, kArea: u32, strideOut: u32, strideIn: u32, count: u32 }
@group(0) @binding(8) var<uniform> packParams: PackParams;
@group(0) @binding(9) var<storage, read> weightSource: array<f32>;
@group(0) @binding(10) var<storage, read_write> packed: array<f32>;

@compute @workgroup_size(256)
fn pack_weights(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let q = packParams;
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= q.count) { return; }
  let lane = i % 4u;
  let slot = (i % q.outPadded) / 4u;
  var r = i / q.outPadded;
  let ic = r % q.inPerGroup; r = r / q.inPerGroup;
  let tap = r % q.kArea;
  let g = r / q.kArea;
  let o = slot * q.laneCo + lane;
  let inside = lane < q.laneCo && o < q.outPerGroup;
  let at = g * q.inPerGroup * q.outPerGroup * q.kArea + select(0u, o, inside) * q.strideOut + ic * q.strideIn + tap;
  packed[i] = select(0.0, weightSource[at], inside);
}

// A transposed conv of a 1x1 input whose kernel lands whole inside the output (no padding, no
// dilation, no crop): y[n, g, k] = Σ_i' x[n, g·inPerGroup + i'] · w[g·inPerGroup + i', k] + bias,
// k = (o', kh, kw) flattened: a matrix product with the weights read as stored, 4 k per invocation
// (neighbouring invocations read neighbouring weights), N_BLOCK images at once. fc_transposed_vec4
// reads the weights as vec4, 16 k per invocation, when every group's rows are whole vec4
// (kPerGroup % 4 == 0).
override N_BLOCK: u32 = 4u;   // 1 or 4
// kQuads: ceil(kPerGroup / 4); kBlocks: ceil(kQuads / 4), the vec4 entry's 16-column blocks.
struct FcParams { batch: u32, inC: u32, inPerGroup: u32, groups: u32, kPerGroup: u32, kQuads: u32, kBlocks: u32, kArea: u32, hasBias: u32, invocations: u32 }
@group(0) @binding(11) var<uniform> fcParams: FcParams;
@group(0) @binding(12) var<storage, read> fcX: array<f32>;
@group(0) @binding(13) var<storage, read> fcW: array<f32>;
@group(0) @binding(16) var<storage, read> fcW4: array<vec4<f32>>;
@group(0) @binding(14) var<storage, read> fcBias: array<f32>;
@group(0) @binding(15) var<storage, read_write> fcY: array<f32>;

// Where one invocation works: images n0.., group g, columns k0..k0+3; x offsets per image
// (images past the batch read its last one, never written).
struct FcTile { n0: u32, g: u32, k0: u32, w0: u32, x0: u32, x1: u32, x2: u32, x3: u32 }

fn fc_tile(index: u32) -> FcTile {
  let q = fcParams;
  let r = index / q.kQuads;
  let g = r % q.groups;
  let n0 = (r / q.groups) * N_BLOCK;
  let nLast = q.batch - 1u;
  let xo = g * q.inPerGroup;
  return FcTile(n0, g, (index % q.kQuads) * 4u, g * q.inPerGroup * q.kPerGroup,
                min(n0, nLast) * q.inC + xo, min(n0 + 1u, nLast) * q.inC + xo,
                min(n0 + 2u, nLast) * q.inC + xo, min(n0 + 3u, nLast) * q.inC + xo);
}

fn fc_accumulate(acc: ptr<function, array<vec4<f32>, 4>>, w: vec4<f32>, t: FcTile, ic: u32) {
  (*acc)[0] += w * fcX[t.x0 + ic];
  if (N_BLOCK >= 4u) {
    (*acc)[1] += w * fcX[t.x1 + ic];
    (*acc)[2] += w * fcX[t.x2 + ic];
    (*acc)[3] += w * fcX[t.x3 + ic];
  }
}

fn fc_store(acc: array<vec4<f32>, 4>, t: FcTile) {
  let q = fcParams;
  for (var i = 0u; i < N_BLOCK; i++) {
    let n = t.n0 + i;
    if (n >= q.batch) { return; }
    for (var j = 0u; j < 4u; j++) {
      let k = t.k0 + j;
      if (k >= q.kPerGroup) { break; }
      let channel = t.g * (q.kPerGroup / q.kArea) + k / q.kArea;
      let b = select(0.0, fcBias[channel], q.hasBias != 0u);
      fcY[(n * q.groups + t.g) * q.kPerGroup + k] = acc[i][j] + b;
    }
  }
}

@compute @workgroup_size(WG)
fn fc_transposed(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let index = (wid.x + wid.y * nwg.x) * WG + lid;
  if (index >= fcParams.invocations) { return; }
  let t = fc_tile(index);
  // Columns past the group read its last one (never written).
  let kLast = fcParams.kPerGroup - 1u;
  let k1 = min(t.k0 + 1u, kLast);
  let k2 = min(t.k0 + 2u, kLast);
  let k3 = min(t.k0 + 3u, kLast);
  var acc: array<vec4<f32>, 4>;
  var wo = t.w0;
  for (var ic = 0u; ic < fcParams.inPerGroup; ic++) {
    fc_accumulate(&acc, vec4<f32>(fcW[wo + t.k0], fcW[wo + k1], fcW[wo + k2], fcW[wo + k3]), t, ic);
    wo += fcParams.kPerGroup;
  }
  fc_store(acc, t);
}

fn fc_accumulate_quads(acc: ptr<function, array<vec4<f32>, 4>>, w0: vec4<f32>, w1: vec4<f32>, w2: vec4<f32>, w3: vec4<f32>, xv: f32) {
  (*acc)[0] += w0 * xv;
  (*acc)[1] += w1 * xv;
  (*acc)[2] += w2 * xv;
  (*acc)[3] += w3 * xv;
}

fn fc_store_quads(acc: array<vec4<f32>, 4>, n: u32, g: u32, k0: u32) {
  let q = fcParams;
  if (n >= q.batch) { return; }
  for (var i = 0u; i < 4u; i++) {
    for (var j = 0u; j < 4u; j++) {
      let k = k0 + 4u * i + j;
      if (k >= q.kPerGroup) { return; }
      let channel = g * (q.kPerGroup / q.kArea) + k / q.kArea;
      let b = select(0.0, fcBias[channel], q.hasBias != 0u);
      fcY[(n * q.groups + g) * q.kPerGroup + k] = acc[i][j] + b;
    }
  }
}

// 16 columns (4 vec4) per invocation: each invocation walks its own 64-byte slice of every weight
// row, which a CPU's caches stream far better than 16-byte slices (measured ~1.8x on SwiftShader).
@compute @workgroup_size(WG)
fn fc_transposed_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_index) lid: u32) {
  let q = fcParams;
  let index = (wid.x + wid.y * nwg.x) * WG + lid;
  if (index >= q.invocations) { return; }
  let kBlock = index % q.kBlocks;
  let r = index / q.kBlocks;
  let g = r % q.groups;
  let n0 = (r / q.groups) * N_BLOCK;
  let nLast = q.batch - 1u;
  let xo = g * q.inPerGroup;
  let x0 = min(n0, nLast) * q.inC + xo;
  let x1 = min(n0 + 1u, nLast) * q.inC + xo;
  let x2 = min(n0 + 2u, nLast) * q.inC + xo;
  let x3 = min(n0 + 3u, nLast) * q.inC + xo;
  // Quads past the group read its last one (never written).
  let quadLast = q.kQuads - 1u;
  let quad0 = kBlock * 4u;
  let rowStart = g * q.inPerGroup * q.kQuads;
  var w0 = rowStart + min(quad0, quadLast);
  var w1 = rowStart + min(quad0 + 1u, quadLast);
  var w2 = rowStart + min(quad0 + 2u, quadLast);
  var w3 = rowStart + min(quad0 + 3u, quadLast);
  var acc0: array<vec4<f32>, 4>; var acc1: array<vec4<f32>, 4>; var acc2: array<vec4<f32>, 4>; var acc3: array<vec4<f32>, 4>;
  for (var ic = 0u; ic < q.inPerGroup; ic++) {
    let v0 = fcW4[w0]; let v1 = fcW4[w1]; let v2 = fcW4[w2]; let v3 = fcW4[w3];
    fc_accumulate_quads(&acc0, v0, v1, v2, v3, fcX[x0 + ic]);
    if (N_BLOCK >= 4u) {
      fc_accumulate_quads(&acc1, v0, v1, v2, v3, fcX[x1 + ic]);
      fc_accumulate_quads(&acc2, v0, v1, v2, v3, fcX[x2 + ic]);
      fc_accumulate_quads(&acc3, v0, v1, v2, v3, fcX[x3 + ic]);
    }
    w0 += q.kQuads; w1 += q.kQuads; w2 += q.kQuads; w3 += q.kQuads;
  }
  let k0 = quad0 * 4u;
  fc_store_quads(acc0, n0, g, k0);
  if (N_BLOCK >= 4u) {
    fc_store_quads(acc1, n0 + 1u, g, k0);
    fc_store_quads(acc2, n0 + 2u, g, k0);
    fc_store_quads(acc3, n0 + 3u, g, k0);
  }
}

// Weights of a conv read as those of the transposed conv that undoes its taps, and back:
// [groups·A, B, kH, kW] -> [groups·B, A, kH, kW] with both kernel axes flipped. A stride-1
// transposed conv is the plain conv of its input with these weights and padding d·(k-1) - p.
struct FlipParams { aPerGroup: u32, bPerGroup: u32, kH: u32, kW: u32, count: u32 }
@group(0) @binding(5) var<uniform> flipParams: FlipParams;
@group(0) @binding(6) var<storage, read> weights: array<f32>;
@group(0) @binding(7) var<storage, read_write> flipped: array<f32>;

@compute @workgroup_size(256)
fn flip_weights(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let q = flipParams;
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= q.count) { return; }
  let kArea = q.kH * q.kW;
  // i indexes the output [g, b', a', kh, kw].
  let tap = i % kArea;
  var r = i / kArea;
  let a = r % q.aPerGroup; r = r / q.aPerGroup;
  let b = r % q.bPerGroup;
  let g = r / q.bPerGroup;
  let flippedTap = (q.kH - 1u - tap / q.kW) * q.kW + (q.kW - 1u - tap % q.kW);
  flipped[i] = weights[((g * q.aPerGroup + a) * q.bPerGroup + b) * kArea + flippedTap];
}
