// Depthwise 3x3 convolution, stride 1, dilation 1 (the common MobileNet-style layer), any padding,
// channel multiplier >= 1: output channel co reads input channel co / coutPerGroup.
//   y[n,co,oh,ow] = b[co] + sum_{kh,kw < 3} x[n, co / mult, oh + kh - padTop, ow + kw - padLeft] * w[co, 0, kh, kw]
// Each invocation owns 4 output rows x 8 output columns of one channel; it loads the 6 input rows
// x 10 columns they need once, so each loaded row feeds up to 3 output rows. The code is straight
// line on purpose: on SwiftShader every loop and data-dependent branch costs lane-mask bookkeeping
// that outweighed the arithmetic 3-4x (measured), so taps are unrolled by hand. Reads outside the
// input are clamped to a valid address and zeroed with select, so no padded copy of x is needed.
struct Params {
  H: u32, W: u32, outH: u32, outW: u32,
  padTop: u32, padLeft: u32,
  Cin: u32, Cout: u32, coutPerGroup: u32,
  wBlocks: u32, hBlocks: u32,   // ceil(outW / 8), ceil(outH / 4)
  total: u32,                   // invocations: N * Cout * hBlocks * wBlocks
  hasBias: u32, relu: u32,
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

const WG: u32 = 64u;

// 10 consecutive input columns of one row: 0-3, 4-7, 8-9.
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

fn relu4(v: vec4<f32>) -> vec4<f32> {
  // select, not max: a NaN passes through ReLU as in the reference (max(NaN, 0) is undefined).
  return select(v, vec4<f32>(0.0), v < vec4<f32>(0.0));
}

fn store(yPlane: u32, oh: u32, ow0: u32, o: Out8) {
  if (oh >= params.outH) { return; }
  var lo = o.lo;
  var hi = o.hi;
  if (params.relu != 0u) { lo = relu4(lo); hi = relu4(hi); }
  let at = (yPlane + oh) * params.outW + ow0;
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

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= params.total) { return; }
  let wb = i % params.wBlocks;
  var t = i / params.wBlocks;
  let hb = t % params.hBlocks;
  t = t / params.hBlocks;
  let co = t % params.Cout;
  let n = t / params.Cout;
  let plane = n * params.Cin + co / params.coutPerGroup;
  let oh0 = hb * 4u;
  let ow0 = wb * 8u;

  let wo = co * 9u;
  let k0 = vec3<f32>(weight[wo], weight[wo + 1u], weight[wo + 2u]);
  let k1 = vec3<f32>(weight[wo + 3u], weight[wo + 4u], weight[wo + 5u]);
  let k2 = vec3<f32>(weight[wo + 6u], weight[wo + 7u], weight[wo + 8u]);
  var b = 0.0;
  if (params.hasBias != 0u) { b = bias[co]; }

  let ih0 = oh0 - params.padTop;
  let col0 = ow0 - params.padLeft;
  let r0 = loadRow(plane, ih0, col0);
  let r1 = loadRow(plane, ih0 + 1u, col0);
  let r2 = loadRow(plane, ih0 + 2u, col0);
  let r3 = loadRow(plane, ih0 + 3u, col0);
  let r4 = loadRow(plane, ih0 + 4u, col0);
  let r5 = loadRow(plane, ih0 + 5u, col0);

  let yPlane = (n * params.Cout + co) * params.outH;
  store(yPlane, oh0, ow0, outRow(k0, k1, k2, r0, r1, r2, b));
  store(yPlane, oh0 + 1u, ow0, outRow(k0, k1, k2, r1, r2, r3, b));
  store(yPlane, oh0 + 2u, ow0, outRow(k0, k1, k2, r2, r3, r4, b));
  store(yPlane, oh0 + 3u, ow0, outRow(k0, k1, k2, r3, r4, r5, b));
}
