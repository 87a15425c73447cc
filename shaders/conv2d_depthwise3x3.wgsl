// Depthwise 3x3 convolution, stride s = 1 (main) or 2 (main_s2), dilation 1 (MobileNet's layers),
// any padding, channel multiplier >= 1: output channel co reads input channel co / coutPerGroup.
//   y[n,co,oh,ow] = b[co] + sum_{kh,kw < 3} x[n, co / mult, s*oh + kh - padTop, s*ow + kw - padLeft] * w[co, 0, kh, kw]
// Each invocation owns 8 output rows x 8 output columns of one channel and slides a window of 3
// input rows (10 columns for stride 1, 17 for stride 2) down them, loading each input row once,
// so a loaded row feeds up to 3 (stride 1) or 2 (stride 2) output rows. Taps and columns are
// unrolled by hand and the weights sit in registers: on SwiftShader, loops with data-dependent
// branches or indexed arrays cost 3-4x the arithmetic (measured); this one loop, with a plain
// body, ran as fast as full unrolling and compiles 3-6x faster. Reads outside the input are
// clamped to a valid address and zeroed with select, so no padded copy of x is needed.
struct Params {
  H: u32, W: u32, outH: u32, outW: u32,
  padTop: u32, padLeft: u32,
  Cin: u32, Cout: u32, coutPerGroup: u32,
  wBlocks: u32, hBlocks: u32,   // ceil(outW / 8), ceil(outH / ROWS)
  total: u32,                   // invocations: N * Cout * hBlocks * wBlocks
  hasBias: u32, relu: u32,
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

const WG: u32 = 64u;
const ROWS: u32 = 8u;   // output rows per invocation

// 10 consecutive input columns of one row: 0-3, 4-7, 8-9.
struct Row { a: vec4<f32>, b: vec4<f32>, c: vec2<f32> }

// u32 wrap-around makes a column left of the input a huge number, caught by the same test as ">= W".
fn load4(rowBase: u32, cols: vec4<u32>, rowInside: bool) -> vec4<f32> {
  let last = params.W - 1u;
  let v = vec4<f32>(x[rowBase + min(cols.x, last)], x[rowBase + min(cols.y, last)], x[rowBase + min(cols.z, last)], x[rowBase + min(cols.w, last)]);
  return select(vec4<f32>(0.0), v, (cols < vec4<u32>(params.W)) & vec4<bool>(rowInside));
}

fn rowStart(plane: u32, ih: u32) -> u32 {
  return (plane * params.H + min(ih, params.H - 1u)) * params.W;
}

fn loadRow(plane: u32, ih: u32, col0: u32) -> Row {
  let rowInside = ih < params.H;
  let rowBase = rowStart(plane, ih);
  let cols = vec4<u32>(col0) + vec4<u32>(0u, 1u, 2u, 3u);
  let last = params.W - 1u;
  let cols8 = vec2<u32>(col0 + 8u, col0 + 9u);
  let v8 = vec2<f32>(x[rowBase + min(cols8.x, last)], x[rowBase + min(cols8.y, last)]);
  let c = select(vec2<f32>(0.0), v8, (cols8 < vec2<u32>(params.W)) & vec2<bool>(rowInside));
  return Row(load4(rowBase, cols, rowInside), load4(rowBase, cols + 4u, rowInside), c);
}

// One kernel row's 3 taps over 4 output columns whose inputs start at a (b holds the next 4).
fn taps4(k: vec3<f32>, a: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
  return k.x * a + k.y * vec4<f32>(a.yzw, b.x) + k.z * vec4<f32>(a.zw, b.xy);
}

// Output row from three consecutive input rows and the 3 kernel rows: columns 0-3, 4-7.
struct Out8 { lo: vec4<f32>, hi: vec4<f32> }

fn outRow(k0: vec3<f32>, k1: vec3<f32>, k2: vec3<f32>, r0: Row, r1: Row, r2: Row, b: f32) -> Out8 {
  let lo = taps4(k0, r0.a, r0.b) + taps4(k1, r1.a, r1.b) + taps4(k2, r2.a, r2.b) + b;
  let hi = taps4(k0, r0.b, vec4<f32>(r0.c, 0.0, 0.0)) + taps4(k1, r1.b, vec4<f32>(r1.c, 0.0, 0.0)) + taps4(k2, r2.b, vec4<f32>(r2.c, 0.0, 0.0)) + b;
  return Out8(lo, hi);
}

// 17 consecutive input columns of one row split by parity: even 0-6, 8-14, 16; odd 1-7, 9-15.
struct RowS2 { e0: vec4<f32>, e1: vec4<f32>, e2: f32, o0: vec4<f32>, o1: vec4<f32> }

fn loadRowS2(plane: u32, ih: u32, col0: u32) -> RowS2 {
  let rowInside = ih < params.H;
  let base = rowStart(plane, ih);
  let even = vec4<u32>(col0) + vec4<u32>(0u, 2u, 4u, 6u);
  let c16 = col0 + 16u;
  let v16 = select(0.0, x[base + min(c16, params.W - 1u)], c16 < params.W && rowInside);
  return RowS2(load4(base, even, rowInside), load4(base, even + 8u, rowInside), v16,
               load4(base, even + 1u, rowInside), load4(base, even + 9u, rowInside));
}

fn outRowS2(k0: vec3<f32>, k1: vec3<f32>, k2: vec3<f32>, r0: RowS2, r1: RowS2, r2: RowS2, b: f32) -> Out8 {
  // Output column j reads even[j], odd[j], even[j + 1].
  let lo = k0.x * r0.e0 + k0.y * r0.o0 + k0.z * vec4<f32>(r0.e0.yzw, r0.e1.x)
         + k1.x * r1.e0 + k1.y * r1.o0 + k1.z * vec4<f32>(r1.e0.yzw, r1.e1.x)
         + k2.x * r2.e0 + k2.y * r2.o0 + k2.z * vec4<f32>(r2.e0.yzw, r2.e1.x) + b;
  let hi = k0.x * r0.e1 + k0.y * r0.o1 + k0.z * vec4<f32>(r0.e1.yzw, r0.e2)
         + k1.x * r1.e1 + k1.y * r1.o1 + k1.z * vec4<f32>(r1.e1.yzw, r1.e2)
         + k2.x * r2.e1 + k2.y * r2.o1 + k2.z * vec4<f32>(r2.e1.yzw, r2.e2) + b;
  return Out8(lo, hi);
}

fn relu4(v: vec4<f32>) -> vec4<f32> {
  // select, not max: a NaN passes through ReLU as in the reference (max(NaN, 0) is undefined).
  return select(v, vec4<f32>(0.0), v < vec4<f32>(0.0));
}

// yRow: the output row's index among all rows (n, co, oh).
fn store(yRow: u32, ow0: u32, o: Out8) {
  var lo = o.lo;
  var hi = o.hi;
  if (params.relu != 0u) { lo = relu4(lo); hi = relu4(hi); }
  let at = yRow * params.outW + ow0;
  if (ow0 + 8u <= params.outW) {
    y[at] = lo.x; y[at + 1u] = lo.y; y[at + 2u] = lo.z; y[at + 3u] = lo.w;
    y[at + 4u] = hi.x; y[at + 5u] = hi.y; y[at + 6u] = hi.z; y[at + 7u] = hi.w;
  } else {
    // The row's last block: only its columns inside the output.
    for (var j = 0u; j < 8u; j++) {
      if (ow0 + j >= params.outW) { break; }
      y[at + j] = select(hi[j - 4u], lo[j], j < 4u);
    }
  }
}

// One invocation's block: its output channel's input plane and weights, and where it starts.
struct Block {
  plane: u32, yPlane: u32, oh0: u32, ow0: u32,   // yPlane: the index of the plane's first output row
  k0: vec3<f32>, k1: vec3<f32>, k2: vec3<f32>, b: f32,
}

fn blockAt(i: u32) -> Block {
  let wb = i % params.wBlocks;
  var t = i / params.wBlocks;
  let hb = t % params.hBlocks;
  t = t / params.hBlocks;
  let co = t % params.Cout;
  let n = t / params.Cout;
  let wo = co * 9u;
  var b = 0.0;
  if (params.hasBias != 0u) { b = bias[co]; }
  return Block(
    n * params.Cin + co / params.coutPerGroup, (n * params.Cout + co) * params.outH, hb * ROWS, wb * 8u,
    vec3<f32>(weight[wo], weight[wo + 1u], weight[wo + 2u]),
    vec3<f32>(weight[wo + 3u], weight[wo + 4u], weight[wo + 5u]),
    vec3<f32>(weight[wo + 6u], weight[wo + 7u], weight[wo + 8u]), b);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= params.total) { return; }
  let k = blockAt(i);
  let ih0 = k.oh0 - params.padTop;
  let col0 = k.ow0 - params.padLeft;
  // A window of 3 input rows slides down: one new row per output row.
  var r0 = loadRow(k.plane, ih0, col0);
  var r1 = loadRow(k.plane, ih0 + 1u, col0);
  let rows = min(ROWS, params.outH - k.oh0);
  for (var q = 0u; q < rows; q++) {
    let r2 = loadRow(k.plane, ih0 + q + 2u, col0);
    store(k.yPlane + k.oh0 + q, k.ow0, outRow(k.k0, k.k1, k.k2, r0, r1, r2, k.b));
    r0 = r1;
    r1 = r2;
  }
}

@compute @workgroup_size(WG)
fn main_s2(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= params.total) { return; }
  let k = blockAt(i);
  let ih0 = 2u * k.oh0 - params.padTop;
  let col0 = 2u * k.ow0 - params.padLeft;
  // Output row q reads input rows 2q..2q+2: two new rows per output row, the third carried over.
  var r0 = loadRowS2(k.plane, ih0, col0);
  let rows = min(ROWS, params.outH - k.oh0);
  for (var q = 0u; q < rows; q++) {
    let r1 = loadRowS2(k.plane, ih0 + 2u * q + 1u, col0);
    let r2 = loadRowS2(k.plane, ih0 + 2u * q + 2u, col0);
    store(k.yPlane + k.oh0 + q, k.ow0, outRowS2(k.k0, k.k1, k.k2, r0, r1, r2, k.b));
    r0 = r2;
  }
}
