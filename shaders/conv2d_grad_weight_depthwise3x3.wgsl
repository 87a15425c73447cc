// Weight gradient of a depthwise 3x3 stride-1 undilated conv (any padding, channel multiplier >= 1):
//   dw[co, 0, kh, kw] = sum_{n, oh, ow} dy[n, co, oh, ow] * x[n, co / mult, oh + kh - padTop, ow + kw - padLeft]
// Each invocation (main) owns ROWS rows x 8 columns of one channel's dy, slides a window of 3 x rows
// of 10 columns down them as conv2d_depthwise3x3.wgsl does, and keeps the 9 taps' sums in vec4
// accumulators (lanes = columns); it writes its 9 partial sums, and `sum_parts` adds each channel's
// parts. Reads outside x or dy are clamped to a valid address and zeroed with select, so neither
// needs a padded copy. Straight-line taps: on SwiftShader loops with indexed arrays cost 3-4x.
struct Params {
  H: u32, W: u32, outH: u32, outW: u32,
  padTop: u32, padLeft: u32,
  Cin: u32, Cout: u32, coutPerGroup: u32,
  wBlocks: u32, hBlocks: u32,   // ceil(outW / 8), ceil(outH / ROWS)
  N: u32,
  parts: u32,                   // blocks per channel: N * hBlocks * wBlocks
  total: u32,                   // invocations: Cout * parts
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
// [Cout, parts, 9]: one block's 9 tap sums.
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;

const WG: u32 = 64u;
override ROWS: u32 = 8u;   // dy rows per invocation

// 10 consecutive x columns of one row: 0-3, 4-7, 8-9.
struct Row { a: vec4<f32>, b: vec4<f32>, c: vec2<f32> }

// u32 wrap-around makes a column left of the input a huge number, caught by the same test as ">= W".
fn load4(rowBase: u32, cols: vec4<u32>, rowInside: bool) -> vec4<f32> {
  let last = params.W - 1u;
  let v = vec4<f32>(x[rowBase + min(cols.x, last)], x[rowBase + min(cols.y, last)], x[rowBase + min(cols.z, last)], x[rowBase + min(cols.w, last)]);
  return select(vec4<f32>(0.0), v, (cols < vec4<u32>(params.W)) & vec4<bool>(rowInside));
}

fn loadRow(plane: u32, ih: u32, col0: u32) -> Row {
  let rowInside = ih < params.H;
  let rowBase = (plane * params.H + min(ih, params.H - 1u)) * params.W;
  let cols = vec4<u32>(col0) + vec4<u32>(0u, 1u, 2u, 3u);
  let last = params.W - 1u;
  let cols8 = vec2<u32>(col0 + 8u, col0 + 9u);
  let v8 = vec2<f32>(x[rowBase + min(cols8.x, last)], x[rowBase + min(cols8.y, last)]);
  let c = select(vec2<f32>(0.0), v8, (cols8 < vec2<u32>(params.W)) & vec2<bool>(rowInside));
  return Row(load4(rowBase, cols, rowInside), load4(rowBase, cols + 4u, rowInside), c);
}

// 8 dy columns from ow0 of one row (always inside the plane's rows); columns past outW read 0.
struct Dy8 { lo: vec4<f32>, hi: vec4<f32> }

fn loadDy(rowBase: u32, ow0: u32) -> Dy8 {
  let last = params.outW - 1u;
  let cols = vec4<u32>(ow0) + vec4<u32>(0u, 1u, 2u, 3u);
  let c2 = cols + 4u;
  let lo = vec4<f32>(dy[rowBase + min(cols.x, last)], dy[rowBase + min(cols.y, last)], dy[rowBase + min(cols.z, last)], dy[rowBase + min(cols.w, last)]);
  let hi = vec4<f32>(dy[rowBase + min(c2.x, last)], dy[rowBase + min(c2.y, last)], dy[rowBase + min(c2.z, last)], dy[rowBase + min(c2.w, last)]);
  return Dy8(select(vec4<f32>(0.0), lo, cols < vec4<u32>(params.outW)), select(vec4<f32>(0.0), hi, c2 < vec4<u32>(params.outW)));
}

// One kernel row's 3 taps: dy's 8 columns times x shifted by 0, 1, 2 columns.
struct Taps3 { t0: vec4<f32>, t1: vec4<f32>, t2: vec4<f32> }

fn rowTaps(acc: Taps3, d: Dy8, r: Row) -> Taps3 {
  let hiNext = vec4<f32>(r.c, 0.0, 0.0);
  return Taps3(
    acc.t0 + d.lo * r.a + d.hi * r.b,
    acc.t1 + d.lo * vec4<f32>(r.a.yzw, r.b.x) + d.hi * vec4<f32>(r.b.yzw, hiNext.x),
    acc.t2 + d.lo * vec4<f32>(r.a.zw, r.b.xy) + d.hi * vec4<f32>(r.b.zw, hiNext.xy));
}

fn hsum(v: vec4<f32>) -> f32 {
  return (v.x + v.y) + (v.z + v.w);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= params.total) { return; }
  // i = (co, n, hb, wb): a channel's parts are consecutive.
  let wb = i % params.wBlocks;
  var t = i / params.wBlocks;
  let hb = t % params.hBlocks;
  t = t / params.hBlocks;
  let n = t % params.N;
  let co = t / params.N;
  let plane = n * params.Cin + co / params.coutPerGroup;
  let dyPlane = (n * params.Cout + co) * params.outH;
  let oh0 = hb * ROWS;
  let ow0 = wb * 8u;
  let ih0 = oh0 - params.padTop;
  let col0 = ow0 - params.padLeft;
  var k0 = Taps3(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  var k1 = k0;
  var k2 = k0;
  // dy row q meets x rows q..q+2 of the window: one new x row per dy row.
  var r0 = loadRow(plane, ih0, col0);
  var r1 = loadRow(plane, ih0 + 1u, col0);
  let rows = min(ROWS, params.outH - oh0);
  for (var q = 0u; q < rows; q++) {
    let r2 = loadRow(plane, ih0 + q + 2u, col0);
    let d = loadDy((dyPlane + oh0 + q) * params.outW, ow0);
    k0 = rowTaps(k0, d, r0);
    k1 = rowTaps(k1, d, r1);
    k2 = rowTaps(k2, d, r2);
    r0 = r1;
    r1 = r2;
  }
  let at = i * 9u;
  partial[at] = hsum(k0.t0); partial[at + 1u] = hsum(k0.t1); partial[at + 2u] = hsum(k0.t2);
  partial[at + 3u] = hsum(k1.t0); partial[at + 4u] = hsum(k1.t1); partial[at + 5u] = hsum(k1.t2);
  partial[at + 6u] = hsum(k2.t0); partial[at + 7u] = hsum(k2.t1); partial[at + 8u] = hsum(k2.t2);
}

struct SumParams { parts: u32, count: u32 }   // count: Cout * 9
@group(0) @binding(4) var<uniform> sumParams: SumParams;
@group(0) @binding(5) var<storage, read> partSums: array<f32>;   // main's `partial`
@group(0) @binding(6) var<storage, read_write> dw: array<f32>;

// dw[co, tap] = sum over the channel's parts, in 4 interleaved running sums (shorter chains).
@compute @workgroup_size(WG)
fn sum_parts(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= sumParams.count) { return; }
  let co = i / 9u;
  let tap = i % 9u;
  let base = co * sumParams.parts * 9u + tap;
  var s = vec4<f32>(0.0);
  var p = 0u;
  for (; p + 4u <= sumParams.parts; p += 4u) {
    let at = base + p * 9u;
    s += vec4<f32>(partSums[at], partSums[at + 9u], partSums[at + 18u], partSums[at + 27u]);
  }
  for (; p < sumParams.parts; p++) { s.x += partSums[base + p * 9u]; }
  dw[i] = hsum(s);
}
