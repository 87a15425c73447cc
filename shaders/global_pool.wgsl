// Global pools: max (with its index), average and Lp over each (n, c) plane, as a workgroup tree
// reduction. A segment is a plane, or a chunk of one (huge planes split so enough workgroups run);
// `lanes` invocations reduce a segment (a power of two dividing WG, so one workgroup may hold
// several small planes; 1 on SwiftShader, where barriers are dear), then `combine` merges a
// plane's chunk partials. `*_vec4` read (and write) planes of a multiple of 4 elements as vec4s.
// Gradients are element-wise, 16 elements of one plane per invocation in the vec4 form.
override MODE: u32 = 0u;  // 0 max, 1 avg (sum), 2 lp
override WG: u32 = 64u;
// Lp: p = 2, 1, 3 take exact paths (x*x and sqrt, |x|, x*x*x), 0 any p (pow); an override so
// SwiftShader never runs pow needlessly (it evaluates both sides of a branch).
override P_CASE: u32 = 2u;

struct Params {
  segments: u32, planeSize: u32, chunkLen: u32, chunks: u32, lanes: u32, finalize: u32,
  count: u32, p: f32, groupsPerPlane: u32,
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> partialValue: array<f32>;
@group(0) @binding(3) var<storage, read> partialAux: array<i32>;
@group(0) @binding(4) var<storage, read_write> value: array<f32>;
@group(0) @binding(5) var<storage, read_write> aux: array<i32>;
@group(0) @binding(6) var<storage, read> dy: array<f32>;
@group(0) @binding(7) var<storage, read> y: array<f32>;
@group(0) @binding(8) var<storage, read> argmax: array<i32>;
@group(0) @binding(9) var<storage, read_write> dx: array<f32>;
@group(0) @binding(10) var<storage, read> xv: array<vec4<f32>>;
@group(0) @binding(11) var<storage, read_write> dxv: array<vec4<f32>>;

/**
 * A partial reduction. max: v the value, a its flat index (NO_HIT: empty). avg: v the sum.
 * lp: a holds the bits of m = the largest |x| so far and v = Σ (|x|/m)^p, so that nothing
 * overflows for large p (y = m · v^(1/p)).
 */
struct State { v: f32, a: i32 }
const NO_HIT: i32 = 0x7fffffff;

var<workgroup> sharedV: array<f32, WG>;
var<workgroup> sharedA: array<i32, WG>;

fn emptyState() -> State {
  if (MODE == 0u) { return State(0.0, NO_HIT); }
  return State(0.0, 0);
}

/** r^p for r in [0, 1]: exact for p = 1 and 2. */
fn powRatio(r: f32) -> f32 {
  if (P_CASE == 2u) { return r * r; }
  if (P_CASE == 1u) { return r; }
  if (P_CASE == 3u) { return r * r * r; }
  return select(pow(r, params.p), 0.0, r == 0.0);
}

fn powRatio4(r: vec4<f32>) -> vec4<f32> {
  if (P_CASE == 2u) { return r * r; }
  if (P_CASE == 1u) { return r; }
  if (P_CASE == 3u) { return r * r * r; }
  return select(pow(r, vec4<f32>(params.p)), vec4<f32>(0.0), r == vec4<f32>(0.0));
}

fn rootP(s: f32) -> f32 {
  if (P_CASE == 2u) { return sqrt(s); }
  if (P_CASE == 1u) { return s; }
  return pow(s, 1.0 / params.p);
}

/** `b` replaces `a` as the max: larger, or equal and earlier; NaN beats numbers (first NaN). */
fn beats(b: State, a: State) -> bool {
  if (b.a == NO_HIT) { return false; }
  if (a.a == NO_HIT) { return true; }
  let bNan = b.v != b.v;
  let aNan = a.v != a.v;
  if (bNan || aNan) { return bNan && (!aNan || b.a < a.a); }
  return b.v > a.v || (b.v == a.v && b.a < a.a);
}

/** Adds element `e` (flat index `at` in its plane); elements arrive in increasing `at` per lane. */
fn accumulate(s: State, e: f32, at: u32) -> State {
  if (MODE == 0u) {
    let next = State(e, i32(at));
    if (beats(next, s)) { return next; }
    return s;
  }
  if (MODE == 1u) { return State(s.v + e, 0); }
  let a = abs(e);
  let m = bitcast<f32>(s.a);
  if (a > m) { return State(s.v * powRatio(m / a) + 1.0, bitcast<i32>(a)); }
  if (a != a) { return State(a, s.a); }  // NaN sticks
  if (a == m) { return State(s.v + 1.0, s.a); }  // also m = a = inf, where a / m is NaN
  if (a == 0.0) { return s; }
  return State(s.v + powRatio(a / m), s.a);
}

/** Adds 4 consecutive elements (flat indices at..at+3), in order. */
fn accumulate4(s: State, e: vec4<f32>, at: u32) -> State {
  if (MODE == 0u) {
    // Branch-free (branches are dear on SwiftShader): the vec4's first maximum, then against the
    // state, whose elements all come earlier (so a tie keeps the state's).
    var v = e.x;
    var i = 0u;
    let takeY = e.y > v || (e.y != e.y && v == v);
    v = select(v, e.y, takeY);
    i = select(i, 1u, takeY);
    let takeZ = e.z > v || (e.z != e.z && v == v);
    v = select(v, e.z, takeZ);
    i = select(i, 2u, takeZ);
    let takeW = e.w > v || (e.w != e.w && v == v);
    v = select(v, e.w, takeW);
    i = select(i, 3u, takeW);
    let take = s.a == NO_HIT || v > s.v || (v != v && s.v == s.v);
    return State(select(s.v, v, take), select(s.a, i32(at + i), take));
  }
  if (MODE == 1u) { return State(s.v + (e.x + e.y) + (e.z + e.w), 0); }
  // Lp: rescale once per vec4 if it holds a new largest |x|, then add (|x|/m)^p.
  let a = abs(e);
  let top = max(max(a.x, a.y), max(a.z, a.w));
  var m = bitcast<f32>(s.a);
  var sum = s.v;
  if (top > m) {
    sum = sum * powRatio(m / top);
    m = top;
  }
  let inv = select(1.0 / m, 0.0, m == 0.0);
  let r = select(a * inv, vec4<f32>(1.0), (a == vec4<f32>(m)) & vec4<bool>(m > 3.4e38));  // inf * 0 would be NaN
  let terms = powRatio4(r);
  return State(sum + (terms.x + terms.y) + (terms.z + terms.w), bitcast<i32>(m));
}

fn merge(s: State, t: State) -> State {
  if (MODE == 0u) {
    if (beats(t, s)) { return t; }
    return s;
  }
  if (MODE == 1u) { return State(s.v + t.v, 0); }
  let ms = bitcast<f32>(s.a);
  let mt = bitcast<f32>(t.a);
  let m = max(ms, mt);
  if (m == 0.0) { return State(s.v + t.v, s.a); }  // both empty (or NaN sums, kept)
  let rs = select(ms / m, 1.0, ms == m);
  let rt = select(mt / m, 1.0, mt == m);
  return State(s.v * powRatio(rs) + t.v * powRatio(rt), bitcast<i32>(m));
}

/** Reduces the lanes of each segment held by this workgroup; lane 0 gets the result. */
fn reduceLanes(state: State, lid: u32, lane: u32) -> State {
  sharedV[lid] = state.v;
  sharedA[lid] = state.a;
  for (var half = params.lanes / 2u; half > 0u; half /= 2u) {
    workgroupBarrier();
    if (lane < half) {
      let merged = merge(State(sharedV[lid], sharedA[lid]), State(sharedV[lid + half], sharedA[lid + half]));
      sharedV[lid] = merged.v;
      sharedA[lid] = merged.a;
    }
  }
  return State(sharedV[lid], sharedA[lid]);
}

fn store(segment: u32, s: State) {
  if (params.finalize == 0u) {
    value[segment] = s.v;
    aux[segment] = s.a;
  } else if (MODE == 0u) {
    value[segment] = s.v;
    aux[segment] = s.a;
  } else if (MODE == 1u) {
    value[segment] = s.v / f32(params.planeSize);
    aux[segment] = 0;
  } else {
    let m = bitcast<f32>(s.a);
    value[segment] = select(m * rootP(s.v), 0.0, m == 0.0 && s.v == s.v);
    aux[segment] = 0;
  }
}

@compute @workgroup_size(WG)
fn reduce(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let segment = (wid.x + wid.y * nwg.x) * (WG / params.lanes) + lid / params.lanes;
  let lane = lid % params.lanes;
  var state = emptyState();
  if (segment < params.segments) {
    let plane = segment / params.chunks;
    let start = (segment % params.chunks) * params.chunkLen;
    let end = min(start + params.chunkLen, params.planeSize);
    let base = plane * params.planeSize;
    for (var at = start + lane; at < end; at += params.lanes) {
      state = accumulate(state, x[base + at], at);
    }
  }
  state = reduceLanes(state, lid, lane);
  if (lane == 0u && segment < params.segments) { store(segment, state); }
}

/** reduce for planes (and chunks) of a multiple of 4 elements, read as vec4s. */
@compute @workgroup_size(WG)
fn reduce_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let segment = (wid.x + wid.y * nwg.x) * (WG / params.lanes) + lid / params.lanes;
  let lane = lid % params.lanes;
  var state = emptyState();
  if (segment < params.segments) {
    let plane = segment / params.chunks;
    let start = (segment % params.chunks) * params.chunkLen;
    let end = min(start + params.chunkLen, params.planeSize);
    let base = plane * params.planeSize;
    for (var at = start + 4u * lane; at < end; at += 4u * params.lanes) {
      state = accumulate4(state, xv[(base + at) / 4u], at);
    }
  }
  state = reduceLanes(state, lid, lane);
  if (lane == 0u && segment < params.segments) { store(segment, state); }
}

/** Merges each plane's `chunks` partial states (segments = planes here) and finalizes. */
@compute @workgroup_size(WG)
fn combine(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let segment = (wid.x + wid.y * nwg.x) * (WG / params.lanes) + lid / params.lanes;
  let lane = lid % params.lanes;
  var state = emptyState();
  if (segment < params.segments) {
    for (var c = lane; c < params.chunks; c += params.lanes) {
      let at = segment * params.chunks + c;
      state = merge(state, State(partialValue[at], partialAux[at]));
    }
  }
  state = reduceLanes(state, lid, lane);
  if (lane == 0u && segment < params.segments) { store(segment, state); }
}

// ---- gradients, one dx element per invocation --------------------------------------------

fn elementIndex(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid;
}

/** The whole dy of a plane goes to its first maximum. */
@compute @workgroup_size(WG)
fn max_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let i = elementIndex(wid, nwg, lid);
  if (i >= params.count) { return; }
  let plane = i / params.planeSize;
  dx[i] = select(0.0, dy[plane], u32(argmax[plane]) == i - plane * params.planeSize);
}

@compute @workgroup_size(WG)
fn avg_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let i = elementIndex(wid, nwg, lid);
  if (i >= params.count) { return; }
  dx[i] = dy[i / params.planeSize] / f32(params.planeSize);
}

/** ∂y/∂x = sign(x)·(|x|/y)^(p-1); 0 where x or y is 0 (an all-zero plane: no NaN). */
fn lpPartial(xs: vec4<f32>, yv: f32) -> vec4<f32> {
  var partial: vec4<f32>;
  if (P_CASE == 2u) { partial = xs / yv; }
  else if (P_CASE == 1u) { partial = sign(xs); }
  else if (P_CASE == 3u) { let r = xs / yv; partial = r * abs(r); }
  else { partial = sign(xs) * pow(abs(xs) / yv, vec4<f32>(params.p - 1.0)); }
  return select(partial, vec4<f32>(0.0), (xs == vec4<f32>(0.0)) | vec4<bool>(yv == 0.0));
}

@compute @workgroup_size(WG)
fn lp_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let i = elementIndex(wid, nwg, lid);
  if (i >= params.count) { return; }
  let plane = i / params.planeSize;
  dx[i] = dy[plane] * lpPartial(vec4<f32>(x[i]), y[plane]).x;
}

// ---- vec4 gradients: 4 vec4s of one plane per invocation (planes of a multiple of 4) ---------

/** The plane and the first vec4 of invocation u's group; vec4s past the plane's end are skipped. */
struct Group { plane: u32, first: u32, count: u32 }

fn groupAt(u: u32) -> Group {
  let plane = u / params.groupsPerPlane;
  let vecsPerPlane = params.planeSize / 4u;
  let start = (u - plane * params.groupsPerPlane) * 4u;
  return Group(plane, plane * vecsPerPlane + start, min(4u, vecsPerPlane - start));
}

@compute @workgroup_size(WG)
fn max_grad_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let u = elementIndex(wid, nwg, lid);
  if (u >= params.count) { return; }
  let g = groupAt(u);
  let winner = i32(argmax[g.plane]);
  let g0 = i32((g.first - g.plane * (params.planeSize / 4u)) * 4u);
  let d = vec4<f32>(dy[g.plane]);
  for (var k = 0u; k < g.count; k++) {
    let at = vec4<i32>(g0 + 4 * i32(k)) + vec4<i32>(0, 1, 2, 3);
    dxv[g.first + k] = select(vec4<f32>(0.0), d, at == vec4<i32>(winner));
  }
}

@compute @workgroup_size(WG)
fn avg_grad_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let u = elementIndex(wid, nwg, lid);
  if (u >= params.count) { return; }
  let g = groupAt(u);
  let d = vec4<f32>(dy[g.plane] / f32(params.planeSize));
  for (var k = 0u; k < g.count; k++) { dxv[g.first + k] = d; }
}

@compute @workgroup_size(WG)
fn lp_grad_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let u = elementIndex(wid, nwg, lid);
  if (u >= params.count) { return; }
  let g = groupAt(u);
  let d = dy[g.plane];
  let yv = y[g.plane];
  for (var k = 0u; k < g.count; k++) { dxv[g.first + k] = d * lpPartial(xv[g.first + k], yv); }
}
