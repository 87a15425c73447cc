// Register-blocked direct convolution without workgroup memory: the fast path on SwiftShader (a
// CPU, where a barrier costs ~3 us and every storage load is a per-lane gather).
//
// Each invocation owns BLOCK_CO output channels x BLOCK_W output columns of one output row, as
// 4x4 units of vec4 accumulators (a vec4 over 4 channels per column). The reduction runs over the
// flattened taps k = (ci, kh, kw) of its group, 4 taps per loop trip so that the loop's overhead
// (SwiftShader blends every loop-carried value on each trip) is paid once per 4 taps.
//   y[n,co,oh,ow] = b[co] + sum_k xp[n, ci, oh*sH + kh*dH, ow*sW + kw*dW] * wp[g, k, co']
// xp is the input zero-padded once (pad2d.wgsl) plus one zero plane for the taps past the end,
// so no load needs a bounds check; wp is the weight repacked by pack_weights: [groups][Kpad + 1][coPad],
// zero past K and past coutPerGroup, so 4 channels load as one aligned vec4; row Kpad holds the bias
// (or zeros), which seeds the accumulators.
override BLOCK_CO: u32 = 8u;   // 4, 8 or 16
override BLOCK_W: u32 = 8u;    // 4, 8 or 16

struct Params {
  Cin: u32, Hp: u32, Wp: u32, Cout: u32, outH: u32, outW: u32,
  cinPerGroup: u32, coutPerGroup: u32, coBlocksPerGroup: u32, wBlocks: u32, groups: u32,
  kH: u32, kW: u32, strideH: u32, strideW: u32, dilationH: u32, dilationW: u32,
  K: u32, Kpad: u32, coPad: u32,      // taps per group, K rounded up to 4, channels per group rounded up to BLOCK_CO
  zeroOffset: u32,                    // start of the zero plane in xp
  total: u32,                         // invocations: N * groups * coBlocksPerGroup * outH * wBlocks
  relu: u32,
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> xp: array<f32>;
@group(0) @binding(2) var<storage, read> wp: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

const WG: u32 = 64u;

// One unit: 4 columns (array index) x 4 channels (vec4 lanes).
fn fma_unit(u: ptr<function, array<vec4<f32>, 4>>, w: vec4<f32>, x: vec4<f32>) {
  (*u)[0] += w * x.x;
  (*u)[1] += w * x.y;
  (*u)[2] += w * x.z;
  (*u)[3] += w * x.w;
}

// Four columns of one tap: ow0 + 4*q + j at stride sW.
fn load_cols(o: u32, q: u32, sW: u32) -> vec4<f32> {
  let b = o + 4u * q * sW;
  return vec4<f32>(xp[b], xp[b + sW], xp[b + 2u * sW], xp[b + 3u * sW]);
}

// One tap: x at offset o, weights at vec4 index wq.
fn tap(o: u32, wq: u32,
       a00: ptr<function, array<vec4<f32>, 4>>, a01: ptr<function, array<vec4<f32>, 4>>, a02: ptr<function, array<vec4<f32>, 4>>, a03: ptr<function, array<vec4<f32>, 4>>,
       a10: ptr<function, array<vec4<f32>, 4>>, a11: ptr<function, array<vec4<f32>, 4>>, a12: ptr<function, array<vec4<f32>, 4>>, a13: ptr<function, array<vec4<f32>, 4>>,
       a20: ptr<function, array<vec4<f32>, 4>>, a21: ptr<function, array<vec4<f32>, 4>>, a22: ptr<function, array<vec4<f32>, 4>>, a23: ptr<function, array<vec4<f32>, 4>>,
       a30: ptr<function, array<vec4<f32>, 4>>, a31: ptr<function, array<vec4<f32>, 4>>, a32: ptr<function, array<vec4<f32>, 4>>, a33: ptr<function, array<vec4<f32>, 4>>) {
  let sW = params.strideW;
  // Dead branches fold away: BLOCK_CO and BLOCK_W are constants once the pipeline is built.
  let x0 = load_cols(o, 0u, sW);
  var x1 = vec4<f32>(0.0); var x2 = vec4<f32>(0.0); var x3 = vec4<f32>(0.0);
  if (BLOCK_W >= 8u) { x1 = load_cols(o, 1u, sW); }
  if (BLOCK_W >= 16u) { x2 = load_cols(o, 2u, sW); x3 = load_cols(o, 3u, sW); }
  let w0 = wp[wq + 0u];
  fma_unit(a00, w0, x0);
  if (BLOCK_W >= 8u) { fma_unit(a01, w0, x1); }
  if (BLOCK_W >= 16u) { fma_unit(a02, w0, x2); fma_unit(a03, w0, x3); }
  if (BLOCK_CO >= 8u) {
    let w1 = wp[wq + 1u];
    fma_unit(a10, w1, x0);
    if (BLOCK_W >= 8u) { fma_unit(a11, w1, x1); }
    if (BLOCK_W >= 16u) { fma_unit(a12, w1, x2); fma_unit(a13, w1, x3); }
  }
  if (BLOCK_CO >= 16u) {
    let w2 = wp[wq + 2u];
    fma_unit(a20, w2, x0);
    if (BLOCK_W >= 8u) { fma_unit(a21, w2, x1); }
    if (BLOCK_W >= 16u) { fma_unit(a22, w2, x2); fma_unit(a23, w2, x3); }
  }
  if (BLOCK_CO >= 16u) {
    let w3 = wp[wq + 3u];
    fma_unit(a30, w3, x0);
    if (BLOCK_W >= 8u) { fma_unit(a31, w3, x1); }
    if (BLOCK_W >= 16u) { fma_unit(a32, w3, x2); fma_unit(a33, w3, x3); }
  }
}

// Advances (kw, kh, ci) by one tap and the input offset with it; selects, not branches (cheaper on SwiftShader).
fn next_tap(xo: ptr<function, u32>, kw: ptr<function, u32>, kh: ptr<function, u32>, rowStep: u32, planeStep: u32) {
  let wrapW = *kw + 1u == params.kW;
  let khNext = select(*kh, *kh + 1u, wrapW);
  let wrapH = khNext == params.kH;
  *kw = select(*kw + 1u, 0u, wrapW);
  *kh = select(khNext, 0u, wrapH);
  *xo += params.dilationW + select(0u, rowStep, wrapW) + select(0u, planeStep, wrapH);
}

fn finish(v: f32) -> f32 {
  var r = v;
  // select, not max: a NaN passes through ReLU as in the reference (max(NaN, 0) is undefined).
  if (params.relu != 0u) { r = select(r, 0.0, r < 0.0); }
  return r;
}

// Writes one unit: columns ow0 + 4*q + j, channels co0 + 4*p + c.
fn store_unit(u: array<vec4<f32>, 4>, p: u32, q: u32, co0: u32, coEnd: u32, yRow: u32, ow0: u32) {
  let plane = params.outH * params.outW;
  for (var c = 0u; c < 4u; c++) {
    let co = co0 + 4u * p + c;
    if (co >= coEnd) { return; }
    for (var j = 0u; j < 4u; j++) {
      let ow = ow0 + 4u * q + j;
      if (ow < params.outW) { y[yRow + co * plane + ow] = finish(u[j][c]); }
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= params.total) { return; }
  // Neighbouring invocations take neighbouring column blocks: they share weights and rows.
  let wb = i % params.wBlocks;
  var t = i / params.wBlocks;
  let oh = t % params.outH;
  t = t / params.outH;
  let coBlocks = params.groups * params.coBlocksPerGroup;
  let cbAll = t % coBlocks;
  let n = t / coBlocks;
  let g = cbAll / params.coBlocksPerGroup;
  let cb = cbAll % params.coBlocksPerGroup;
  let ow0 = wb * BLOCK_W;

  var a00: array<vec4<f32>, 4>; var a01: array<vec4<f32>, 4>; var a02: array<vec4<f32>, 4>; var a03: array<vec4<f32>, 4>;
  var a10: array<vec4<f32>, 4>; var a11: array<vec4<f32>, 4>; var a12: array<vec4<f32>, 4>; var a13: array<vec4<f32>, 4>;
  var a20: array<vec4<f32>, 4>; var a21: array<vec4<f32>, 4>; var a22: array<vec4<f32>, 4>; var a23: array<vec4<f32>, 4>;
  var a30: array<vec4<f32>, 4>; var a31: array<vec4<f32>, 4>; var a32: array<vec4<f32>, 4>; var a33: array<vec4<f32>, 4>;

  let planeSize = params.Hp * params.Wp;
  let dW = params.dilationW;
  // Offset steps when kw wraps (next row of the window) and when kh wraps (next input channel).
  let rowStep = params.dilationH * params.Wp - params.kW * dW;
  let planeStep = planeSize - params.kH * params.dilationH * params.Wp;
  var xo = (n * params.Cin + g * params.cinPerGroup) * planeSize + oh * params.strideH * params.Wp + ow0 * params.strideW;
  var kw = 0u;
  var kh = 0u;
  let coQuads = params.coPad / 4u;
  var wq = (g * (params.Kpad + 1u) * params.coPad + cb * BLOCK_CO) / 4u;
  // The bias row seeds the accumulators (4 channels per vec4 load, instead of a load per output).
  let biasRow = wq + params.Kpad * coQuads;
  var bias = wp[biasRow];
  a00 = array<vec4<f32>, 4>(bias, bias, bias, bias); a01 = a00; a02 = a00; a03 = a00;
  if (BLOCK_CO >= 8u) { bias = wp[biasRow + 1u]; a10 = array<vec4<f32>, 4>(bias, bias, bias, bias); a11 = a10; a12 = a10; a13 = a10; }
  if (BLOCK_CO >= 16u) {
    bias = wp[biasRow + 2u]; a20 = array<vec4<f32>, 4>(bias, bias, bias, bias); a21 = a20; a22 = a20; a23 = a20;
    bias = wp[biasRow + 3u]; a30 = array<vec4<f32>, 4>(bias, bias, bias, bias); a31 = a30; a32 = a30; a33 = a30;
  }
  let zero = params.zeroOffset;
  let K = params.K;
  for (var k = 0u; k < params.Kpad; k += 4u) {
    // Taps past K have zero weights and read the zero plane, so an Inf or NaN elsewhere never leaks in.
    tap(select(zero, xo, k < K), wq, &a00, &a01, &a02, &a03, &a10, &a11, &a12, &a13, &a20, &a21, &a22, &a23, &a30, &a31, &a32, &a33);
    next_tap(&xo, &kw, &kh, rowStep, planeStep);
    tap(select(zero, xo, k + 1u < K), wq + coQuads, &a00, &a01, &a02, &a03, &a10, &a11, &a12, &a13, &a20, &a21, &a22, &a23, &a30, &a31, &a32, &a33);
    next_tap(&xo, &kw, &kh, rowStep, planeStep);
    tap(select(zero, xo, k + 2u < K), wq + 2u * coQuads, &a00, &a01, &a02, &a03, &a10, &a11, &a12, &a13, &a20, &a21, &a22, &a23, &a30, &a31, &a32, &a33);
    next_tap(&xo, &kw, &kh, rowStep, planeStep);
    tap(select(zero, xo, k + 3u < K), wq + 3u * coQuads, &a00, &a01, &a02, &a03, &a10, &a11, &a12, &a13, &a20, &a21, &a22, &a23, &a30, &a31, &a32, &a33);
    next_tap(&xo, &kw, &kh, rowStep, planeStep);
    wq += 4u * coQuads;
  }

  let coEnd = (g + 1u) * params.coutPerGroup;
  let co0 = g * params.coutPerGroup + cb * BLOCK_CO;
  let yRow = n * params.Cout * params.outH * params.outW + oh * params.outW;
  store_unit(a00, 0u, 0u, co0, coEnd, yRow, ow0);
  if (BLOCK_W >= 8u) { store_unit(a01, 0u, 1u, co0, coEnd, yRow, ow0); }
  if (BLOCK_W >= 16u) { store_unit(a02, 0u, 2u, co0, coEnd, yRow, ow0); store_unit(a03, 0u, 3u, co0, coEnd, yRow, ow0); }
  if (BLOCK_CO >= 8u) {
    store_unit(a10, 1u, 0u, co0, coEnd, yRow, ow0);
    if (BLOCK_W >= 8u) { store_unit(a11, 1u, 1u, co0, coEnd, yRow, ow0); }
    if (BLOCK_W >= 16u) { store_unit(a12, 1u, 2u, co0, coEnd, yRow, ow0); store_unit(a13, 1u, 3u, co0, coEnd, yRow, ow0); }
  }
  if (BLOCK_CO >= 16u) {
    store_unit(a20, 2u, 0u, co0, coEnd, yRow, ow0);
    if (BLOCK_W >= 8u) { store_unit(a21, 2u, 1u, co0, coEnd, yRow, ow0); }
    if (BLOCK_W >= 16u) { store_unit(a22, 2u, 2u, co0, coEnd, yRow, ow0); store_unit(a23, 2u, 3u, co0, coEnd, yRow, ow0); }
  }
  if (BLOCK_CO >= 16u) {
    store_unit(a30, 3u, 0u, co0, coEnd, yRow, ow0);
    if (BLOCK_W >= 8u) { store_unit(a31, 3u, 1u, co0, coEnd, yRow, ow0); }
    if (BLOCK_W >= 16u) { store_unit(a32, 3u, 2u, co0, coEnd, yRow, ow0); store_unit(a33, 3u, 3u, co0, coEnd, yRow, ow0); }
  }
}

// wp[g][k][c] = w[g*coutPerGroup + c][k] for k < K and c < coutPerGroup, else 0 (OIHW: k = (ci*kH + kh)*kW + kw);
// wp[g][Kpad][c] = bias[g*coutPerGroup + c] (0 without a bias or past coutPerGroup).
struct PackParams { K: u32, Kpad: u32, coutPerGroup: u32, coPad: u32, count: u32, hasBias: u32 }
@group(0) @binding(0) var<uniform> pack: PackParams;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read> packBias: array<f32>;
@group(0) @binding(3) var<storage, read_write> packed: array<f32>;

@compute @workgroup_size(256)
fn pack_weights(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= pack.count) { return; }
  let c = i % pack.coPad;
  let gk = i / pack.coPad;
  let k = gk % (pack.Kpad + 1u);
  let g = gk / (pack.Kpad + 1u);
  var v = 0.0;
  if (c < pack.coutPerGroup) {
    if (k < pack.K) { v = weight[(g * pack.coutPerGroup + c) * pack.K + k]; }
    if (k == pack.Kpad && pack.hasBias != 0u) { v = packBias[g * pack.coutPerGroup + c]; }
  }
  packed[i] = v;
}
