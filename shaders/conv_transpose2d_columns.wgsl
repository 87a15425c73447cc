// The gather of conv_transpose2d.wgsl (same tap rule, same stride phases, same packed weights)
// for layers with few output channels per group, such as the input gradient of a network's first
// conv (3 channels). There `main` fills a vec4 of 4 channels with 3 or fewer; here the vec4 lanes
// are 4 output columns instead, so every lane works whatever the channel count.
//
// Each invocation: LANE_CO output channels x 32 output columns of one row and stride phase, as
// LANE_CO x 8 vec4 accumulators. The valid kw taps of a phase read input columns `tapShift`
// apart; when that is ±1 (stride-1 convs, transposed convs whose dilation divides the stride) up
// to 3 taps share one window of 34 loaded columns, each tap reading it shifted by 0 to 2, so a
// load feeds up to 3·LANE_CO FMAs (SwiftShader: every load is a per-lane gather, the cost to beat;
// a window per tap ran 2.6x slower on L1's input gradient). Other layers take one tap per window.
// (4 taps per window: no faster on k3 and k11-stride-4 layers, 40% more code to compile.)

override LANE_CO: u32 = 4u;   // output channels per invocation: 1 to 4
const COLS: u32 = 32u;
const WG: u32 = 64u;

struct Params {
  inC: u32, inH: u32, inWp: u32, leftPad: u32,   // x: [N, inC, inH, inWp], input column c at c + leftPad
  outC: u32, outH: u32, outW: u32,
  inPerGroup: u32, outPerGroup: u32, coBlocksPerGroup: u32, groups: u32,
  kH: u32, kW: u32,
  outStrideH: u32, outStrideW: u32, inStrideH: u32, inStrideW: u32,
  padOffsetH: i32, padOffsetW: i32, tapStepH: i32, tapStepW: i32,
  kwStep: u32,        // kw distance between valid taps of one phase: inStrideW / gcd(inStrideW, dilationW)
  tapShift: i32,      // input-column distance between them: kwStep · tapStepW / inStrideW
  windowTaps: u32,    // taps per window: 3 when |tapShift| == 1 and outStrideW == 1, else 1
  rowsPerPhase: u32, colBlocksPerPhase: u32,
  hasBias: u32, invocations: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
// [groups][kH·kW][inPerGroup][coBlocksPerGroup] vec4s, lane l of block b = output channel b·LANE_CO + l.
@group(0) @binding(2) var<storage, read> wp: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

alias Row = array<vec4<f32>, 8>;
alias Window = array<vec4<f32>, 9>;   // 34 columns: the last vec4 holds 2

fn load4(at: u32, step: u32) -> vec4<f32> {
  return vec4<f32>(x[at], x[at + step], x[at + 2u * step], x[at + 3u * step]);
}

fn load_window(at: u32, step: u32) -> Window {
  let s4 = 4u * step;
  return Window(load4(at, step), load4(at + s4, step), load4(at + 2u * s4, step), load4(at + 3u * s4, step),
                load4(at + 4u * s4, step), load4(at + 5u * s4, step), load4(at + 6u * s4, step), load4(at + 7u * s4, step),
                vec4<f32>(x[at + 8u * s4], x[at + 8u * s4 + step], 0.0, 0.0));
}

// The window read from column 0, 1 or 2 on: 32 columns as 8 vec4.
fn unshifted(v: Window) -> Row {
  return Row(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
}
fn shift1(v: Window) -> Row {
  return Row(vec4(v[0].yzw, v[1].x), vec4(v[1].yzw, v[2].x), vec4(v[2].yzw, v[3].x), vec4(v[3].yzw, v[4].x),
             vec4(v[4].yzw, v[5].x), vec4(v[5].yzw, v[6].x), vec4(v[6].yzw, v[7].x), vec4(v[7].yzw, v[8].x));
}
fn shift2(v: Window) -> Row {
  return Row(vec4(v[0].zw, v[1].xy), vec4(v[1].zw, v[2].xy), vec4(v[2].zw, v[3].xy), vec4(v[3].zw, v[4].xy),
             vec4(v[4].zw, v[5].xy), vec4(v[5].zw, v[6].xy), vec4(v[6].zw, v[7].xy), vec4(v[7].zw, v[8].xy));
}

fn fma_row(a: ptr<function, Row>, w: f32, xs: Row) {
  (*a)[0] += xs[0] * w; (*a)[1] += xs[1] * w; (*a)[2] += xs[2] * w; (*a)[3] += xs[3] * w;
  (*a)[4] += xs[4] * w; (*a)[5] += xs[5] * w; (*a)[6] += xs[6] * w; (*a)[7] += xs[7] * w;
}

// One tap of one input channel: its 32 columns xs, its LANE_CO weights w.
fn tap(xs: Row, w: vec4<f32>, a0: ptr<function, Row>, a1: ptr<function, Row>, a2: ptr<function, Row>, a3: ptr<function, Row>) {
  fma_row(a0, w.x, xs);
  if (LANE_CO >= 2u) { fma_row(a1, w.y, xs); }
  if (LANE_CO >= 3u) { fma_row(a2, w.z, xs); }
  if (LANE_CO >= 4u) { fma_row(a3, w.w, xs); }
}

// Writes channel oc0 + c of the block: columns ow0 + j·colStep.
fn store_row(a: Row, c: u32, oc0: u32, g: u32, rowOut: u32, ow0: u32, colStep: u32) {
  let p = params;
  let oc = oc0 + c;
  if (oc >= p.outPerGroup) { return; }
  let channel = g * p.outPerGroup + oc;
  let b = select(0.0, bias[channel], p.hasBias != 0u);
  let at = rowOut + channel * p.outH * p.outW;
  for (var q = 0u; q < 8u; q++) {
    for (var j = 0u; j < 4u; j++) {
      let ow = ow0 + (4u * q + j) * colStep;
      if (ow < p.outW) { y[at + ow] = a[q][j] + b; }
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let p = params;
  let index = (wid.x + wid.y * nwg.x) * WG + lid;
  if (index >= p.invocations) { return; }

  // As conv_transpose2d.wgsl: column block fastest, then row within the phase, phase, channel block, image.
  var r = index;
  let colBlock = r % p.colBlocksPerPhase; r = r / p.colBlocksPerPhase;
  let rowInPhase = r % p.rowsPerPhase; r = r / p.rowsPerPhase;
  let phaseW = r % p.inStrideW; r = r / p.inStrideW;
  let phaseH = r % p.inStrideH; r = r / p.inStrideH;
  let blocksPerImage = p.groups * p.coBlocksPerGroup;
  let outBlock = r % blocksPerImage;
  let n = r / blocksPerImage;
  let oh = phaseH + p.inStrideH * rowInPhase;
  if (oh >= p.outH) { return; }
  let colStep = p.inStrideW;
  let ow0 = phaseW + colStep * colBlock * COLS;
  let g = outBlock / p.coBlocksPerGroup;
  let cb = outBlock % p.coBlocksPerGroup;

  // The phase's valid kw taps: kwFirst + j·kwStep for j < taps; tap j reads from column col0 + j·tapShift.
  let tw0 = i32(ow0 * p.outStrideW) + p.padOffsetW;
  var kwFirst = p.kW;
  for (var kw = min(p.kW, p.kwStep); kw > 0u; kw--) {
    if ((tw0 + i32(kw - 1u) * p.tapStepW) % i32(p.inStrideW) == 0) { kwFirst = kw - 1u; }
  }
  let taps = select(0u, (p.kW - kwFirst + p.kwStep - 1u) / p.kwStep, kwFirst < p.kW);
  // The left zero columns make this >= 0.
  let col0 = (tw0 + i32(kwFirst) * p.tapStepW) / i32(p.inStrideW) + i32(p.leftPad);
  let reversed = p.tapShift < 0;

  var a0: Row; var a1: Row; var a2: Row; var a3: Row;

  let plane = p.inH * p.inWp;
  let xImage = (n * p.inC + g * p.inPerGroup) * plane;
  let quads = p.coBlocksPerGroup;
  let tapStride = p.inPerGroup * quads;
  let wGroup = g * p.kH * p.kW * tapStride + cb;
  let step = p.outStrideW;
  for (var kh = 0u; kh < p.kH; kh++) {
    let th = i32(oh * p.outStrideH) + p.padOffsetH + i32(kh) * p.tapStepH;
    if (th < 0 || th % i32(p.inStrideH) != 0) { continue; }
    let ih = u32(th) / p.inStrideH;
    if (ih >= p.inH) { continue; }
    for (var j0 = 0u; j0 < taps; j0 += p.windowTaps) {
      let m = min(p.windowTaps, taps - j0);
      // Window offset t serves tap j0 + t, or j0 + m-1 - t when the columns run backwards, so the
      // window starts at the leftmost column of the m taps.
      let jLeft = select(j0, j0 + m - 1u, reversed);
      var xo = xImage + ih * p.inWp + u32(col0 + i32(jLeft) * p.tapShift);
      let kwRow = kh * p.kW + kwFirst;
      let tapSign = select(1, -1, reversed);
      var w0 = wGroup + (kwRow + u32(i32(jLeft)) * p.kwStep) * tapStride;
      var w1 = wGroup + (kwRow + u32(i32(jLeft) + tapSign * 1) * p.kwStep) * tapStride;
      var w2 = wGroup + (kwRow + u32(i32(jLeft) + tapSign * 2) * p.kwStep) * tapStride;
      // One straight-line loop per tap count: a runtime test around the taps inside the loop
      // would make SwiftShader blend every accumulator on each trip (measured 1.5x slower).
      if (m == 1u) {
        for (var ic = 0u; ic < p.inPerGroup; ic++) {
          let v = load_window(xo, step);
          tap(unshifted(v), wp[w0], &a0, &a1, &a2, &a3);
          xo += plane; w0 += quads;
        }
      } else if (m == 2u) {
        for (var ic = 0u; ic < p.inPerGroup; ic++) {
          let v = load_window(xo, step);
          tap(unshifted(v), wp[w0], &a0, &a1, &a2, &a3);
          tap(shift1(v), wp[w1], &a0, &a1, &a2, &a3);
          xo += plane; w0 += quads; w1 += quads;
        }
      } else {
        for (var ic = 0u; ic < p.inPerGroup; ic++) {
          let v = load_window(xo, step);
          tap(unshifted(v), wp[w0], &a0, &a1, &a2, &a3);
          tap(shift1(v), wp[w1], &a0, &a1, &a2, &a3);
          tap(shift2(v), wp[w2], &a0, &a1, &a2, &a3);
          xo += plane; w0 += quads; w1 += quads; w2 += quads;
        }
      }
    }
  }

  let rowOut = n * p.outC * p.outH * p.outW + oh * p.outW;
  let oc0 = cb * LANE_CO;
  store_row(a0, 0u, oc0, g, rowOut, ow0, colStep);
  if (LANE_CO >= 2u) { store_row(a1, 1u, oc0, g, rowOut, ow0, colStep); }
  if (LANE_CO >= 3u) { store_row(a2, 2u, oc0, g, rowOut, ow0, colStep); }
  if (LANE_CO >= 4u) { store_row(a3, 3u, oc0, g, rowOut, ow0, colStep); }
}
