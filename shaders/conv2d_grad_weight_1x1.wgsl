// Weight gradient of a 1x1, stride-1, unpadded conv (pointwise layers): a plain GEMM
//   dw[o, i'] = Σ_{n, p} a[n, o, p] · b[n, g·bPerGroup + i', p]   p over the P = H·W pixels
// whose reduction runs along rows of both operands, so they load as aligned vec4s (P % 4 == 0)
// with no padding pass. Each invocation holds a CO_BLOCK × 4 tile of dw as vec4 partial dot
// products (one per tile element, summed across lanes at the end): a trip loads CO_BLOCK + 4
// vec4s for 4·CO_BLOCK vec4 multiply-adds, and needs no regrouping of components. The reduction
// (n, p) is split across invocations only when the tiles alone cannot fill the device or when
// it is long; `sum_splits` in conv2d_grad_weight.wgsl then adds the partial tiles.

override CO_BLOCK: u32 = 4u;   // dw rows per invocation: 4 or 8

struct Params {
  aC: u32, bC: u32, aPerGroup: u32, bPerGroup: u32,
  coBlocksPerGroup: u32, ciBlocks: u32, groups: u32,
  quads: u32,                    // P / 4
  reduction: u32, perSplit: u32, // N · P / 4 quads of the reduction, split into ranges of perSplit
  weightSize: u32, invocations: u32,
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;         // [N, aC, P] as vec4
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;         // [N, bC, P] as vec4
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;        // [splits, aC, bPerGroup]

const WG: u32 = 64u;

struct Tile4 { e0: vec4<f32>, e1: vec4<f32>, e2: vec4<f32>, e3: vec4<f32> }

fn mac(t: ptr<function, Tile4>, av: vec4<f32>, b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32>) {
  (*t).e0 += av * b0; (*t).e1 += av * b1; (*t).e2 += av * b2; (*t).e3 += av * b3;
}

// Row o of the tile (already offset to its dw row), 4 columns from i0; eValid of them inside the group.
fn storeRow(t: Tile4, at: u32, eValid: u32) {
  let ones = vec4<f32>(1.0);
  dw[at] = dot(t.e0, ones);
  if (eValid > 1u) { dw[at + 1u] = dot(t.e1, ones); }
  if (eValid > 2u) { dw[at + 2u] = dot(t.e2, ones); }
  if (eValid > 3u) { dw[at + 3u] = dot(t.e3, ones); }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let p = params;
  let index = (wid.x + wid.y * nwg.x) * WG + lid;
  if (index >= p.invocations) { return; }
  // Tile fastest, split slowest: neighbouring invocations share rows of a and b.
  var r = index;
  let ciBlock = r % p.ciBlocks; r = r / p.ciBlocks;
  let oBlocks = p.groups * p.coBlocksPerGroup;
  let oBlock = r % oBlocks;
  let split = r / oBlocks;
  let g = oBlock / p.coBlocksPerGroup;
  let o0 = (oBlock % p.coBlocksPerGroup) * CO_BLOCK;
  let i0 = ciBlock * 4u;
  // Rows past the group's end repeat its last one (never stored).
  let oLast = p.aPerGroup - 1u;
  let iLast = p.bPerGroup - 1u;
  let aRow = g * p.aPerGroup;
  let bRow = g * p.bPerGroup;
  let Q = p.quads;
  let ra = vec4<u32>(aRow + o0, aRow + min(o0 + 1u, oLast), aRow + min(o0 + 2u, oLast), aRow + min(o0 + 3u, oLast)) * Q;
  let rb = vec4<u32>(bRow + i0, bRow + min(i0 + 1u, iLast), bRow + min(i0 + 2u, iLast), bRow + min(i0 + 3u, iLast)) * Q;
  var rc = ra;
  if (CO_BLOCK >= 8u) {
    rc = vec4<u32>(aRow + min(o0 + 4u, oLast), aRow + min(o0 + 5u, oLast), aRow + min(o0 + 6u, oLast), aRow + min(o0 + 7u, oLast)) * Q;
  }

  var t0: Tile4; var t1: Tile4; var t2: Tile4; var t3: Tile4;
  var t4: Tile4; var t5: Tile4; var t6: Tile4; var t7: Tile4;
  let begin = split * p.perSplit;
  let end = min(begin + p.perSplit, p.reduction);
  var at = begin;
  while (at < end) {
    // One batch item's run of quads inside [begin, end).
    let n = at / Q;
    let q0 = at - n * Q;
    let q1 = min(end - n * Q, Q);
    let aBase = n * p.aC * Q;
    let bBase = n * p.bC * Q;
    for (var q = q0; q < q1; q++) {
      let b0 = b[bBase + rb.x + q]; let b1 = b[bBase + rb.y + q]; let b2 = b[bBase + rb.z + q]; let b3 = b[bBase + rb.w + q];
      mac(&t0, a[aBase + ra.x + q], b0, b1, b2, b3);
      mac(&t1, a[aBase + ra.y + q], b0, b1, b2, b3);
      mac(&t2, a[aBase + ra.z + q], b0, b1, b2, b3);
      mac(&t3, a[aBase + ra.w + q], b0, b1, b2, b3);
      if (CO_BLOCK >= 8u) {
        mac(&t4, a[aBase + rc.x + q], b0, b1, b2, b3);
        mac(&t5, a[aBase + rc.y + q], b0, b1, b2, b3);
        mac(&t6, a[aBase + rc.z + q], b0, b1, b2, b3);
        mac(&t7, a[aBase + rc.w + q], b0, b1, b2, b3);
      }
    }
    at = n * Q + q1;
  }

  let eValid = min(p.bPerGroup - i0, 4u);
  let oValid = p.aPerGroup - o0;
  let out = split * p.weightSize + (aRow + o0) * p.bPerGroup + i0;
  let row = p.bPerGroup;
  storeRow(t0, out, eValid);
  if (oValid > 1u) { storeRow(t1, out + row, eValid); }
  if (oValid > 2u) { storeRow(t2, out + 2u * row, eValid); }
  if (oValid > 3u) { storeRow(t3, out + 3u * row, eValid); }
  if (CO_BLOCK >= 8u) {
    if (oValid > 4u) { storeRow(t4, out + 4u * row, eValid); }
    if (oValid > 5u) { storeRow(t5, out + 5u * row, eValid); }
    if (oValid > 6u) { storeRow(t6, out + 6u * row, eValid); }
    if (oValid > 7u) { storeRow(t7, out + 7u * row, eValid); }
  }
}
