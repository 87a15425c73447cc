// Workgroup-tiled implicit GEMM convolution (the fast path on real GPUs).
//
// Per group g the conv is a GEMM: Y[m, p] = sum_k A[m, k] * B[k, p] with
//   m = output channel in the group (M = coutPerGroup), k = (ci, kh, kw) (K = cinPerGroup*kH*kW),
//   p = (n, oh, ow) (P = N*outH*outW), A = the OIHW weight rows (contiguous in k),
//   B[k, p] = x[n, g*cinPerGroup + ci, oh*sH - padTop + kh*dH, ow*sW - padLeft + kw*dW] (0 in the padding).
// A workgroup computes a TILE_M x TILE_N tile of Y: per step it stages a TILE_M x TILE_K tile of A
// and a TILE_K x TILE_N tile of input patches in workgroup memory; each invocation accumulates
// 4 channels x 4 pixels in registers.
override TILE_M: u32 = 64u;   // multiple of 4
override TILE_N: u32 = 64u;   // multiple of 4
override TILE_K: u32 = 16u;   // multiple of 4; (TILE_M/4) * (TILE_N/4) invocations load both tiles
// True when M % TILE_M == 0, P % TILE_N == 0 and K % TILE_K == 0: tile-edge checks drop, A loads as vec4.
override ALIGNED: bool = false;

// Derived, never set by the host.
override THREADS_N: u32 = TILE_N / 4u;
override THREADS: u32 = (TILE_M / 4u) * (TILE_N / 4u);

struct Params {
  Cin: u32, H: u32, W: u32, Cout: u32, outH: u32, outW: u32,
  cinPerGroup: u32, coutPerGroup: u32,
  kH: u32, kW: u32, strideH: u32, strideW: u32, dilationH: u32, dilationW: u32,
  padTop: u32, padLeft: u32,
  M: u32, K: u32, P: u32,
  tilesM: u32, tilesN: u32, tiles: u32,   // tiles = tilesM * tilesN * groups
  hasBias: u32, relu: u32,
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> weight4: array<vec4<f32>>;   // the same buffer, for aligned vec4 loads
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

// A tile transposed, [k][m], and B tile, [k][p]; vec4 over m and over p.
var<workgroup> tileA: array<vec4<f32>, TILE_K * TILE_M / 4u>;
var<workgroup> tileB: array<vec4<f32>, TILE_K * TILE_N / 4u>;

// A[m, k] of group g, 0 past the GEMM's edges.
fn weight_at(g: u32, m: u32, k: u32) -> f32 {
  if (m >= params.M || k >= params.K) { return 0.0; }
  return weight[(g * params.coutPerGroup + m) * params.K + k];
}

@compute @workgroup_size(THREADS)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let tile = wid.x + wid.y * nwg.x;
  if (tile >= params.tiles) { return; }   // the same for the whole workgroup, so barriers stay uniform
  let tn = tile % params.tilesN;
  let tm = (tile / params.tilesN) % params.tilesM;
  let g = tile / (params.tilesN * params.tilesM);
  let m0 = tm * TILE_M;
  let p0 = tn * TILE_N;
  let K = params.K;
  let outHW = params.outH * params.outW;

  // This invocation's share of the B tile: 4 pixels (fixed for all K steps) at rows kk, kk + rowsB, ...
  let bCol = lid % THREADS_N;
  let rowsB = THREADS / THREADS_N;
  var ihBase: vec4<i32>;
  var iwBase: vec4<i32>;
  var planeBase: vec4<u32>;    // (n * Cin + g * cinPerGroup) * H * W
  var pixelValid: vec4<bool>;
  for (var j = 0u; j < 4u; j++) {
    let p = p0 + 4u * bCol + j;
    let n = p / outHW;
    let pix = p % outHW;
    ihBase[j] = i32((pix / params.outW) * params.strideH) - i32(params.padTop);
    iwBase[j] = i32((pix % params.outW) * params.strideW) - i32(params.padLeft);
    planeBase[j] = (n * params.Cin + g * params.cinPerGroup) * params.H * params.W;
    pixelValid[j] = ALIGNED || p < params.P;
  }

  let tmI = lid / THREADS_N;   // 4 channels m0 + 4*tmI ..
  let tnI = lid % THREADS_N;   // 4 pixels p0 + 4*tnI ..
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  let rowA = g * params.coutPerGroup + m0;   // weight row of m = m0

  for (var k0 = 0u; k0 < K; k0 += TILE_K) {
    // Stage A: TILE_M x TILE_K, 4 consecutive k per load, stored transposed.
    for (var e = lid; e < TILE_M * TILE_K / 4u; e += THREADS) {
      let m = e / (TILE_K / 4u);
      let kq = e % (TILE_K / 4u);
      var a: vec4<f32>;
      if (ALIGNED) {
        a = weight4[((rowA + m) * K + k0) / 4u + kq];
      } else {
        let k = k0 + 4u * kq;
        a = vec4<f32>(weight_at(g, m0 + m, k), weight_at(g, m0 + m, k + 1u), weight_at(g, m0 + m, k + 2u), weight_at(g, m0 + m, k + 3u));
      }
      let q = m / 4u;
      let c = m % 4u;
      tileA[(4u * kq) * (TILE_M / 4u) + q][c] = a.x;
      tileA[(4u * kq + 1u) * (TILE_M / 4u) + q][c] = a.y;
      tileA[(4u * kq + 2u) * (TILE_M / 4u) + q][c] = a.z;
      tileA[(4u * kq + 3u) * (TILE_M / 4u) + q][c] = a.w;
    }
    // Stage B: the input patches of TILE_N pixels for TILE_K taps, zero in the padding.
    for (var kk = lid / THREADS_N; kk < TILE_K; kk += rowsB) {
      let k = k0 + kk;
      let ci = k / (params.kH * params.kW);
      let r = k % (params.kH * params.kW);
      let dh = i32((r / params.kW) * params.dilationH);
      let dw = i32((r % params.kW) * params.dilationW);
      var v = vec4<f32>(0.0);
      for (var j = 0u; j < 4u; j++) {
        let ih = ihBase[j] + dh;
        let iw = iwBase[j] + dw;
        if ((ALIGNED || k < K) && pixelValid[j] && ih >= 0 && ih < i32(params.H) && iw >= 0 && iw < i32(params.W)) {
          v[j] = x[planeBase[j] + ci * params.H * params.W + u32(ih) * params.W + u32(iw)];
        }
      }
      tileB[kk * THREADS_N + bCol] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TILE_K; kk++) {
      let a = tileA[kk * (TILE_M / 4u) + tmI];
      let b = tileB[kk * THREADS_N + tnI];
      acc0 += a.x * b;
      acc1 += a.y * b;
      acc2 += a.z * b;
      acc3 += a.w * b;
    }
    workgroupBarrier();
  }

  // Each row of the block is one channel, its vec4 four consecutive pixels.
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + 4u * tmI + i;
    if (!ALIGNED && m >= params.M) { break; }
    let co = g * params.coutPerGroup + m;
    var row = acc0;
    if (i == 1u) { row = acc1; }
    if (i == 2u) { row = acc2; }
    if (i == 3u) { row = acc3; }
    var b = 0.0;
    if (params.hasBias != 0u) { b = bias[co]; }
    for (var j = 0u; j < 4u; j++) {
      let p = p0 + 4u * tnI + j;
      if (!ALIGNED && p >= params.P) { break; }
      var v = row[j] + b;
      // select, not max: a NaN passes through ReLU as in the reference (max(NaN, 0) is undefined).
      if (params.relu != 0u) { v = select(v, 0.0, v < 0.0); }
      y[((p / outHW) * params.Cout + co) * outHW + p % outHW] = v;
    }
  }
}
