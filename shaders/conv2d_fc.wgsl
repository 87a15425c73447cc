// A convolution whose kernel covers the whole unpadded input (output 1x1): a fully connected
// layer, y[n, co] = b[co] + sum_k w[co, k] * x[n, g*K + k] with K = cinPerGroup*H*W contiguous in
// both (OIHW weight rows, NCHW input). For batch 1 it is a matrix-vector product, bound by
// reading the weights once.
// Each output owner holds 4 channels of one group, so one x load serves 4 weight rows. SPLIT
// invocations share an owner (each sums a strided part of k, then they reduce in workgroup
// memory): 64 on GPUs for coalesced reads, 1 on SwiftShader where a barrier costs more than it saves.
override SPLIT: u32 = 1u;          // a power of two, 1 .. 64
override VEC4: bool = false;       // K % 4 == 0: rows load as aligned vec4s

struct Params {
  Cout: u32, coutPerGroup: u32, coBlocksPerGroup: u32, blocks: u32,   // blocks = groups * coBlocksPerGroup
  N: u32, K: u32, groups: u32,
  hasBias: u32, relu: u32,
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> x4: array<vec4<f32>>;        // x, as vec4s
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read> weight4: array<vec4<f32>>;   // weight, as vec4s
@group(0) @binding(5) var<storage, read> bias: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<f32>;

const WG: u32 = 64u;
var<workgroup> partial: array<vec4<f32>, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let part = lid % SPLIT;
  let owner = (wid.x + wid.y * nwg.x) * (WG / SPLIT) + lid / SPLIT;
  // Owners past the end compute on the last owner and store nothing (barriers need every invocation).
  let ob = min(owner, params.blocks - 1u);
  let g = ob / params.coBlocksPerGroup;
  let m0 = (ob % params.coBlocksPerGroup) * 4u;        // first channel within the group
  let last = params.coutPerGroup - 1u;
  let K = params.K;
  // Rows of the 4 channels; channels past the group's end repeat its last row.
  let r0 = g * params.coutPerGroup + m0;
  let r1 = g * params.coutPerGroup + min(m0 + 1u, last);
  let r2 = g * params.coutPerGroup + min(m0 + 2u, last);
  let r3 = g * params.coutPerGroup + min(m0 + 3u, last);
  for (var n = 0u; n < params.N; n++) {
    let xRow = (n * params.groups + g) * K;
    var acc = vec4<f32>(0.0);
    if (VEC4) {
      var a0 = vec4<f32>(0.0); var a1 = vec4<f32>(0.0); var a2 = vec4<f32>(0.0); var a3 = vec4<f32>(0.0);
      let K4 = K / 4u;
      for (var q = part; q < K4; q += SPLIT) {
        let xv = x4[xRow / 4u + q];
        a0 += weight4[r0 * K4 + q] * xv;
        a1 += weight4[r1 * K4 + q] * xv;
        a2 += weight4[r2 * K4 + q] * xv;
        a3 += weight4[r3 * K4 + q] * xv;
      }
      let ones = vec4<f32>(1.0);
      acc = vec4<f32>(dot(a0, ones), dot(a1, ones), dot(a2, ones), dot(a3, ones));
    } else {
      for (var k = part; k < K; k += SPLIT) {
        let xv = x[xRow + k];
        acc += xv * vec4<f32>(weight[r0 * K + k], weight[r1 * K + k], weight[r2 * K + k], weight[r3 * K + k]);
      }
    }
    if (SPLIT > 1u) {
      partial[lid] = acc;
      workgroupBarrier();
      for (var s = SPLIT / 2u; s > 0u; s = s / 2u) {
        if (part < s) { partial[lid] += partial[lid + s]; }
        workgroupBarrier();
      }
      acc = partial[lid];
      workgroupBarrier();   // the next batch item rewrites partial
    }
    if (owner < params.blocks && part == 0u) {
      for (var c = 0u; c < 4u; c++) {
        if (m0 + c > last) { break; }
        let co = g * params.coutPerGroup + m0 + c;
        var v = acc[c];
        if (params.hasBias != 0u) { v += bias[co]; }
        // select, not max: a NaN passes through ReLU as in the reference (max(NaN, 0) is undefined).
        if (params.relu != 0u) { v = select(v, 0.0, v < 0.0); }
        y[n * params.Cout + co] = v;
      }
    }
  }
}
