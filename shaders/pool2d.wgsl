// 2-D pooling forward, one output element per invocation: max, average or Lp over a
// (dilated) kernel window. Out = floor((in + padB + padE - d*(k-1) - 1) / s) + 1 (geometry.ts).
override MODE: u32 = 0u;  // 0 max, 1 avg, 2 lp
override WG: u32 = 64u;

struct Params {
  outputs: u32, inH: i32, inW: i32, outH: u32, outW: u32,
  kH: i32, kW: i32, strideH: i32, strideW: i32, dilationH: i32, dilationW: i32,
  padTop: i32, padLeft: i32, padBottom: i32, padRight: i32,
  countIncludePad: u32, divisorOverride: f32, p: f32,
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> indices: array<i32>;

/** One window: its first input element, the taps [k0, k1) that land inside the input, per axis. */
struct Window { plane: u32, h0: i32, w0: i32, kh0: i32, kh1: i32, kw0: i32, kw1: i32 }

/** First tap index k with start + k*d >= 0. */
fn firstTap(start: i32, dilation: i32) -> i32 {
  if (start >= 0) { return 0; }
  return (-start + dilation - 1) / dilation;
}

/** One past the last tap k < kernel with start + k*d <= size - 1. */
fn endTap(start: i32, dilation: i32, kernel: i32, size: i32) -> i32 {
  let room = size - 1 - start;
  if (room < 0) { return 0; }
  return min(kernel, room / dilation + 1);
}

fn window(o: u32) -> Window {
  let ow = o % params.outW;
  let rest = o / params.outW;
  let oh = rest % params.outH;
  var win: Window;
  win.plane = rest / params.outH;
  win.h0 = i32(oh) * params.strideH - params.padTop;
  win.w0 = i32(ow) * params.strideW - params.padLeft;
  win.kh0 = firstTap(win.h0, params.dilationH);
  win.kh1 = endTap(win.h0, params.dilationH, params.kH, params.inH);
  win.kw0 = firstTap(win.w0, params.dilationW);
  win.kw1 = endTap(win.w0, params.dilationW, params.kW, params.inW);
  return win;
}

struct Best { value: f32, at: i32 }

/** Max over the window's input elements: the first maximum in row-major order; NaN wins (PyTorch). */
fn windowMax(win: Window) -> Best {
  let base = win.plane * u32(params.inH * params.inW);
  var best = 0.0;  // replaced by the first input element (bestAt < 0)
  var bestAt = -1;
  for (var kh = win.kh0; kh < win.kh1; kh++) {
    let ih = win.h0 + kh * params.dilationH;
    let row = base + u32(ih * params.inW);
    for (var kw = win.kw0; kw < win.kw1; kw++) {
      let iw = win.w0 + kw * params.dilationW;
      let v = x[row + u32(iw)];
      if (bestAt < 0 || v > best || (v != v && best == best)) {
        best = v;
        bestAt = ih * params.inW + iw;
      }
    }
  }
  return Best(best, bestAt);
}

/** PyTorch's divisor: the override; or the window clipped to the padded input; or its input part. */
fn avgDivisor(win: Window) -> f32 {
  if (params.divisorOverride > 0.0) { return params.divisorOverride; }
  if (params.countIncludePad != 0u) {
    let rows = min(win.h0 + params.kH, params.inH + params.padBottom) - win.h0;
    let cols = min(win.w0 + params.kW, params.inW + params.padRight) - win.w0;
    return f32(rows * cols);
  }
  return f32((win.kh1 - win.kh0) * (win.kw1 - win.kw0));
}

fn windowSum(win: Window) -> f32 {
  let base = win.plane * u32(params.inH * params.inW);
  var sum = 0.0;
  for (var kh = win.kh0; kh < win.kh1; kh++) {
    let row = base + u32((win.h0 + kh) * params.inW + win.w0);
    for (var kw = win.kw0; kw < win.kw1; kw++) { sum += x[row + u32(kw)]; }
  }
  return sum;
}

/** |a|^p for the three cases: p = 1 and p = 2 exactly, else pow (0 stays 0). */
fn powAbs(a: f32, p: f32) -> f32 {
  if (p == 2.0) { return a * a; }
  if (p == 1.0) { return abs(a); }
  return select(pow(abs(a), p), 0.0, a == 0.0);
}

/** s^(1/p) for the same cases. */
fn rootP(s: f32, p: f32) -> f32 {
  if (p == 2.0) { return sqrt(s); }
  if (p == 1.0) { return s; }
  return pow(s, 1.0 / p);
}

/**
 * (Σ|x|^p)^(1/p) over the window's input elements. Summed directly while the sum stays well
 * inside float32's range; otherwise (large p or huge/tiny values) rescaled by the window's
 * max |x|: y = m · (Σ(|x|/m)^p)^(1/p), so nothing overflows or flushes to zero.
 */
fn windowLp(win: Window) -> f32 {
  let p = params.p;
  let base = win.plane * u32(params.inH * params.inW);
  var sum = 0.0;
  for (var kh = win.kh0; kh < win.kh1; kh++) {
    let row = base + u32((win.h0 + kh) * params.inW + win.w0);
    for (var kw = win.kw0; kw < win.kw1; kw++) { sum += powAbs(x[row + u32(kw)], p); }
  }
  if (sum >= 1e-30 && sum <= 1e30) { return rootP(sum, p); }
  if (sum != sum) { return sum; }  // a NaN input propagates
  var m = 0.0;
  for (var kh = win.kh0; kh < win.kh1; kh++) {
    let row = base + u32((win.h0 + kh) * params.inW + win.w0);
    for (var kw = win.kw0; kw < win.kw1; kw++) { m = max(m, abs(x[row + u32(kw)])); }
  }
  if (m == 0.0 || m > 3.4e38) { return m; }  // all zeros, or an infinite element
  let inv = 1.0 / m;
  var scaled = 0.0;
  for (var kh = win.kh0; kh < win.kh1; kh++) {
    let row = base + u32((win.h0 + kh) * params.inW + win.w0);
    for (var kw = win.kw0; kw < win.kw1; kw++) { scaled += powAbs(x[row + u32(kw)] * inv, p); }
  }
  return m * rootP(scaled, p);
}

fn outputIndex(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let o = outputIndex(wid, nwg, lid);
  if (o >= params.outputs) { return; }
  let win = window(o);
  if (MODE == 0u) {
    y[o] = windowMax(win).value;
  } else if (MODE == 1u) {
    y[o] = windowSum(win) / avgDivisor(win);
  } else {
    y[o] = windowLp(win);
  }
}

@compute @workgroup_size(WG)
fn max_with_indices(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let o = outputIndex(wid, nwg, lid);
  if (o >= params.outputs) { return; }
  let best = windowMax(window(o));
  y[o] = best.value;
  indices[o] = best.at;
}
