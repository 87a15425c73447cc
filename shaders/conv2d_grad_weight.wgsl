// Weight gradient of a convolution: for each (o, i', kh, kw)
//   dw[o, i', kh, kw] = Σ_{n, r, c} a[n, o, r, c] · b[n, g·bPerGroup + i', r·sH - pT + kh·dH, c·sW - pL + kw·dW]
// a GEMM of `a` (the output-sized operand) with the patches of `b` over N × aH × aW.
//   conv2dGradWeight:          a = dy, b = x   (dw is OIHW)
//   convTranspose2dGradWeight: a = x,  b = dy  (dw is [Cin, Cout/g, kH, kW]: the same sum)
// Each invocation holds an O_BLOCK × E_BLOCK tile of dw (E = i', kh, kw flattened) in registers
// and walks its rows 4 columns at a time (vec4 loads, dot products). When N·aH·aW is large the
// rows are SPLIT across invocations: each writes a partial tile, and `sum_splits` adds them.

override O_BLOCK: u32 = 8u;   // dw rows (output channels of the conv) per invocation: 1, 2, 4 or 8
const E_BLOCK: u32 = 8u;      // dw columns (i', kh, kw) per invocation
const WG: u32 = 64u;

struct Params {
  aC: u32, aH: u32, aW: u32,
  bC: u32, bH: u32, bW: u32,
  aPerGroup: u32, bPerGroup: u32, oBlocksPerGroup: u32, eBlocks: u32, groups: u32,
  kH: u32, kW: u32, strideH: u32, strideW: u32, dilationH: u32, dilationW: u32,
  padTop: u32, padLeft: u32,
  // rows (n, r) of the reduction, split into `splits` ranges of rowsPerSplit
  rows: u32, rowsPerSplit: u32, splits: u32,
  weightSize: u32, invocations: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;   // [splits, weightSize]

fn loadA(base: u32, c0: u32, width: u32) -> vec4<f32> {
  // Columns past the row end read as 0 (their index is clamped to stay inside the row).
  let last = width - 1u;
  return vec4<f32>(
    select(0.0, a[base + min(c0, last)], c0 < width),
    select(0.0, a[base + min(c0 + 1u, last)], c0 + 1u < width),
    select(0.0, a[base + min(c0 + 2u, last)], c0 + 2u < width),
    select(0.0, a[base + min(c0 + 3u, last)], c0 + 3u < width));
}

fn loadB(rowBase: i32, rowInside: bool, c0: u32, strideW: u32, colOffset: i32, width: i32) -> vec4<f32> {
  var v: vec4<f32>;
  for (var l = 0u; l < 4u; l++) {
    let col = i32((c0 + l) * strideW) + colOffset;
    let inside = rowInside && col >= 0 && col < width;
    v[l] = select(0.0, b[u32(select(0, rowBase + col, inside))], inside);
  }
  return v;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let p = params;
  let index = (wid.x + wid.y * nwg.x) * WG + lid;
  if (index >= p.invocations) { return; }
  // Tile fastest, split slowest: neighbouring invocations read the same rows of `a` and `b`.
  var r = index;
  let eBlock = r % p.eBlocks; r = r / p.eBlocks;
  let oBlock = r % (p.groups * p.oBlocksPerGroup); r = r / (p.groups * p.oBlocksPerGroup);
  let split = r;
  let g = oBlock / p.oBlocksPerGroup;
  let o0 = (oBlock % p.oBlocksPerGroup) * O_BLOCK;
  let e0 = eBlock * E_BLOCK;
  let kArea = p.kH * p.kW;
  let eCount = p.bPerGroup * kArea;

  // Per tile column: its input channel, its row offset kh·dH and column offset kw·dW - pL.
  var bChannel: array<u32, 8>;
  var rowOffset: array<i32, 8>;
  var colOffset: array<i32, 8>;
  for (var e = 0u; e < E_BLOCK; e++) {
    let flat = min(e0 + e, eCount - 1u);
    let ic = flat / kArea;
    let tap = flat % kArea;
    bChannel[e] = g * p.bPerGroup + ic;
    rowOffset[e] = i32((tap / p.kW) * p.dilationH) - i32(p.padTop);
    colOffset[e] = i32((tap % p.kW) * p.dilationW) - i32(p.padLeft);
  }
  var aChannel: array<u32, 8>;
  for (var o = 0u; o < O_BLOCK; o++) { aChannel[o] = g * p.aPerGroup + min(o0 + o, p.aPerGroup - 1u); }

  var acc: array<array<f32, 8>, 8>;
  for (var o = 0u; o < O_BLOCK; o++) { for (var e = 0u; e < E_BLOCK; e++) { acc[o][e] = 0.0; } }

  let rowBegin = split * p.rowsPerSplit;
  let rowEnd = min(rowBegin + p.rowsPerSplit, p.rows);
  let bW = i32(p.bW);
  for (var row = rowBegin; row < rowEnd; row++) {
    let n = row / p.aH;
    let ar = row % p.aH;
    var aBase: array<u32, 8>;
    for (var o = 0u; o < O_BLOCK; o++) { aBase[o] = ((n * p.aC + aChannel[o]) * p.aH + ar) * p.aW; }
    var bBase: array<i32, 8>;
    var bRowInside: array<bool, 8>;
    for (var e = 0u; e < E_BLOCK; e++) {
      let br = i32(ar * p.strideH) + rowOffset[e];
      bRowInside[e] = br >= 0 && br < i32(p.bH);
      bBase[e] = i32((n * p.bC + bChannel[e]) * p.bH) * bW + br * bW;
    }
    for (var c0 = 0u; c0 < p.aW; c0 += 4u) {
      var av: array<vec4<f32>, 8>;
      for (var o = 0u; o < O_BLOCK; o++) { av[o] = loadA(aBase[o], c0, p.aW); }
      for (var e = 0u; e < E_BLOCK; e++) {
        let bv = loadB(bBase[e], bRowInside[e], c0, p.strideW, colOffset[e], bW);
        for (var o = 0u; o < O_BLOCK; o++) { acc[o][e] += dot(av[o], bv); }
      }
    }
  }

  let out = split * p.weightSize;
  for (var o = 0u; o < O_BLOCK; o++) {
    if (o0 + o >= p.aPerGroup) { break; }
    let rowOut = (g * p.aPerGroup + o0 + o) * eCount;
    for (var e = 0u; e < E_BLOCK; e++) {
      if (e0 + e < eCount) { dw[out + rowOut + e0 + e] = acc[o][e]; }
    }
  }
}

// Second pass of a split reduction: dw[i] = Σ_s partial[s, i], in split order (deterministic).
struct SumParams { weightSize: u32, splits: u32 }
@group(0) @binding(5) var<uniform> sumParams: SumParams;
@group(0) @binding(6) var<storage, read> partial: array<f32>;
@group(0) @binding(7) var<storage, read_write> total: array<f32>;

@compute @workgroup_size(256)
fn sum_splits(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= sumParams.weightSize) { return; }
  var s = 0.0;
  for (var k = 0u; k < sumParams.splits; k++) { s += partial[k * sumParams.weightSize + i]; }
  total[i] = s;
}
