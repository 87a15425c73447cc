// 2-D pooling gradients as gathers over input positions: each invocation owns one dx element
// and adds up the dy of every output window that can hold it, so overlapping windows
// (stride < kernel) accumulate with no atomics and no lost updates, in a fixed order.
override WG: u32 = 64u;

struct Params {
  inputs: u32, inH: i32, inW: i32, outH: i32, outW: i32,
  kH: i32, kW: i32, strideH: i32, strideW: i32,
  padTop: i32, padLeft: i32, padBottom: i32, padRight: i32,
  countIncludePad: u32, divisorOverride: f32, p: f32, planes: u32,
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> y: array<f32>;
@group(0) @binding(4) var<storage, read> indices: array<i32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;
// Max-pool routing tables (see max_bounds): per output row/col the input rows/cols its
// indices hit, then per input row/col the output rows/cols that may point at it.
@group(0) @binding(6) var<storage, read_write> bounds: array<i32>;
@group(0) @binding(7) var<storage, read> boundsIn: array<i32>;
@group(0) @binding(8) var<storage, read_write> ranges: array<i32>;
@group(0) @binding(9) var<storage, read> rangesIn: array<i32>;

fn linearIndex(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid;
}

/** One input element: its plane, row, column. */
struct Pixel { plane: u32, ih: i32, iw: i32 }

fn pixel(i: u32) -> Pixel {
  let w = u32(params.inW);
  let rest = i / w;
  return Pixel(rest / u32(params.inH), i32(rest % u32(params.inH)), i32(i % w));
}

/** The outputs o along one axis whose window [o*s - pad, o*s - pad + k) holds input position i. */
fn windowsHolding(i: i32, kernel: i32, stride: i32, padBegin: i32, outSize: i32) -> vec2<i32> {
  let reach = i + padBegin - kernel + 1;  // o*s >= reach
  let first = select(0, (reach + stride - 1) / stride, reach > 0);
  let last = min(outSize - 1, (i + padBegin) / stride);
  return vec2<i32>(first, last);
}

/** Per-axis factor of PyTorch's average divisor for the window starting at `start`. */
fn divisorFactor(start: i32, kernel: i32, size: i32, padEnd: i32) -> i32 {
  if (params.countIncludePad != 0u) { return min(start + kernel, size + padEnd) - start; }
  return min(start + kernel, size) - max(start, 0);
}

@compute @workgroup_size(WG)
fn avg_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let i = linearIndex(wid, nwg, lid);
  if (i >= params.inputs) { return; }
  let px = pixel(i);
  let rows = windowsHolding(px.ih, params.kH, params.strideH, params.padTop, params.outH);
  let cols = windowsHolding(px.iw, params.kW, params.strideW, params.padLeft, params.outW);
  let base = px.plane * u32(params.outH * params.outW);
  var sum = 0.0;
  for (var oh = rows.x; oh <= rows.y; oh++) {
    let rowFactor = divisorFactor(oh * params.strideH - params.padTop, params.kH, params.inH, params.padBottom);
    let row = base + u32(oh * params.outW);
    for (var ow = cols.x; ow <= cols.y; ow++) {
      var divisor = params.divisorOverride;
      if (divisor == 0.0) {
        divisor = f32(rowFactor * divisorFactor(ow * params.strideW - params.padLeft, params.kW, params.inW, params.padRight));
      }
      sum += dy[row + u32(ow)] / divisor;
    }
  }
  dx[i] = sum;
}

/** ∂y/∂x of y = (Σ|x|^p)^(1/p): sign(x)·(|x|/y)^(p-1); 0 where x or y is 0 (an all-zero window). */
fn lpPartial(xv: f32, yv: f32, p: f32) -> f32 {
  if (xv == 0.0 || yv == 0.0) { return 0.0; }
  if (p == 2.0) { return xv / yv; }
  if (p == 1.0) { return sign(xv); }
  return sign(xv) * pow(abs(xv) / yv, p - 1.0);
}

@compute @workgroup_size(WG)
fn lp_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let i = linearIndex(wid, nwg, lid);
  if (i >= params.inputs) { return; }
  let px = pixel(i);
  let rows = windowsHolding(px.ih, params.kH, params.strideH, params.padTop, params.outH);
  let cols = windowsHolding(px.iw, params.kW, params.strideW, params.padLeft, params.outW);
  let base = px.plane * u32(params.outH * params.outW);
  let xv = x[i];
  var sum = 0.0;
  for (var oh = rows.x; oh <= rows.y; oh++) {
    let row = base + u32(oh * params.outW);
    for (var ow = cols.x; ow <= cols.y; ow++) {
      let o = row + u32(ow);
      sum += dy[o] * lpPartial(xv, y[o], params.p);
    }
  }
  dx[i] = sum;
}

// ---- max pool: the gradient router, without the forward's geometry ------------------------
// maxPool2dGrad gets only (dy, indices, inputShape), so the windows are read off the indices:
// 1. max_bounds: per output row (col), the lowest and highest input row (col) its indices hit;
// 2. max_ranges: per input row (col), the first and last output row (col) whose bounds hold it;
// 3. max_grad: each input pixel scans those outputs and adds dy where the index is its own.
// For a real pool the scan is the windows overlapping the pixel; any index tensor stays correct.

const NO_HIT: i32 = 0x7fffffff;
var<workgroup> lowest: array<i32, WG>;
var<workgroup> highest: array<i32, WG>;

/** One workgroup per output row (then per output column): min/max hit row (col) over all planes. */
@compute @workgroup_size(WG)
fn max_bounds(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let group = i32(wid.x + wid.y * nwg.x);
  let isRow = group < params.outH;
  let line = select(group - params.outH, group, isRow);  // output row or column
  let planeSize = params.inH * params.inW;
  let across = u32(select(params.outH, params.outW, isRow));  // elements of the line per plane
  let count = select(0u, params.planes * across, group < params.outH + params.outW);  // folded-grid tail
  var lo = NO_HIT;
  var hi = -1;
  for (var t = lid; t < count; t += WG) {
    let plane = t / across;
    let along = i32(t % across);
    let oh = select(along, line, isRow);
    let ow = select(line, along, isRow);
    let at = indices[(plane * u32(params.outH) + u32(oh)) * u32(params.outW) + u32(ow)];
    if (at >= 0 && at < planeSize) {
      let coord = select(at % params.inW, at / params.inW, isRow);
      lo = min(lo, coord);
      hi = max(hi, coord);
    }
  }
  lowest[lid] = lo;
  highest[lid] = hi;
  for (var half = WG / 2u; half > 0u; half /= 2u) {
    workgroupBarrier();
    if (lid < half) {
      lowest[lid] = min(lowest[lid], lowest[lid + half]);
      highest[lid] = max(highest[lid], highest[lid + half]);
    }
  }
  // Layout: [row lo (outH), row hi (outH), col lo (outW), col hi (outW)].
  if (lid == 0u && group < params.outH + params.outW) {
    let at = select(2 * params.outH + line, line, isRow);
    let stride = select(params.outW, params.outH, isRow);
    bounds[at] = lowest[0];
    bounds[at + stride] = highest[0];
  }
}

/** One invocation per input row, then per input column: the output lines whose bounds hold it. */
@compute @workgroup_size(WG)
fn max_ranges(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let t = i32(linearIndex(wid, nwg, lid));
  if (t >= params.inH + params.inW) { return; }
  let isRow = t < params.inH;
  let coord = select(t - params.inH, t, isRow);
  let lines = select(params.outW, params.outH, isRow);
  let loAt = select(2 * params.outH, 0, isRow);
  var first = NO_HIT;
  var last = -1;
  for (var o = 0; o < lines; o++) {
    if (boundsIn[loAt + o] <= coord && coord <= boundsIn[loAt + lines + o]) {
      first = min(first, o);
      last = max(last, o);
    }
  }
  // Layout: [row first (inH), row last (inH), col first (inW), col last (inW)].
  let at = select(2 * params.inH + coord, coord, isRow);
  let stride = select(params.inW, params.inH, isRow);
  ranges[at] = first;
  ranges[at + stride] = last;
}

@compute @workgroup_size(WG)
fn max_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let i = linearIndex(wid, nwg, lid);
  if (i >= params.inputs) { return; }
  let px = pixel(i);
  let own = px.ih * params.inW + px.iw;
  let rowFirst = rangesIn[px.ih];
  let rowLast = rangesIn[params.inH + px.ih];
  let colFirst = rangesIn[2 * params.inH + px.iw];
  let colLast = rangesIn[2 * params.inH + params.inW + px.iw];
  let base = px.plane * u32(params.outH * params.outW);
  var sum = 0.0;
  for (var oh = rowFirst; oh <= rowLast; oh++) {
    let row = base + u32(oh * params.outW);
    for (var ow = colFirst; ow <= colLast; ow++) {
      let o = row + u32(ow);
      if (indices[o] == own) { sum += dy[o]; }
    }
  }
  dx[i] = sum;
}
