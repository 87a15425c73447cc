// 2-D pooling gradients for fixed windows (split from pool2d_grad.wgsl, whose general gathers and
// max router these replace where the window pattern allows): 2x2 stride 2 avg / Lp / max and max
// 3x3 stride 2 pad 1, with aligned vec4 loads and stores and no per-tap index math. The uniform
// struct and the first bindings are the same as pool2d_grad.wgsl's, so src/ops/pool.ts packs and
// binds both files alike.
override WG: u32 = 64u;
// Lp: p = 2, 1, 3 take exact paths, 0 any p (pow); an override so SwiftShader never runs pow
// needlessly (it evaluates both sides of a branch).
override P_CASE: u32 = 2u;

struct Params {
  blocks: u32, blocksPerRow: u32, inH: i32, inW: i32, outH: i32, outW: i32,
  kH: i32, kW: i32, strideH: i32, strideW: i32,
  padTop: i32, padLeft: i32, padBottom: i32, padRight: i32,
  countIncludePad: u32, divisorOverride: f32, p: f32, planes: u32,
  strips: u32,  // strips of 16 input columns per row (the max router's tables)
  failed: i32,  // the verdict a failed 2x2 check writes: 1 when the 3x3 check runs too, else 2
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> xv: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> y: array<f32>;
@group(0) @binding(5) var<storage, read> indices: array<i32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;
@group(0) @binding(7) var<storage, read_write> dxv: array<vec4<f32>>;

/** ∂y/∂x of y = (Σ|x|^p)^(1/p) per lane: sign(x)·(|x|/y)^(p-1), 0 where x or y is 0 (as
 *  pool2d_grad.wgsl's lpPartialLanes; WGSL has no includes). */
fn lpPartialLanes(xs: vec4<f32>, ys: vec4<f32>) -> vec4<f32> {
  var partial: vec4<f32>;
  if (P_CASE == 2u) { partial = xs / ys; }
  else if (P_CASE == 1u) { partial = sign(xs); }
  else if (P_CASE == 3u) { let r = xs / ys; partial = r * abs(r); }
  else { partial = sign(xs) * pow(abs(xs) / ys, vec4<f32>(params.p - 1.0)); }
  return select(partial, vec4<f32>(0.0), (xs == vec4<f32>(0.0)) | (ys == vec4<f32>(0.0)));
}

fn blockIndex(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid;
}

// ---- 2x2 stride 2 unpadded, every window inside the input: one window per pixel --------------
// For dy rows of a multiple of 4 elements (dx rows twice that): an invocation takes OV vec4s of
// one dy row and writes the 2 x 2·OV dx vec4s under them, with no window search (SwiftShader pays
// for every instruction on every lane). A last input row no window holds (odd H) is zero.
override OV: u32 = 1u;
@group(0) @binding(14) var<storage, read> dyv: array<vec4<f32>>;
@group(0) @binding(15) var<storage, read> yvec: array<vec4<f32>>;

/** dy vec4 (plane, oh, m): its index in dy and the first of its 2x2 dx vec4s. */
struct Cell { at: u32, top: u32, rowVecs: u32, zeroRow: bool }

fn cellAt(u: u32, o: u32) -> Cell {
  var c: Cell;
  let row = u / params.blocksPerRow;  // plane * outH + oh
  let m = (u - row * params.blocksPerRow) * OV + o;
  let plane = row / u32(params.outH);
  let oh = row - plane * u32(params.outH);
  let outVecs = u32(params.outW) / 4u;
  c.rowVecs = u32(params.inW) / 4u;
  c.at = row * outVecs + m;
  c.top = (plane * u32(params.inH) + 2u * oh) * c.rowVecs + 2u * m;
  c.zeroRow = oh + 1u == u32(params.outH) && 2u * u32(params.outH) < u32(params.inH);
  return c;
}

fn inRow(u: u32, o: u32) -> bool {
  return o < OV && (u - (u / params.blocksPerRow) * params.blocksPerRow) * OV + o < u32(params.outW) / 4u;
}

/** Lanes (a, a, b, b) and (c, c, d, d) of v: the dx vec4s under dy vec4 v. */
fn lowHalf(v: vec4<f32>) -> vec4<f32> { return v.xxyy; }
fn highHalf(v: vec4<f32>) -> vec4<f32> { return v.zzww; }

fn storeCell(c: Cell, a: vec4<f32>, b: vec4<f32>, d: vec4<f32>, e: vec4<f32>) {
  dxv[c.top] = a;
  dxv[c.top + 1u] = b;
  dxv[c.top + c.rowVecs] = d;
  dxv[c.top + c.rowVecs + 1u] = e;
  if (c.zeroRow) {
    dxv[c.top + 2u * c.rowVecs] = vec4<f32>(0.0);
    dxv[c.top + 2u * c.rowVecs + 1u] = vec4<f32>(0.0);
  }
}

fn avgCell(u: u32, o: u32) {
  if (!inRow(u, o)) { return; }
  let c = cellAt(u, o);
  let g = dyv[c.at] / select(4.0, params.divisorOverride, params.divisorOverride > 0.0);
  storeCell(c, lowHalf(g), highHalf(g), lowHalf(g), highHalf(g));
}

@compute @workgroup_size(WG)
fn avg_grad_2x2(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let u = blockIndex(wid, nwg, lid);
  if (u >= params.blocks) { return; }
  avgCell(u, 0u); avgCell(u, 1u); avgCell(u, 2u); avgCell(u, 3u);
}

fn lpCell(u: u32, o: u32) {
  if (!inRow(u, o)) { return; }
  let c = cellAt(u, o);
  let g = dyv[c.at];
  let ys = yvec[c.at];
  let x00 = xv[c.top];
  let x01 = xv[c.top + 1u];
  let x10 = xv[c.top + c.rowVecs];
  let x11 = xv[c.top + c.rowVecs + 1u];
  if (P_CASE == 2u) {
    // dx = x · dy / y: one division per window, not per pixel (0 for an all-zero window).
    let f = select(g / ys, vec4<f32>(0.0), ys == vec4<f32>(0.0));
    storeCell(c, x00 * f.xxyy, x01 * f.zzww, x10 * f.xxyy, x11 * f.zzww);
    return;
  }
  let gl = lowHalf(g);
  let gh = highHalf(g);
  let yl = lowHalf(ys);
  let yh = highHalf(ys);
  storeCell(c, gl * lpPartialLanes(x00, yl), gh * lpPartialLanes(x01, yh), gl * lpPartialLanes(x10, yl), gh * lpPartialLanes(x11, yh));
}

@compute @workgroup_size(WG)
fn lp_grad_2x2(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let u = blockIndex(wid, nwg, lid);
  if (u >= params.blocks) { return; }
  lpCell(u, 0u); lpCell(u, 1u); lpCell(u, 2u); lpCell(u, 3u);
}

@group(0) @binding(16) var<storage, read> indicesv: array<vec4<i32>>;
@group(0) @binding(17) var<storage, read_write> verdict: array<atomic<i32>>;
@group(0) @binding(18) var<storage, read> verdictIn: array<i32>;

/** One dy vec4 per invocation: 1 into verdict when an index is outside its output's window. */
@compute @workgroup_size(WG)
fn max_check_2x2(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let u = blockIndex(wid, nwg, lid);
  if (u >= params.blocks) { return; }
  let outVecs = u32(params.outW) / 4u;
  let row = u / outVecs;  // plane * outH + oh
  let m = u - row * outVecs;
  let oh = i32(row - (row / u32(params.outH)) * u32(params.outH));
  let d = indicesv[u] - (vec4<i32>(2 * oh * params.inW + 8 * i32(m)) + vec4<i32>(0, 2, 4, 6));
  let inside = (d == vec4<i32>(0)) | (d == vec4<i32>(1)) | (d == vec4<i32>(params.inW)) | (d == vec4<i32>(params.inW + 1));
  if (!all(inside)) { atomicMax(&verdict[0], params.failed); }
}

fn maxCell(u: u32, o: u32) {
  if (!inRow(u, o)) { return; }
  let c = cellAt(u, o);
  let row = u / params.blocksPerRow;
  let oh = i32(row - (row / u32(params.outH)) * u32(params.outH));
  let m = i32((u - row * params.blocksPerRow) * OV + o);
  let g = dyv[c.at];
  let at = indicesv[c.at];
  // Flat indices of the top-left dx vec4's lanes in the plane; its lanes take outputs (x, x, y, y).
  let own = vec4<i32>(2 * oh * params.inW + 8 * m) + vec4<i32>(0, 1, 2, 3);
  let zero = vec4<f32>(0.0);
  let w = vec4<i32>(params.inW);
  storeCell(c, select(zero, g.xxyy, at.xxyy == own), select(zero, g.zzww, at.zzww == own + 4),
            select(zero, g.xxyy, at.xxyy == own + w), select(zero, g.zzww, at.zzww == own + w + 4));
}

@compute @workgroup_size(WG)
fn max_grad_2x2(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let u = blockIndex(wid, nwg, lid);
  if (u >= params.blocks || verdictIn[0] != 0) { return; }
  maxCell(u, 0u); maxCell(u, 1u); maxCell(u, 2u); maxCell(u, 3u);
}

// ---- max 3x3 stride 2 pad 1: dx rows 2m and 2m + 1 lie only in the windows of dy rows m, m + 1 --
// For dx rows of a multiple of 8 elements and dy rows half as long: dx column 2n lies in window n
// only, 2n + 1 in windows n and n + 1, so an invocation's 2 x 8 dx block (4 vec4 stores) reads a
// dy and an indices vec4 plus one scalar from each of its two dy rows.

/** One indices vec4 per invocation: verdict 2 when an index is not an in-range pixel of its 3x3 stride 2 pad 1 window. */
@compute @workgroup_size(WG)
fn max_check_3x3s2p1(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
  let u = blockIndex(wid, nwg, lid);
  if (u >= params.blocks) { return; }
  let outVecs = u32(params.outW) / 4u;
  let row = u / outVecs;  // plane * outH + oh
  let oh = i32(row - (row / u32(params.outH)) * u32(params.outH));
  let ow = vec4<i32>(4 * i32(u - row * outVecs)) + vec4<i32>(0, 1, 2, 3);
  let w = vec4<i32>(params.inW);
  // Offset from the window's centre (2oh, 2ow); u32 compares so wrapped extremes never pass.
  let e = indicesv[u] - (vec4<i32>(2 * oh * params.inW) + 2 * ow);
  let near = vec4<u32>(2u);
  let up = bitcast<vec4<u32>>(e + w + vec4<i32>(1)) <= near;
  let mid = bitcast<vec4<u32>>(e + vec4<i32>(1)) <= near;
  let down = bitcast<vec4<u32>>(e - w + vec4<i32>(1)) <= near;
  let column = 2 * ow + e - select(select(vec4<i32>(0), w, down), -w, up);
  let hasUp = oh >= 1;
  let hasMid = 2 * oh < params.inH;
  let hasDown = 2 * oh + 1 < params.inH;
  let rowInside = (up & vec4<bool>(hasUp)) | (mid & vec4<bool>(hasMid)) | (down & vec4<bool>(hasDown));
  let inside = rowInside & (column >= vec4<i32>(0)) & (column < w);
  if (!all(inside)) { atomicMax(&verdict[0], 2); }
}

/** One dy row's adds to 8 dx lanes at flat positions own, own + 4: its vec4 (g, at) and the scalar after it. */
struct Pair { a: vec4<f32>, b: vec4<f32> }

fn rowHits(acc: Pair, own: vec4<i32>, g: vec4<f32>, at: vec4<i32>, gNext: f32, atNext: i32) -> Pair {
  // Lane 2n takes window n, lane 2n + 1 windows n and n + 1; the extra compare of an even lane
  // with window n + 1 never matches a checked index (that window does not hold it).
  let zero = vec4<f32>(0.0);
  let ownB = own + vec4<i32>(4);
  let a = acc.a + select(zero, g.xxyy, at.xxyy == own) + select(zero, g.yyzz, at.yyzz == own);
  let b = acc.b + select(zero, g.zzww, at.zzww == ownB)
    + select(zero, vec4<f32>(g.ww, gNext, gNext), vec4<i32>(at.ww, atNext, atNext) == ownB);
  return Pair(a, b);
}

fn maxCell3(u: u32, o: u32) {
  let row = u / params.blocksPerRow;  // plane * ceil(inH / 2) + m
  let j = i32((u - row * params.blocksPerRow) * OV + o);
  if (o >= OV || j >= params.inW / 8) { return; }
  let pairs = u32(params.inH + 1) / 2u;
  let plane = i32(row / pairs);
  let m = i32(row) - plane * i32(pairs);
  let outVecs = params.outW / 4;
  let rowVecs = params.inW / 4;
  let lastColumn = j + 1 == outVecs;  // no window 4j + 4
  // dy row m (every checked shape has m < outH), then m + 1 when it exists.
  let at0 = (plane * params.outH + m) * outVecs + j;
  let g0 = dyv[at0];
  let i0 = indicesv[at0];
  let g0n = select(dy[4 * at0 + 4], 0.0, lastColumn);
  let i0n = select(indices[4 * at0 + 4], -1, lastColumn);
  let hasNext = m + 1 < params.outH;
  let at1 = select(at0, at0 + outVecs, hasNext);
  let g1 = select(vec4<f32>(0.0), dyv[at1], hasNext);
  let i1 = select(vec4<i32>(-1), indicesv[at1], hasNext);
  let g1n = select(dy[4 * at1 + 4], 0.0, lastColumn || !hasNext);
  let i1n = select(indices[4 * at1 + 4], -1, lastColumn || !hasNext);
  let own = vec4<i32>(2 * m * params.inW + 8 * j) + vec4<i32>(0, 1, 2, 3);
  let none = Pair(vec4<f32>(0.0), vec4<f32>(0.0));
  let top = rowHits(none, own, g0, i0, g0n, i0n);
  let ownBelow = own + vec4<i32>(params.inW);
  let bottom = rowHits(rowHits(none, ownBelow, g0, i0, g0n, i0n), ownBelow, g1, i1, g1n, i1n);
  let at = u32((plane * params.inH + 2 * m) * rowVecs + 2 * j);
  dxv[at] = top.a;
  dxv[at + 1u] = top.b;
  if (2 * m + 1 < params.inH) {
    dxv[at + u32(rowVecs)] = bottom.a;
    dxv[at + u32(rowVecs) + 1u] = bottom.b;
  }
}

@compute @workgroup_size(WG)
fn max_grad_3x3s2p1(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let u = blockIndex(wid, nwg, lid);
  if (u >= params.blocks || verdictIn[0] != 1) { return; }
  maxCell3(u, 0u); maxCell3(u, 1u); maxCell3(u, 2u); maxCell3(u, 3u);
}
