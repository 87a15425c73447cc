// Transposed convolution as a GATHER over output pixels (no atomics, no racy scatter), and the
// same loop with the roles of the strides swapped: a plain strided convolution. One kernel so
// serves convTranspose2d, conv2dGradInput (a transposed conv of dy with the conv weights) and
// convTranspose2dGradInput (a conv of dy with the transposed-conv weights read as OIHW).
//
// Tap rule, per axis: t = out * outStride + padOffset + k * tapStep; the tap reads input
// position t / inStride when t is a multiple of inStride and inside the input, else nothing.
//   transposed conv: outStride 1, inStride s, padOffset +pad, tapStep -d  (in = (out + p - k*d) / s)
//   plain conv:      outStride s, inStride 1, padOffset -pad, tapStep +d  (in = out*s - p + k*d)
// Output pixels of one stride phase (out mod inStride) share their set of valid taps, so each
// invocation takes one output row and COLS columns of one phase: consecutive input columns
// (outStride apart) for every tap, with no divisibility test per column. Rows and columns no
// tap reaches (floor-mode leftovers of a conv's input) get exactly 0 (or the bias).
//
// Register blocking (SwiftShader speed facts): CO_BLOCK output channels x COLS columns in
// vec4 accumulators, no workgroup memory, `acc += x * w`.

override CO_BLOCK: u32 = 8u;   // output channels per invocation: 1, 2, 4 or 8
const COLS: u32 = 8u;          // output columns per invocation (two vec4 accumulators)
const WG: u32 = 64u;

struct Params {
  inC: u32, inH: u32, inW: u32,
  outC: u32, outH: u32, outW: u32,
  inPerGroup: u32, outPerGroup: u32, coBlocksPerGroup: u32, groups: u32,
  kH: u32, kW: u32,
  outStrideH: u32, outStrideW: u32, inStrideH: u32, inStrideW: u32,
  padOffsetH: i32, padOffsetW: i32, tapStepH: i32, tapStepW: i32,
  // weight element (group g, out channel o', in channel i', tap k) at
  // g * inPerGroup * outPerGroup * kH * kW + o' * wStrideOut + i' * wStrideIn + k
  wStrideOut: u32, wStrideIn: u32,
  rowsPerPhase: u32, colBlocksPerPhase: u32,
  hasBias: u32, invocations: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let p = params;
  let index = (wid.x + wid.y * nwg.x) * WG + lid;
  if (index >= p.invocations) { return; }

  // Decompose: column block fastest, then row within the phase, so neighbouring invocations
  // share a phase (same valid taps) and read neighbouring input.
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
  let ow0 = phaseW + p.inStrideW * colBlock * COLS;
  let colStep = p.inStrideW;
  let g = outBlock / p.coBlocksPerGroup;
  let oc0 = (outBlock % p.coBlocksPerGroup) * CO_BLOCK;

  var accLo: array<vec4<f32>, 8>;
  var accHi: array<vec4<f32>, 8>;
  for (var c = 0u; c < CO_BLOCK; c++) { accLo[c] = vec4<f32>(0.0); accHi[c] = vec4<f32>(0.0); }

  // Weight offsets of the block's output channels; a channel past the group reads the last one
  // (its result is never written), so no branch in the inner loop.
  var wOut: array<u32, 8>;
  let kArea = p.kH * p.kW;
  let wGroup = g * p.inPerGroup * p.outPerGroup * kArea;
  for (var c = 0u; c < CO_BLOCK; c++) {
    wOut[c] = wGroup + min(oc0 + c, p.outPerGroup - 1u) * p.wStrideOut;
  }
  let xGroup = (n * p.inC + g * p.inPerGroup) * p.inH;
  let inW = i32(p.inW);
  let step = i32(p.outStrideW);

  for (var kh = 0u; kh < p.kH; kh++) {
    let th = i32(oh * p.outStrideH) + p.padOffsetH + i32(kh) * p.tapStepH;
    if (th < 0 || th % i32(p.inStrideH) != 0) { continue; }
    let ih = u32(th) / p.inStrideH;
    if (ih >= p.inH) { continue; }
    for (var kw = 0u; kw < p.kW; kw++) {
      let tw = i32(ow0 * p.outStrideW) + p.padOffsetW + i32(kw) * p.tapStepW;
      if (tw % i32(p.inStrideW) != 0) { continue; }
      let iw0 = tw / i32(p.inStrideW);
      // Input columns of the block's 8 outputs, with a mask for those outside the input.
      var col: array<u32, 8>;
      var inside: array<bool, 8>;
      for (var j = 0u; j < COLS; j++) {
        let iw = iw0 + i32(j) * step;
        inside[j] = iw >= 0 && iw < inW;
        col[j] = select(0u, u32(iw), inside[j]);
      }
      let tap = kh * p.kW + kw;
      for (var ic = 0u; ic < p.inPerGroup; ic++) {
        let row = ((xGroup + ic * p.inH) + ih) * p.inW;
        let xLo = vec4<f32>(select(0.0, x[row + col[0]], inside[0]), select(0.0, x[row + col[1]], inside[1]),
                            select(0.0, x[row + col[2]], inside[2]), select(0.0, x[row + col[3]], inside[3]));
        let xHi = vec4<f32>(select(0.0, x[row + col[4]], inside[4]), select(0.0, x[row + col[5]], inside[5]),
                            select(0.0, x[row + col[6]], inside[6]), select(0.0, x[row + col[7]], inside[7]));
        let wIn = ic * p.wStrideIn + tap;
        for (var c = 0u; c < CO_BLOCK; c++) {
          let wv = w[wOut[c] + wIn];
          accLo[c] += xLo * wv;
          accHi[c] += xHi * wv;
        }
      }
    }
  }

  for (var c = 0u; c < CO_BLOCK; c++) {
    let oc = oc0 + c;
    if (oc >= p.outPerGroup) { break; }
    let channel = g * p.outPerGroup + oc;
    let b = select(0.0, bias[channel], p.hasBias != 0u);
    let rowOut = ((n * p.outC + channel) * p.outH + oh) * p.outW;
    for (var j = 0u; j < 4u; j++) {
      let ow = ow0 + j * colStep;
      if (ow < p.outW) { y[rowOut + ow] = accLo[c][j] + b; }
    }
    for (var j = 0u; j < 4u; j++) {
      let ow = ow0 + (j + 4u) * colStep;
      if (ow < p.outW) { y[rowOut + ow] = accHi[c][j] + b; }
    }
  }
}

// Weights of a conv read as those of the transposed conv that undoes its taps, and back:
// [groups·A, B, kH, kW] -> [groups·B, A, kH, kW] with both kernel axes flipped. A stride-1
// transposed conv is the plain conv of its input with these weights and padding d·(k-1) - p.
struct FlipParams { aPerGroup: u32, bPerGroup: u32, kH: u32, kW: u32, count: u32 }
@group(0) @binding(5) var<uniform> flipParams: FlipParams;
@group(0) @binding(6) var<storage, read> weights: array<f32>;
@group(0) @binding(7) var<storage, read_write> flipped: array<f32>;

@compute @workgroup_size(256)
fn flip_weights(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let q = flipParams;
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= q.count) { return; }
  let kArea = q.kH * q.kW;
  // i indexes the output [g, b', a', kh, kw].
  let tap = i % kArea;
  var r = i / kArea;
  let a = r % q.aPerGroup; r = r / q.aPerGroup;
  let b = r % q.bPerGroup;
  let g = r / q.bPerGroup;
  let flippedTap = (q.kH - 1u - tap / q.kW) * q.kW + (q.kW - 1u - tap % q.kW);
  flipped[i] = weights[((g * q.aPerGroup + a) * q.bPerGroup + b) * kArea + flippedTap];
}
