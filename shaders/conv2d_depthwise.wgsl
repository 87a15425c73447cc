// Depthwise convolution (groups == Cin, one input channel per group, channel multiplier >= 1):
// output channel co reads input channel co / coutPerGroup. Each invocation owns 8 output columns
// of one output row of one channel, in two vec4 accumulators; no workgroup memory. The input is
// zero-padded once (pad2d.wgsl), so windows read without bounds checks.
//   y[n,co,oh,ow] = b[co] + sum_{kh,kw} xp[n, co / mult, oh*sH + kh*dH, ow*sW + kw*dW] * w[co, 0, kh, kw]
struct Params {
  Cin: u32, Hp: u32, Wp: u32, Cout: u32, outH: u32, outW: u32,
  coutPerGroup: u32, wBlocks: u32,
  kH: u32, kW: u32, strideH: u32, strideW: u32, dilationH: u32, dilationW: u32,
  total: u32,            // invocations: N * Cout * outH * wBlocks
  hasBias: u32, relu: u32,
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> xp: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

const WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= params.total) { return; }
  let wb = i % params.wBlocks;
  var t = i / params.wBlocks;
  let oh = t % params.outH;
  t = t / params.outH;
  let co = t % params.Cout;
  let n = t / params.Cout;
  let ow0 = wb * 8u;
  let ci = co / params.coutPerGroup;
  let sW = params.strideW;

  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var xRow = ((n * params.Cin + ci) * params.Hp + oh * params.strideH) * params.Wp + ow0 * sW;
  var wk = co * params.kH * params.kW;
  for (var kh = 0u; kh < params.kH; kh++) {
    var o = xRow;
    for (var kw = 0u; kw < params.kW; kw++) {
      let w = weight[wk];
      acc0 += w * vec4<f32>(xp[o], xp[o + sW], xp[o + 2u * sW], xp[o + 3u * sW]);
      acc1 += w * vec4<f32>(xp[o + 4u * sW], xp[o + 5u * sW], xp[o + 6u * sW], xp[o + 7u * sW]);
      wk += 1u;
      o += params.dilationW;
    }
    xRow += params.dilationH * params.Wp;
  }

  var b = 0.0;
  if (params.hasBias != 0u) { b = bias[co]; }
  let yRow = ((n * params.Cout + co) * params.outH + oh) * params.outW;
  for (var j = 0u; j < 8u; j++) {
    if (ow0 + j >= params.outW) { break; }
    var v = select(acc1[j - 4u], acc0[j], j < 4u) + b;
    // select, not max: a NaN passes through ReLU as in the reference (max(NaN, 0) is undefined).
    if (params.relu != 0u) { v = select(v, 0.0, v < 0.0); }
    y[yRow + ow0 + j] = v;
  }
}
