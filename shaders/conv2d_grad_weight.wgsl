// Weight gradient of a convolution: for each (o, i', kh, kw)
//   dw[o, i', kh, kw] = Σ_{n, r, c} a[n, o, r, c] · b[n, g·bPerGroup + i', r·sH - pT + kh·dH, c·sW - pL + kw·dW]
// a GEMM of `a` (the output-sized operand) with the patches of `b` over N × aH × aW.
//   conv2dGradWeight:          a = dy, b = x   (dw is OIHW)
//   convTranspose2dGradWeight: a = x,  b = dy  (dw is [Cin, Cout/g, kH, kW]: the same sum)
// Both operands arrive padded by `pad_planes`: a's rows to whole chunks of 8 zero-filled columns
// (aligned vec4 loads), b with the conv's padding and every row and column a chunk can reach, so
// no load needs a bounds check. Each invocation holds an O_BLOCK × E_BLOCK tile of dw (E_BLOCK
// along E = i', kh, kw flattened) in vec4 registers and takes 4 columns of `a` per loop trip. When
// N·aH·aW is large the rows are SPLIT across invocations: each writes a partial tile, and
// `sum_splits` adds them.

override O_BLOCK: u32 = 8u;   // dw rows (channels of `a`) per invocation: 1, 2, 4, 8 or 16
override E_BLOCK: u32 = 8u;   // dw columns per invocation: 4 or 8 (one or two vec4)
// B_VEC4: every tap's 4 columns are one aligned vec4 of b (1-wide kernel, stride 1: b's padded
// rows are whole chunks), so b loads as vec4 too: 8 loads per 4 columns instead of 32.
override B_VEC4: bool = false;
const WG: u32 = 64u;

struct Params {
  aC: u32, aH: u32, aChunks: u32,          // a padded: [N, aC, aH, aChunks * 8]
  bC: u32, bH: u32, bW: u32,               // b padded: [N, bC, bH, bW], conv padding included
  aPerGroup: u32, bPerGroup: u32, oBlocksPerGroup: u32, eBlocks: u32, groups: u32,
  kH: u32, kW: u32, strideH: u32, strideW: u32, dilationH: u32, dilationW: u32,
  // rows (n, r) of the reduction, split into `splits` ranges of rowsPerSplit
  rows: u32, rowsPerSplit: u32, splits: u32,
  weightSize: u32, invocations: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;   // [splits, weightSize]
@group(0) @binding(4) var<storage, read> b4: array<vec4<f32>>;    // b again, read as vec4 (B_VEC4)

// The tile's 8 dw columns are two vec4 (e 0-3, e 4-7): every product is `acc += a · b` on vec4s,
// written out by hand (no dynamically indexed arrays: SwiftShader's JIT keeps those in memory).
struct Taps { o0: u32, o1: u32, o2: u32, o3: u32, o4: u32, o5: u32, o6: u32, o7: u32 }

// b at column offset `col` for the tile's taps: two vec4 over e (the second 0 when E_BLOCK is 4).
fn tapsAt(t: Taps, col: u32) -> array<vec4<f32>, 2> {
  var v: array<vec4<f32>, 2>;
  v[0] = vec4<f32>(b[t.o0 + col], b[t.o1 + col], b[t.o2 + col], b[t.o3 + col]);
  if (E_BLOCK >= 8u) { v[1] = vec4<f32>(b[t.o4 + col], b[t.o5 + col], b[t.o6 + col], b[t.o7 + col]); }
  return v;
}

// The same as tapsAt at col, col + 1, col + 2, col + 3, from one aligned vec4 per tap
// (regrouping vec4 components is free on SwiftShader, which keeps each component in its own register).
fn tapsAt4(t: Taps, col: u32) -> array<array<vec4<f32>, 2>, 4> {
  let v0 = b4[(t.o0 + col) / 4u]; let v1 = b4[(t.o1 + col) / 4u]; let v2 = b4[(t.o2 + col) / 4u]; let v3 = b4[(t.o3 + col) / 4u];
  var v4 = vec4<f32>(0.0); var v5 = vec4<f32>(0.0); var v6 = vec4<f32>(0.0); var v7 = vec4<f32>(0.0);
  if (E_BLOCK >= 8u) { v4 = b4[(t.o4 + col) / 4u]; v5 = b4[(t.o5 + col) / 4u]; v6 = b4[(t.o6 + col) / 4u]; v7 = b4[(t.o7 + col) / 4u]; }
  return array<array<vec4<f32>, 2>, 4>(
    array<vec4<f32>, 2>(vec4<f32>(v0.x, v1.x, v2.x, v3.x), vec4<f32>(v4.x, v5.x, v6.x, v7.x)),
    array<vec4<f32>, 2>(vec4<f32>(v0.y, v1.y, v2.y, v3.y), vec4<f32>(v4.y, v5.y, v6.y, v7.y)),
    array<vec4<f32>, 2>(vec4<f32>(v0.z, v1.z, v2.z, v3.z), vec4<f32>(v4.z, v5.z, v6.z, v7.z)),
    array<vec4<f32>, 2>(vec4<f32>(v0.w, v1.w, v2.w, v3.w), vec4<f32>(v4.w, v5.w, v6.w, v7.w)));
}

// One dw row (channel o) over 4 columns: av holds a at the 4 columns, c0..c3 the taps at each.
fn row4(acc: ptr<function, array<vec4<f32>, 2>>, av: vec4<f32>,
        c0: array<vec4<f32>, 2>, c1: array<vec4<f32>, 2>, c2: array<vec4<f32>, 2>, c3: array<vec4<f32>, 2>) {
  (*acc)[0] += av.x * c0[0] + av.y * c1[0] + av.z * c2[0] + av.w * c3[0];
  if (E_BLOCK >= 8u) { (*acc)[1] += av.x * c0[1] + av.y * c1[1] + av.z * c2[1] + av.w * c3[1]; }
}

fn store(acc: array<vec4<f32>, 2>, o: u32, rowOut: u32, eCount: u32, e0: u32, oEnd: u32) {
  if (o >= oEnd) { return; }
  let at = rowOut + o * eCount + e0;
  for (var e = 0u; e < 4u; e++) {
    if (e0 + e < eCount) { dw[at + e] = acc[0][e]; }
    if (E_BLOCK >= 8u && e0 + e + 4u < eCount) { dw[at + e + 4u] = acc[1][e]; }
  }
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
  let oBlocks = p.groups * p.oBlocksPerGroup;
  let oBlock = r % oBlocks;
  let split = r / oBlocks;
  let g = oBlock / p.oBlocksPerGroup;
  let o0 = (oBlock % p.oBlocksPerGroup) * O_BLOCK;
  let e0 = eBlock * E_BLOCK;
  let kArea = p.kH * p.kW;
  let eCount = p.bPerGroup * kArea;

  // Offset of each tile column's tap in b's padded image (a column past E repeats the last; never written).
  let bPlane = p.bH * p.bW;
  var offsets: array<u32, 8>;
  for (var e = 0u; e < 8u; e++) {
    let flat = min(e0 + e, eCount - 1u);
    let tap = flat % kArea;
    offsets[e] = (g * p.bPerGroup + flat / kArea) * bPlane + (tap / p.kW) * p.dilationH * p.bW + (tap % p.kW) * p.dilationW;
  }
  let base = Taps(offsets[0], offsets[1], offsets[2], offsets[3], offsets[4], offsets[5], offsets[6], offsets[7]);
  // Channels past the group read the group's last one (never written).
  let aPlane = p.aH * p.aChunks * 2u;
  let oLast = p.aPerGroup - 1u - o0;

  var a0: array<vec4<f32>, 2>; var a1: array<vec4<f32>, 2>; var a2: array<vec4<f32>, 2>; var a3: array<vec4<f32>, 2>;
  var a4: array<vec4<f32>, 2>; var a5: array<vec4<f32>, 2>; var a6: array<vec4<f32>, 2>; var a7: array<vec4<f32>, 2>;
  var a8: array<vec4<f32>, 2>; var a9: array<vec4<f32>, 2>; var a10: array<vec4<f32>, 2>; var a11: array<vec4<f32>, 2>;
  var a12: array<vec4<f32>, 2>; var a13: array<vec4<f32>, 2>; var a14: array<vec4<f32>, 2>; var a15: array<vec4<f32>, 2>;

  let sW = p.strideW;
  let rowBegin = split * p.rowsPerSplit;
  let rowEnd = min(rowBegin + p.rowsPerSplit, p.rows);
  for (var row = rowBegin; row < rowEnd; row++) {
    let n = row / p.aH;
    let ar = row % p.aH;
    let bRow = n * p.bC * bPlane + ar * p.strideH * p.bW;
    var at = ((n * p.aC + g * p.aPerGroup + o0) * p.aH + ar) * p.aChunks * 2u;
    var col = bRow;
    // One aligned vec4 of each a row per trip: 4 columns.
    for (var chunk = 0u; chunk < p.aChunks * 2u; chunk++) {
      var c0: array<vec4<f32>, 2>; var c1: array<vec4<f32>, 2>; var c2: array<vec4<f32>, 2>; var c3: array<vec4<f32>, 2>;
      if (B_VEC4) {
        let cs = tapsAt4(base, col);
        c0 = cs[0]; c1 = cs[1]; c2 = cs[2]; c3 = cs[3];
      } else {
        c0 = tapsAt(base, col);
        c1 = tapsAt(base, col + sW);
        c2 = tapsAt(base, col + 2u * sW);
        c3 = tapsAt(base, col + 3u * sW);
      }
      row4(&a0, a[at], c0, c1, c2, c3);
      if (O_BLOCK >= 2u) { row4(&a1, a[at + min(1u, oLast) * aPlane], c0, c1, c2, c3); }
      if (O_BLOCK >= 4u) {
        row4(&a2, a[at + min(2u, oLast) * aPlane], c0, c1, c2, c3);
        row4(&a3, a[at + min(3u, oLast) * aPlane], c0, c1, c2, c3);
      }
      if (O_BLOCK >= 8u) {
        row4(&a4, a[at + min(4u, oLast) * aPlane], c0, c1, c2, c3);
        row4(&a5, a[at + min(5u, oLast) * aPlane], c0, c1, c2, c3);
        row4(&a6, a[at + min(6u, oLast) * aPlane], c0, c1, c2, c3);
        row4(&a7, a[at + min(7u, oLast) * aPlane], c0, c1, c2, c3);
      }
      if (O_BLOCK >= 16u) {
        row4(&a8, a[at + min(8u, oLast) * aPlane], c0, c1, c2, c3);
        row4(&a9, a[at + min(9u, oLast) * aPlane], c0, c1, c2, c3);
        row4(&a10, a[at + min(10u, oLast) * aPlane], c0, c1, c2, c3);
        row4(&a11, a[at + min(11u, oLast) * aPlane], c0, c1, c2, c3);
        row4(&a12, a[at + min(12u, oLast) * aPlane], c0, c1, c2, c3);
        row4(&a13, a[at + min(13u, oLast) * aPlane], c0, c1, c2, c3);
        row4(&a14, a[at + min(14u, oLast) * aPlane], c0, c1, c2, c3);
        row4(&a15, a[at + min(15u, oLast) * aPlane], c0, c1, c2, c3);
      }
      at += 1u;
      col += 4u * sW;
    }
  }

  let rowOut = split * p.weightSize + (g * p.aPerGroup + o0) * eCount;
  let oEnd = p.aPerGroup - o0;
  store(a0, 0u, rowOut, eCount, e0, oEnd);
  if (O_BLOCK >= 2u) { store(a1, 1u, rowOut, eCount, e0, oEnd); }
  if (O_BLOCK >= 4u) { store(a2, 2u, rowOut, eCount, e0, oEnd); store(a3, 3u, rowOut, eCount, e0, oEnd); }
  if (O_BLOCK >= 8u) {
    store(a4, 4u, rowOut, eCount, e0, oEnd); store(a5, 5u, rowOut, eCount, e0, oEnd);
    store(a6, 6u, rowOut, eCount, e0, oEnd); store(a7, 7u, rowOut, eCount, e0, oEnd);
  }
  if (O_BLOCK >= 16u) {
    store(a8, 8u, rowOut, eCount, e0, oEnd); store(a9, 9u, rowOut, eCount, e0, oEnd);
    store(a10, 10u, rowOut, eCount, e0, oEnd); store(a11, 11u, rowOut, eCount, e0, oEnd);
    store(a12, 12u, rowOut, eCount, e0, oEnd); store(a13, 13u, rowOut, eCount, e0, oEnd);
    store(a14, 14u, rowOut, eCount, e0, oEnd); store(a15, 15u, rowOut, eCount, e0, oEnd);
  }
}

// Zero padding of whole planes: out[plane, r, c] = in[plane, r - top, c - left], 0 outside `in`.
// `in` may also be cropped (out smaller than in + top): only what the GEMM reads is copied.
struct PadParams { inH: u32, inW: u32, outH: u32, outW: u32, top: u32, left: u32, count: u32 }
@group(0) @binding(8) var<uniform> padParams: PadParams;
@group(0) @binding(9) var<storage, read> source: array<f32>;
@group(0) @binding(10) var<storage, read_write> padded: array<f32>;

@compute @workgroup_size(256)
fn pad_planes(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let q = padParams;
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= q.count) { return; }
  let c = i % q.outW;
  let rest = i / q.outW;
  let r = rest % q.outH;
  let plane = rest / q.outH;
  // Unsigned wrap-around makes r < top (or c < left) fail the bound check too.
  let ir = r - q.top;
  let ic = c - q.left;
  let inside = r >= q.top && c >= q.left && ir < q.inH && ic < q.inW;
  padded[i] = select(0.0, source[(plane * q.inH + select(0u, ir, inside)) * q.inW + select(0u, ic, inside)], inside);
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
