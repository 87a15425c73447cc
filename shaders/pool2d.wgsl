// 2-D pooling forward: max, average or Lp over (dilated) kernel windows.
// out = floor((in + padBegin + padEnd - d*(k-1) - 1) / s) + 1 per axis (geometry.ts).
// Each invocation makes a block of 4 consecutive outputs of one row as the lanes of vec4s, so
// the index arithmetic is paid once per 4 outputs. Two ways to fetch the taps:
// - `main`, `max_with_indices`: any geometry; each tap is a 4-element gather.
// - `*_vec4`: input rows of a multiple of 4 elements, read as aligned vec4s; the window's width
//   (KW, SW, DW, PADL) is specialised, so every tap is a fixed lane of the loaded vec4s.
//   On SwiftShader this is ~2x the gathers (a layer compiles one pipeline per width pattern).
override MODE: u32 = 0u;  // 0 max, 1 avg, 2 lp
override WG: u32 = 64u;
// Lp: p = 2, 1, 3 take exact paths (x*x and sqrt; |x|; |x*x*x|), 0 any p (pow). An override, not
// a branch on params.p: SwiftShader would evaluate pow for every element on either side of a branch.
override P_CASE: u32 = 2u;
override KW: i32 = 2;     // *_vec4 only: kernel width (<= 3), stride, dilation, left padding
override SW: i32 = 2;
override DW: i32 = 1;
override PADL: i32 = 0;

struct Params {
  blocks: u32, blocksPerRow: u32, inH: i32, inW: i32, outH: i32, outW: i32,
  kH: i32, kW: i32, strideH: i32, strideW: i32, dilationH: i32, dilationW: i32,
  padTop: i32, padLeft: i32, padBottom: i32, padRight: i32,
  countIncludePad: u32, divisorOverride: f32, p: f32,
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> indices: array<i32>;
@group(0) @binding(4) var<storage, read> xv: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> yv: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> indicesv: array<vec4<i32>>;

/** 4 outputs: their plane, row (plane * outH + oh), first window row and first window columns. */
struct Block { plane: i32, row: u32, ob: i32, h0: i32, w0: vec4<i32>, kh0: i32, kh1: i32 }

/** NaN by its bits: SwiftShader folds `v != v` to false. */
fn isNan(v: vec4<f32>) -> vec4<bool> {
  return (bitcast<vec4<u32>>(v) & vec4<u32>(0x7fffffffu)) > vec4<u32>(0x7f800000u);
}

/** floor(a / b) for 0 <= a < 2^22, b >= 1: exact in float32, and SIMD (integer division is not). */
fn divFloor(a: i32, b: i32) -> i32 {
  return i32(floor((f32(a) + 0.5) / f32(b)));
}

/** First tap k with start + k*d >= 0. */
fn firstTap(start: i32, dilation: i32) -> i32 {
  return select(0, divFloor(dilation - 1 - start, dilation), start < 0);
}

/** One past the last tap k < kernel with start + k*d <= size - 1. */
fn endTap(start: i32, dilation: i32, kernel: i32, size: i32) -> i32 {
  let room = size - 1 - start;
  return select(min(kernel, divFloor(room, dilation) + 1), 0, room < 0);
}

fn blockAt(u: u32) -> Block {
  var b: Block;
  b.row = u / params.blocksPerRow;
  b.ob = i32(u - b.row * params.blocksPerRow);
  b.plane = i32(b.row / u32(params.outH));
  let oh = i32(b.row) - b.plane * params.outH;
  b.h0 = oh * params.strideH - params.padTop;
  b.w0 = (vec4<i32>(b.ob * 4) + vec4<i32>(0, 1, 2, 3)) * params.strideW - params.padLeft;
  b.kh0 = firstTap(b.h0, params.dilationH);
  b.kh1 = endTap(b.h0, params.dilationH, params.kH, params.inH);
  return b;
}

// ---- accumulating taps -----------------------------------------------------------------------

/** max: value and flat index (-1: none yet). avg: the sum. lp: Σ|x|^p and peak = max |x|. */
struct Acc { value: vec4<f32>, at: vec4<i32>, peak: vec4<f32> }

const PASS_MAIN: u32 = 0u;
const PASS_SCALED: u32 = 1u;   // lp rescale: Σ (|x| / m)^p

/** |v|^p (0 stays 0). */
fn powAbs(v: vec4<f32>, p: f32) -> vec4<f32> {
  if (P_CASE == 2u) { return v * v; }
  if (P_CASE == 1u) { return abs(v); }
  if (P_CASE == 3u) { return abs(v * v * v); }
  return select(pow(abs(v), vec4<f32>(p)), vec4<f32>(0.0), v == vec4<f32>(0.0));
}

fn rootP(s: vec4<f32>, p: f32) -> vec4<f32> {
  if (P_CASE == 2u) { return sqrt(s); }
  if (P_CASE == 1u) { return s; }
  return pow(s, vec4<f32>(1.0 / p));
}

/** Adds one tap per lane; `ok` is false for taps in the padding. Max keeps the first maximum; NaN wins. */
fn accumulate(acc: Acc, v: vec4<f32>, ok: vec4<bool>, at: vec4<i32>, phase: u32, scale: vec4<f32>) -> Acc {
  var next = acc;
  if (phase == PASS_SCALED) {
    next.value = acc.value + select(vec4<f32>(0.0), powAbs(v * scale, params.p), ok);
  } else if (MODE == 0u) {
    let take = ok & ((acc.at < vec4<i32>(0)) | (v > acc.value) | (isNan(v) & !isNan(acc.value)));
    next.value = select(acc.value, v, take);
    next.at = select(acc.at, at, take);
  } else if (MODE == 1u) {
    next.value = acc.value + select(vec4<f32>(0.0), v, ok);
  } else {
    next.value = acc.value + select(vec4<f32>(0.0), powAbs(v, params.p), ok);
    next.peak = max(acc.peak, select(vec4<f32>(0.0), abs(v), ok));
  }
  return next;
}

/** Every tap of the block's windows, each a 4-lane gather (any geometry). */
fn scanGathered(b: Block, phase: u32, scale: vec4<f32>) -> Acc {
  var acc = Acc(vec4<f32>(0.0), vec4<i32>(-1), vec4<f32>(0.0));
  let planeBase = b.plane * params.inH * params.inW;
  let lastCol = vec4<i32>(params.inW - 1);
  for (var kh = b.kh0; kh < b.kh1; kh++) {
    let ih = b.h0 + kh * params.dilationH;
    let row = planeBase + ih * params.inW;
    for (var kw = 0; kw < params.kW; kw++) {
      let iw = b.w0 + vec4<i32>(kw * params.dilationW);
      let ok = (iw >= vec4<i32>(0)) & (iw <= lastCol);
      let at = vec4<i32>(row) + clamp(iw, vec4<i32>(0), lastCol);
      let v = vec4<f32>(x[at.x], x[at.y], x[at.z], x[at.w]);
      acc = accumulate(acc, v, ok, vec4<i32>(ih * params.inW) + iw, phase, scale);
    }
  }
  return acc;
}

// ---- the specialised vec4 fetch ------------------------------------------------------------
// Output j's tap kw is column ob*4*SW - PADL + j*SW + kw*DW = 4*q0 + OFF + j*SW + kw*DW, where
// q0 is the first loaded vec4: with KW, SW, DW, PADL fixed, OFF and every lane index are constants.

override OFF: i32 = (4 - PADL % 4) % 4;
override LEAD: i32 = (PADL + OFF) / 4;                   // vec4s the loads start before ob * SW
override NV: i32 = (OFF + 3 * SW + (KW - 1) * DW + 4) / 4;  // vec4s one window row spans (<= 4)
var<private> win: array<vec4<f32>, 4>;

fn loadVec(q: i32, q0: i32, rowVec: i32, lastVec: i32) {
  if (q < NV) { win[q] = xv[rowVec + clamp(q0 + q, 0, lastVec)]; }
}

fn lane(e: i32) -> f32 { return win[e / 4][e % 4]; }

fn tapVec(acc: Acc, kw: i32, q0: i32, ih: i32, phase: u32, scale: vec4<f32>) -> Acc {
  if (kw >= KW) { return acc; }
  let e = vec4<i32>(OFF + kw * DW) + vec4<i32>(0, 1, 2, 3) * SW;
  let v = vec4<f32>(lane(e.x), lane(e.y), lane(e.z), lane(e.w));
  let col = vec4<i32>(4 * q0) + e;
  let ok = (col >= vec4<i32>(0)) & (col < vec4<i32>(params.inW));
  return accumulate(acc, v, ok, vec4<i32>(ih * params.inW) + col, phase, scale);
}

fn scanVec4(b: Block, phase: u32, scale: vec4<f32>) -> Acc {
  var acc = Acc(vec4<f32>(0.0), vec4<i32>(-1), vec4<f32>(0.0));
  let rowVecs = params.inW / 4;
  let planeBase = b.plane * params.inH * rowVecs;
  let q0 = b.ob * SW - LEAD;
  for (var kh = b.kh0; kh < b.kh1; kh++) {
    let ih = b.h0 + kh * params.dilationH;
    let rowVec = planeBase + ih * rowVecs;
    loadVec(0, q0, rowVec, rowVecs - 1); loadVec(1, q0, rowVec, rowVecs - 1);
    loadVec(2, q0, rowVec, rowVecs - 1); loadVec(3, q0, rowVec, rowVecs - 1);
    acc = tapVec(acc, 0, q0, ih, phase, scale);
    acc = tapVec(acc, 1, q0, ih, phase, scale);
    acc = tapVec(acc, 2, q0, ih, phase, scale);
  }
  return acc;
}

// ---- results -------------------------------------------------------------------------------

/** PyTorch's divisor: the override; or the window clipped to the padded input; or its input part. */
fn avgDivisor(b: Block) -> vec4<f32> {
  if (params.divisorOverride > 0.0) { return vec4<f32>(params.divisorOverride); }
  if (params.countIncludePad != 0u) {
    let rows = min(b.h0 + params.kH, params.inH + params.padBottom) - b.h0;
    let cols = min(b.w0 + vec4<i32>(params.kW), vec4<i32>(params.inW + params.padRight)) - b.w0;
    return vec4<f32>(cols * rows);
  }
  let cols = min(b.w0 + vec4<i32>(params.kW), vec4<i32>(params.inW)) - max(b.w0, vec4<i32>(0));
  return vec4<f32>(cols * (b.kh1 - b.kh0));
}

/**
 * (Σ|x|^p)^(1/p) is the direct sum while it is well inside float32's range; otherwise (large p,
 * huge or tiny values) the window is rescanned: with m = max |x|, y = m · (Σ(|x|/m)^p)^(1/p).
 */
fn lpDirect(sum: vec4<f32>) -> vec4<bool> {
  return ((sum >= vec4<f32>(1e-30)) & (sum <= vec4<f32>(1e30))) | isNan(sum);  // a NaN input propagates
}

fn lpScale(m: vec4<f32>) -> vec4<f32> {
  return select(1.0 / m, vec4<f32>(0.0), m == vec4<f32>(0.0));
}

fn lpResult(sum: vec4<f32>, m: vec4<f32>, scaledSum: vec4<f32>) -> vec4<f32> {
  let special = (m == vec4<f32>(0.0)) | (m > vec4<f32>(3.4e38));  // all zeros, or an infinite element
  let rescaled = select(m * rootP(scaledSum, params.p), m, special);
  return select(rescaled, rootP(sum, params.p), lpDirect(sum));
}

fn store(b: Block, v: vec4<f32>) {
  let o = b.row * u32(params.outW) + u32(b.ob * 4);
  let n = params.outW - b.ob * 4;
  y[o] = v.x;
  if (n > 1) { y[o + 1u] = v.y; }
  if (n > 2) { y[o + 2u] = v.z; }
  if (n > 3) { y[o + 3u] = v.w; }
}

fn storeIndices(b: Block, at: vec4<i32>) {
  let o = b.row * u32(params.outW) + u32(b.ob * 4);
  let n = params.outW - b.ob * 4;
  indices[o] = at.x;
  if (n > 1) { indices[o + 1u] = at.y; }
  if (n > 2) { indices[o + 2u] = at.z; }
  if (n > 3) { indices[o + 3u] = at.w; }
}

/** Writes a block's results; `m` and `scaledSum` are the Lp rescale passes (unused otherwise). */
fn finish(b: Block, acc: Acc, m: vec4<f32>, scaledSum: vec4<f32>) {
  if (MODE == 0u) { store(b, acc.value); }
  else if (MODE == 1u) { store(b, acc.value / avgDivisor(b)); }
  else { store(b, lpResult(acc.value, m, scaledSum)); }
}

/** Lp's rare second look (see lpResult) rescans with the gathering fetch: less code to compile. */
fn lpRescaled(b: Block, acc: Acc) -> vec4<f32> {
  if (MODE != 2u || all(lpDirect(acc.value))) { return vec4<f32>(0.0); }
  return scanGathered(b, PASS_SCALED, lpScale(acc.peak)).value;
}

fn poolGathered(u: u32) {
  let b = blockAt(u);
  let acc = scanGathered(b, PASS_MAIN, vec4<f32>(1.0));
  finish(b, acc, acc.peak, lpRescaled(b, acc));
}

fn poolVec4(u: u32) {
  let b = blockAt(u);
  let acc = scanVec4(b, PASS_MAIN, vec4<f32>(1.0));
  finish(b, acc, acc.peak, lpRescaled(b, acc));
}

fn blockIndex(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let u = blockIndex(wid, nwg, lid);
  if (u < params.blocks) { poolGathered(u); }
}

@compute @workgroup_size(WG)
fn max_with_indices(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let u = blockIndex(wid, nwg, lid);
  if (u < params.blocks) {
    let b = blockAt(u);
    let acc = scanGathered(b, PASS_MAIN, vec4<f32>(1.0));
    store(b, acc.value);
    storeIndices(b, acc.at);
  }
}

@compute @workgroup_size(WG)
fn main_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let u = blockIndex(wid, nwg, lid);
  if (u < params.blocks) { poolVec4(u); }
}

@compute @workgroup_size(WG)
fn max_with_indices_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_index) lid: u32) {
  let u = blockIndex(wid, nwg, lid);
  if (u < params.blocks) {
    let b = blockAt(u);
    let acc = scanVec4(b, PASS_MAIN, vec4<f32>(1.0));
    store(b, acc.value);
    storeIndices(b, acc.at);
  }
}

// ---- fixed windows: 2x2 stride 2, and max 3x3 stride 2 pad 1 --------------------------------
// The common pools, for input and output rows of a multiple of 4 elements: an invocation makes
// OV vec4s of outputs of one row from aligned vec4 loads with no per-tap bounds or index math
// (SwiftShader pays for every instruction on every lane; the general kernels spend most of their
// time there, these run near the copy kernel's rate). blocksPerRow counts groups of OV vec4s.
override OV: u32 = 2u;

/** A group's output row (plane * outH + oh), plane, oh and first output vec4 in the row. */
struct Group { row: u32, plane: u32, oh: u32, q: u32 }

fn groupAt(u: u32) -> Group {
  var g: Group;
  g.row = u / params.blocksPerRow;
  g.q = (u - g.row * params.blocksPerRow) * OV;
  g.plane = g.row / u32(params.outH);
  g.oh = g.row - g.plane * u32(params.outH);
  return g;
}

/** Max of a and b keeping a on ties (the earlier tap); NaN wins. */
fn takeMax(a: vec4<f32>, b: vec4<f32>) -> vec4<bool> {
  return (b > a) | (isNan(b) & !isNan(a));
}

/** Lanes (x, y) and (z, w) of v and of w folded pairwise: the 4 windows of a 2x2 pool over 2 vec4 columns. */
fn evens(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> { return vec4<f32>(a.x, a.z, b.x, b.z); }
fn odds(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> { return vec4<f32>(a.y, a.w, b.y, b.w); }

/** 2x2 windows of output vec4 o: taps t00, t01 (row 0), t10, t11 (row 1), each a vec4 over 4 windows. */
struct Taps2 { t00: vec4<f32>, t01: vec4<f32>, t10: vec4<f32>, t11: vec4<f32> }

fn taps2(g: Group, o: u32) -> Taps2 {
  let rowVecs = u32(params.inW) / 4u;
  let top = (g.plane * u32(params.inH) + 2u * g.oh) * rowVecs + 2u * (g.q + o);
  let a0 = xv[top]; let a1 = xv[top + 1u];
  let b0 = xv[top + rowVecs]; let b1 = xv[top + rowVecs + 1u];
  return Taps2(evens(a0, a1), odds(a0, a1), evens(b0, b1), odds(b0, b1));
}

fn pool2(t: Taps2) -> vec4<f32> {
  if (MODE == 0u) {
    let m0 = select(t.t00, t.t01, takeMax(t.t00, t.t01));
    let m1 = select(t.t10, t.t11, takeMax(t.t10, t.t11));
    return select(m0, m1, takeMax(m0, m1));
  }
  if (MODE == 1u) {
    let divisor = select(4.0, params.divisorOverride, params.divisorOverride > 0.0);
    return (t.t00 + t.t01 + t.t10 + t.t11) / divisor;
  }
  let sum = powAbs(t.t00, params.p) + powAbs(t.t01, params.p) + powAbs(t.t10, params.p) + powAbs(t.t11, params.p);
  let m = max(max(abs(t.t00), abs(t.t01)), max(abs(t.t10), abs(t.t11)));
  let s = lpScale(m);
  let scaled = powAbs(t.t00 * s, params.p) + powAbs(t.t01 * s, params.p) + powAbs(t.t10 * s, params.p) + powAbs(t.t11 * s, params.p);
  return lpResult(sum, m, scaled);
}

fn store2(g: Group, o: u32) {
  if (inRow(g, o)) { yv[g.row * (u32(params.outW) / 4u) + g.q + o] = pool2(taps2(g, o)); }
}

/** The argmax of 2x2 windows (row-major first on ties) and its value. */
fn argmax2(g: Group, o: u32) {
  if (!inRow(g, o)) { return; }
  let t = taps2(g, o);
  let col = vec4<i32>(8 * i32(g.q + o)) + vec4<i32>(0, 2, 4, 6);
  let at00 = vec4<i32>(2 * i32(g.oh) * params.inW) + col;
  let take01 = takeMax(t.t00, t.t01);
  let m0 = select(t.t00, t.t01, take01);
  let i0 = select(at00, at00 + 1, take01);
  let take11 = takeMax(t.t10, t.t11);
  let m1 = select(t.t10, t.t11, take11);
  let i1 = select(at00 + params.inW, at00 + params.inW + 1, take11);
  let take = takeMax(m0, m1);
  let at = g.row * (u32(params.outW) / 4u) + g.q + o;
  yv[at] = select(m0, m1, take);
  indicesv[at] = select(i0, i1, take);
}

fn inRow(g: Group, o: u32) -> bool {
  return o < OV && g.q + o < u32(params.outW) / 4u;
}

@compute @workgroup_size(WG)
fn pool_2x2(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let u = blockIndex(wid, nwg, lid);
  if (u >= params.blocks) { return; }
  let g = groupAt(u);
  store2(g, 0u); store2(g, 1u); store2(g, 2u); store2(g, 3u);
}

@compute @workgroup_size(WG)
fn max_with_indices_2x2(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                        @builtin(local_invocation_index) lid: u32) {
  let u = blockIndex(wid, nwg, lid);
  if (u >= params.blocks) { return; }
  let g = groupAt(u);
  argmax2(g, 0u); argmax2(g, 1u); argmax2(g, 2u); argmax2(g, 3u);
}

/** One window row of max 3x3 stride 2 pad 1 for output vec4 o: left, center and right taps. */
struct Taps3 { l: vec4<f32>, c: vec4<f32>, r: vec4<f32> }

/** Row ih's taps; the left padding column (first vec4 of a row) repeats the center tap. */
fn taps3(g: Group, o: u32, ih: u32) -> Taps3 {
  let rowVecs = u32(params.inW) / 4u;
  let at = (g.plane * u32(params.inH) + ih) * rowVecs + 2u * (g.q + o);
  let first = g.q + o == 0u;
  let a = xv[at];
  let b = xv[at + 1u];
  // Only the lane before the vec4s is needed: a scalar load (SwiftShader pays per component).
  let l = x[select(4u * at - 1u, 4u * at, first)];
  let c = vec4<f32>(a.x, a.z, b.x, b.z);
  return Taps3(vec4<f32>(l, a.y, a.w, b.y), c, vec4<f32>(a.y, a.w, b.y, b.w));
}

/**
 * max 3x3 stride 2 pad 1 makes output rows oh and oh + 1 (oh even) together: their windows share
 * input row 2oh + 1, so 5 rows are loaded for 2 output rows. A window row in the padding (or past
 * the input) repeats the window's center row: harmless for a max, and for the argmax too, since
 * the repeat carries the center's index (ties keep the earlier tap).
 */
fn pairAt(u: u32) -> Group {
  var g: Group;
  let pairs = (u32(params.outH) + 1u) / 2u;
  let pairRow = u / params.blocksPerRow;  // plane * pairs + oh / 2
  g.q = (u - pairRow * params.blocksPerRow) * OV;
  g.plane = pairRow / pairs;
  g.oh = 2u * (pairRow - g.plane * pairs);
  g.row = g.plane * u32(params.outH) + g.oh;
  return g;
}

/** Input rows 2oh-1 .. 2oh+3 of a pair, each clamped to the window's center row when outside. */
fn pairRows(g: Group) -> array<u32, 5> {
  let c0 = 2u * g.oh;
  let inH = u32(params.inH);
  let c1 = select(c0, c0 + 2u, c0 + 2u < inH);
  return array<u32, 5>(select(c0 - 1u, c0, g.oh == 0u), c0, select(c0, c0 + 1u, c0 + 1u < inH), c1, select(c1, c0 + 3u, c0 + 3u < inH));
}

fn fold3(m: vec4<f32>, t: Taps3) -> vec4<f32> {
  let a = select(m, t.l, takeMax(m, t.l));
  let b = select(a, t.c, takeMax(a, t.c));
  return select(b, t.r, takeMax(b, t.r));
}

fn secondRow(g: Group) -> bool { return g.oh + 1u < u32(params.outH); }

fn store3(g: Group, o: u32) {
  if (!inRow(g, o)) { return; }
  let r = pairRows(g);
  let t0 = taps3(g, o, r[0]);
  let t2 = taps3(g, o, r[2]);
  let at = g.row * (u32(params.outW) / 4u) + g.q + o;
  yv[at] = fold3(fold3(fold3(t0.l, t0), taps3(g, o, r[1])), t2);
  if (secondRow(g)) {
    yv[at + u32(params.outW) / 4u] = fold3(fold3(fold3(t2.l, t2), taps3(g, o, r[3])), taps3(g, o, r[4]));
  }
}

/** Running max and its index; a repeated tap carries the index of the tap it repeats. */
struct ArgMax { v: vec4<f32>, at: vec4<i32> }

fn takeTap(m: ArgMax, v: vec4<f32>, at: vec4<i32>) -> ArgMax {
  let take = takeMax(m.v, v);
  return ArgMax(select(m.v, v, take), select(m.at, at, take));
}

/** Flat indices of row ih's center taps of output vec4 o. */
fn centerAt(g: Group, o: u32, ih: u32) -> vec4<i32> {
  return vec4<i32>(i32(ih) * params.inW + 8 * i32(g.q + o)) + vec4<i32>(0, 2, 4, 6);
}

/** The left taps' indices: the first output's left tap in the padding repeats its center. */
fn leftAt(g: Group, o: u32, center: vec4<i32>) -> vec4<i32> {
  return center - vec4<i32>(select(1, 0, g.q + o == 0u), 1, 1, 1);
}

fn argFold3(m: ArgMax, t: Taps3, g: Group, o: u32, ih: u32) -> ArgMax {
  let center = centerAt(g, o, ih);
  return takeTap(takeTap(takeTap(m, t.l, leftAt(g, o, center)), t.c, center), t.r, center + 1);
}

fn argmax3(g: Group, o: u32) {
  if (!inRow(g, o)) { return; }
  let r = pairRows(g);
  let t0 = taps3(g, o, r[0]);
  let t2 = taps3(g, o, r[2]);
  var m = argFold3(ArgMax(t0.l, leftAt(g, o, centerAt(g, o, r[0]))), t0, g, o, r[0]);
  m = argFold3(m, taps3(g, o, r[1]), g, o, r[1]);
  m = argFold3(m, t2, g, o, r[2]);
  let at = g.row * (u32(params.outW) / 4u) + g.q + o;
  yv[at] = m.v;
  indicesv[at] = m.at;
  if (secondRow(g)) {
    var n = argFold3(ArgMax(t2.l, leftAt(g, o, centerAt(g, o, r[2]))), t2, g, o, r[2]);
    n = argFold3(n, taps3(g, o, r[3]), g, o, r[3]);
    n = argFold3(n, taps3(g, o, r[4]), g, o, r[4]);
    yv[at + u32(params.outW) / 4u] = n.v;
    indicesv[at + u32(params.outW) / 4u] = n.at;
  }
}

@compute @workgroup_size(WG)
fn max_3x3s2p1(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let u = blockIndex(wid, nwg, lid);
  if (u >= params.blocks) { return; }
  let g = pairAt(u);
  store3(g, 0u); store3(g, 1u); store3(g, 2u); store3(g, 3u);
}

@compute @workgroup_size(WG)
fn max_with_indices_3x3s2p1(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                            @builtin(local_invocation_index) lid: u32) {
  let u = blockIndex(wid, nwg, lid);
  if (u >= params.blocks) { return; }
  let g = pairAt(u);
  argmax3(g, 0u); argmax3(g, 1u); argmax3(g, 2u); argmax3(g, 3u);
}
