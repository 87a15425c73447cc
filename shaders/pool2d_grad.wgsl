// 2-D pooling gradients as gathers over input positions: each invocation owns a strip of 16
// consecutive dx elements of one input row (4 vec4s) and adds up the dy of every output window
// that holds them, so overlapping windows (stride < kernel) accumulate with no atomics and no
// lost updates, in a fixed order. One dy load serves the whole strip, and the invocation's
// fixed costs (SwiftShader's dominate) are paid once per 16 elements. The *_vec4 entry points
// store dx (and read x) as aligned vec4s, for rows of a multiple of 4 elements.
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

const STRIP: i32 = 16;

/** A strip of 16 input pixels in one row: plane, row, first column, flat index of the first, count inside. */
struct Strip { plane: i32, ih: i32, iw0: i32, first: u32, count: i32 }

/** The strip's 16 dx values (or x values), 4 per vec4. */
struct Quad { a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32> }

fn stripAt(u: u32) -> Strip {
  var s: Strip;
  let row = u / params.blocksPerRow;  // plane * inH + ih
  s.iw0 = i32(u - row * params.blocksPerRow) * STRIP;
  s.plane = i32(row / u32(params.inH));
  s.ih = i32(row) - s.plane * params.inH;
  s.first = row * u32(params.inW) + u32(s.iw0);
  s.count = min(STRIP, params.inW - s.iw0);
  return s;
}

fn blockIndex(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid;
}

/** Columns of the strip's lanes, 4 per vec4. */
fn columns(s: Strip, q: i32) -> vec4<i32> {
  return vec4<i32>(s.iw0 + 4 * q) + vec4<i32>(0, 1, 2, 3);
}

/** Stores the first n (> 0) lanes of v at dx[at...]. */
fn storeLanes(at: u32, v: vec4<f32>, n: i32) {
  dx[at] = v.x;
  if (n > 1) { dx[at + 1u] = v.y; }
  if (n > 2) { dx[at + 2u] = v.z; }
  if (n > 3) { dx[at + 3u] = v.w; }
}

fn storeScalars(s: Strip, v: Quad) {
  storeLanes(s.first, v.a, s.count);
  if (s.count > 4) { storeLanes(s.first + 4u, v.b, s.count - 4); }
  if (s.count > 8) { storeLanes(s.first + 8u, v.c, s.count - 8); }
  if (s.count > 12) { storeLanes(s.first + 12u, v.d, s.count - 12); }
}

fn storeVec4s(s: Strip, v: Quad) {
  // Rows of a multiple of 4: the strip holds count / 4 whole vec4s.
  let at = s.first / 4u;
  dxv[at] = v.a;
  if (s.count > 4) { dxv[at + 1u] = v.b; }
  if (s.count > 8) { dxv[at + 2u] = v.c; }
  if (s.count > 12) { dxv[at + 3u] = v.d; }
}

/** floor(a / b) for 0 <= a < 2^22, b >= 1: exact in float32, and SIMD (integer division is not). */
fn divFloor(a: i32, b: i32) -> i32 {
  return i32(floor((f32(a) + 0.5) / f32(b)));
}

/**
 * The outputs o along one axis whose window [o*s - pad, o*s - pad + k) holds any of the
 * positions lo..hi: from ceil((lo + pad - k + 1) / s), clipped at 0, to floor((hi + pad) / s),
 * clipped to the output.
 */
fn windowsHolding(lo: i32, hi: i32, kernel: i32, stride: i32, padBegin: i32, outSize: i32) -> vec2<i32> {
  let reach = lo + padBegin - kernel + 1;
  let first = select(0, divFloor(reach + stride - 1, stride), reach > 0);
  return vec2<i32>(first, min(outSize - 1, divFloor(hi + padBegin, stride)));
}

/** Adds `g` to the lanes whose column lies in [start, start + kernel). */
fn addWindow(acc: Quad, s: Strip, start: i32, g: f32) -> Quad {
  let lo = vec4<i32>(start);
  let hi = vec4<i32>(start + params.kW);
  let zero = vec4<f32>(0.0);
  let c0 = columns(s, 0);
  let c1 = columns(s, 1);
  let c2 = columns(s, 2);
  let c3 = columns(s, 3);
  return Quad(acc.a + select(zero, vec4<f32>(g), (c0 >= lo) & (c0 < hi)),
              acc.b + select(zero, vec4<f32>(g), (c1 >= lo) & (c1 < hi)),
              acc.c + select(zero, vec4<f32>(g), (c2 >= lo) & (c2 < hi)),
              acc.d + select(zero, vec4<f32>(g), (c3 >= lo) & (c3 < hi)));
}

// ---- average -------------------------------------------------------------------------------

/** Per-axis factor of PyTorch's average divisor for the window starting at `start` (branch-free: cheaper on SwiftShader). */
fn divisorFactor(start: i32, kernel: i32, size: i32, padEnd: i32) -> i32 {
  let withPad = min(start + kernel, size + padEnd) - start;
  let inside = min(start + kernel, size) - max(start, 0);
  return select(inside, withPad, params.countIncludePad != 0u);
}

/** dx = Σ over the windows holding each pixel of dy / divisor. */
fn avgGrad(s: Strip) -> Quad {
  let rows = windowsHolding(s.ih, s.ih, params.kH, params.strideH, params.padTop, params.outH);
  let cols = windowsHolding(s.iw0, s.iw0 + s.count - 1, params.kW, params.strideW, params.padLeft, params.outW);
  var acc = Quad(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  for (var oh = rows.x; oh <= rows.y; oh++) {
    let rowFactor = divisorFactor(oh * params.strideH - params.padTop, params.kH, params.inH, params.padBottom);
    let base = (s.plane * params.outH + oh) * params.outW;
    for (var ow = cols.x; ow <= cols.y; ow++) {
      let start = ow * params.strideW - params.padLeft;
      let divisor = f32(rowFactor * divisorFactor(start, params.kW, params.inW, params.padRight));
      acc = addWindow(acc, s, start, dy[base + ow] / select(divisor, params.divisorOverride, params.divisorOverride > 0.0));
    }
  }
  return acc;
}

@compute @workgroup_size(WG)
fn avg_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let u = blockIndex(wid, nwg, lid);
  if (u < params.blocks) { let s = stripAt(u); storeScalars(s, avgGrad(s)); }
}

@compute @workgroup_size(WG)
fn avg_grad_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let u = blockIndex(wid, nwg, lid);
  if (u < params.blocks) { let s = stripAt(u); storeVec4s(s, avgGrad(s)); }
}

// ---- Lp ------------------------------------------------------------------------------------

/** ∂y/∂x of y = (Σ|x|^p)^(1/p): sign(x)·(|x|/y)^(p-1); 0 where x or y is 0 (an all-zero window). */
fn lpPartial(xs: vec4<f32>, yValue: f32) -> vec4<f32> {
  return lpPartialLanes(xs, vec4<f32>(yValue));
}

/** lpPartial with a y per lane. */
fn lpPartialLanes(xs: vec4<f32>, ys: vec4<f32>) -> vec4<f32> {
  var partial: vec4<f32>;
  if (P_CASE == 2u) { partial = xs / ys; }
  else if (P_CASE == 1u) { partial = sign(xs); }
  else if (P_CASE == 3u) { let r = xs / ys; partial = r * abs(r); }
  else { partial = sign(xs) * pow(abs(xs) / ys, vec4<f32>(params.p - 1.0)); }
  return select(partial, vec4<f32>(0.0), (xs == vec4<f32>(0.0)) | (ys == vec4<f32>(0.0)));
}

fn addLp(acc: vec4<f32>, c: vec4<i32>, start: i32, g: f32, xs: vec4<f32>, yv: f32) -> vec4<f32> {
  let inside = (c >= vec4<i32>(start)) & (c < vec4<i32>(start + params.kW));
  return acc + select(vec4<f32>(0.0), g * lpPartial(xs, yv), inside);
}

/** dx = Σ over the windows holding each pixel of dy · ∂y/∂x. */
fn lpGrad(s: Strip, xs: Quad) -> Quad {
  let rows = windowsHolding(s.ih, s.ih, params.kH, params.strideH, params.padTop, params.outH);
  let cols = windowsHolding(s.iw0, s.iw0 + s.count - 1, params.kW, params.strideW, params.padLeft, params.outW);
  var acc = Quad(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  for (var oh = rows.x; oh <= rows.y; oh++) {
    let base = (s.plane * params.outH + oh) * params.outW;
    for (var ow = cols.x; ow <= cols.y; ow++) {
      let start = ow * params.strideW - params.padLeft;
      let g = dy[base + ow];
      let yv = y[base + ow];
      acc = Quad(addLp(acc.a, columns(s, 0), start, g, xs.a, yv), addLp(acc.b, columns(s, 1), start, g, xs.b, yv),
                 addLp(acc.c, columns(s, 2), start, g, xs.c, yv), addLp(acc.d, columns(s, 3), start, g, xs.d, yv));
    }
  }
  return acc;
}

fn xGathered(s: Strip, q: i32) -> vec4<f32> {
  let last = s.first + u32(s.count - 1);
  let at = s.first + u32(4 * q);
  return vec4<f32>(x[min(at, last)], x[min(at + 1u, last)], x[min(at + 2u, last)], x[min(at + 3u, last)]);
}

@compute @workgroup_size(WG)
fn lp_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let u = blockIndex(wid, nwg, lid);
  if (u >= params.blocks) { return; }
  let s = stripAt(u);
  let xs = Quad(xGathered(s, 0), xGathered(s, 1), xGathered(s, 2), xGathered(s, 3));
  storeScalars(s, lpGrad(s, xs));
}

@compute @workgroup_size(WG)
fn lp_grad_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let u = blockIndex(wid, nwg, lid);
  if (u >= params.blocks) { return; }
  let s = stripAt(u);
  let at = s.first / 4u;
  let last = at + u32((s.count - 1) / 4);
  let xs = Quad(xv[at], xv[min(at + 1u, last)], xv[min(at + 2u, last)], xv[min(at + 3u, last)]);
  storeVec4s(s, lpGrad(s, xs));
}

// ---- max: the gradient router, without the forward's geometry ------------------------------
// The verdict picks one route on the GPU: 0 max_grad_2x2, 1 max_grad_3x3s2p1, 2 the router.
// (pool2d_grad_fixed.wgsl) When dy and dx have 2x2 stride 2 shapes, max_check_2x2 tests whether every index lies in its
// output's 2x2 window (what a 2x2 stride 2 max pool makes); max_check_3x3s2p1 likewise for 3x3
// stride 2 pad 1 windows (a 2x2 window lies inside that one, so 2x2 failing first is consistent).
// The fixed gathers compare each dx lane with the few indices whose window can hold it; the
// routes not taken return at once.
// maxPool2dGrad gets only (dy, indices, inputShape), so the windows are read off the indices:
// 1. max_bounds: per output row (col), the lowest and highest input row (col) its indices hit;
// 2. max_ranges: per input row and per strip of 16 input columns, the first and last output
//    row (col) whose bounds meet it;
// 3. max_grad: each strip scans those outputs and adds dy where the index is a pixel of its own.
// For a real pool the scan is the windows overlapping the strip; any index tensor stays correct.

@group(0) @binding(8) var<storage, read_write> lows: array<atomic<i32>>;    // [output rows, output cols]
@group(0) @binding(9) var<storage, read_write> highs: array<atomic<i32>>;
@group(0) @binding(10) var<storage, read> lowsIn: array<i32>;
@group(0) @binding(11) var<storage, read> highsIn: array<i32>;
@group(0) @binding(12) var<storage, read_write> ranges: array<i32>;  // [first, last] x [input rows, column strips]
@group(0) @binding(13) var<storage, read> rangesIn: array<i32>;
const NO_HIT: i32 = 0x7fffffff;
// Written by max_check_* in pool2d_grad_fixed.wgsl: 2 when the router must run.
@group(0) @binding(18) var<storage, read> verdictIn: array<i32>;

/**
 * One workgroup per output row and run of MAX_BOUNDS_PLANES planes; invocation t takes the columns
 * t, t + WG, ... and walks the planes (consecutive invocations read consecutive indices). Atomic
 * min/max merge the workgroups (deterministic). lows/highs start at NO_HIT/-1 (filled).
 */
const MAX_BOUNDS_PLANES: i32 = 16;

@compute @workgroup_size(WG)
fn max_bounds(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  if (verdictIn[0] != 2) { return; }  // a fixed gather routed everything
  let group = i32(wid.x + wid.y * nwg.x);
  let run = group / params.outH;
  let oh = group - run * params.outH;
  let firstPlane = run * MAX_BOUNDS_PLANES;
  if (firstPlane >= i32(params.planes)) { return; }
  let endPlane = min(firstPlane + MAX_BOUNDS_PLANES, i32(params.planes));
  let planeSize = params.inH * params.inW;
  var rowLo = NO_HIT;
  var rowHi = -1;
  for (var ow = i32(lid); ow < params.outW; ow += i32(WG)) {
    var colLo = NO_HIT;
    var colHi = -1;
    for (var plane = firstPlane; plane < endPlane; plane++) {
      let at = indices[(plane * params.outH + oh) * params.outW + ow];
      if (at >= 0 && at < planeSize) {
        let r = at / params.inW;
        let c = at - r * params.inW;
        rowLo = min(rowLo, r);
        rowHi = max(rowHi, r);
        colLo = min(colLo, c);
        colHi = max(colHi, c);
      }
    }
    if (colHi >= 0) {
      atomicMin(&lows[params.outH + ow], colLo);
      atomicMax(&highs[params.outH + ow], colHi);
    }
  }
  if (rowHi >= 0) {
    atomicMin(&lows[oh], rowLo);
    atomicMax(&highs[oh], rowHi);
  }
}

/** One invocation per input row, then per strip of input columns: the output lines that meet it. */
@compute @workgroup_size(WG)
fn max_ranges(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  if (verdictIn[0] != 2) { return; }
  let t = i32(blockIndex(wid, nwg, lid));
  let strips = i32(params.strips);
  if (t >= params.inH + strips) { return; }
  let isRow = t < params.inH;
  let lo = select((t - params.inH) * STRIP, t, isRow);
  let hi = select(lo + STRIP - 1, t, isRow);
  let lines = select(params.outW, params.outH, isRow);
  let at = select(params.outH, 0, isRow);
  var first = NO_HIT;
  var last = -1;
  for (var o = 0; o < lines; o++) {
    if (lowsIn[at + o] <= hi && lo <= highsIn[at + o]) {
      first = min(first, o);
      last = max(last, o);
    }
  }
  // Layout: [first of each input row, first of each strip, last of each row, last of each strip].
  ranges[t] = first;
  ranges[params.inH + strips + t] = last;
}

fn addHits(acc: vec4<f32>, own: vec4<i32>, at: i32, g: f32) -> vec4<f32> {
  return acc + select(vec4<f32>(0.0), vec4<f32>(g), own == vec4<i32>(at));
}

/** dx = Σ of dy over the candidate outputs whose index is this pixel. */
fn maxGrad(s: Strip, strip: i32) -> Quad {
  let lines = params.inH + i32(params.strips);
  let rowFirst = rangesIn[s.ih];
  let rowLast = rangesIn[lines + s.ih];
  let colFirst = rangesIn[params.inH + strip];
  let colLast = rangesIn[lines + params.inH + strip];
  let rowStart = vec4<i32>(s.ih * params.inW);
  let own0 = rowStart + columns(s, 0);
  let own1 = rowStart + columns(s, 1);
  let own2 = rowStart + columns(s, 2);
  let own3 = rowStart + columns(s, 3);
  var acc = Quad(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  for (var oh = rowFirst; oh <= rowLast; oh++) {
    let base = (s.plane * params.outH + oh) * params.outW;
    for (var ow = colFirst; ow <= colLast; ow++) {
      let at = indices[base + ow];
      let g = dy[base + ow];
      acc = Quad(addHits(acc.a, own0, at, g), addHits(acc.b, own1, at, g), addHits(acc.c, own2, at, g), addHits(acc.d, own3, at, g));
    }
  }
  return acc;
}

/**
 * The router's gather: an invocation takes ROUTE_ROWS strips stacked in one column of strips
 * (fewer invocations: SwiftShader pays for each, even in a pass that returns at once on verdict 0).
 */
const ROUTE_ROWS: i32 = 4;

fn routedStrip(u: u32, r: i32) -> Strip {
  let groups = (params.inH + ROUTE_ROWS - 1) / ROUTE_ROWS;
  let column = u / params.strips;  // plane * groups + row group
  var s: Strip;
  s.iw0 = i32(u - column * params.strips) * STRIP;
  s.plane = i32(column) / groups;
  s.ih = (i32(column) - s.plane * groups) * ROUTE_ROWS + r;
  s.first = u32((s.plane * params.inH + s.ih) * params.inW + s.iw0);
  s.count = min(STRIP, params.inW - s.iw0);
  return s;
}

@compute @workgroup_size(WG)
fn max_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let u = blockIndex(wid, nwg, lid);
  if (u >= params.blocks || verdictIn[0] != 2) { return; }
  for (var r = 0; r < ROUTE_ROWS; r++) {
    let s = routedStrip(u, r);
    if (s.ih < params.inH) { storeScalars(s, maxGrad(s, s.iw0 / STRIP)); }
  }
}

@compute @workgroup_size(WG)
fn max_grad_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let u = blockIndex(wid, nwg, lid);
  if (u >= params.blocks || verdictIn[0] != 2) { return; }
  for (var r = 0; r < ROUTE_ROWS; r++) {
    let s = routedStrip(u, r);
    if (s.ih < params.inH) { storeVec4s(s, maxGrad(s, s.iw0 / STRIP)); }
  }
}
