// Softmax cross-entropy over the class axis K of logits [N, K, HW] (HW = 1 for [N, K]).
// One invocation per pixel (n, s): loss = log Σ_k exp(x_k - max) - (x_label - max),
// dLogits_k = (softmax_k - [k = label]) / count. Each workgroup sums its pixels' losses into
// one partial; `mean` then sums the partials in a fixed order, so a run is deterministic.
struct Params { count: u32, classes: u32, plane: u32, invCount: f32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<i32>;
@group(0) @binding(3) var<storage, read_write> dLogits: array<f32>;
@group(0) @binding(4) var<storage, read_write> partials: array<f32>;

struct MeanParams { partialCount: u32, invCount: f32 }
@group(0) @binding(5) var<uniform> meanParams: MeanParams;
@group(0) @binding(6) var<storage, read> partialSums: array<f32>;
@group(0) @binding(7) var<storage, read_write> loss: array<f32>;

var<workgroup> sums: array<f32, 256>;

/** log(1 + u) for u >= 0 without losing u when it is tiny (Goldberg's trick; WGSL has no log1p). */
fn log1pNonNegative(u: f32) -> f32 {
  let w = 1.0 + u;
  if (w == 1.0) { return u; }
  return log(w) * (u / (w - 1.0));
}

/** Tree sum of `sums` over the workgroup; the total ends in sums[0]. */
fn reduceWorkgroup(lid: u32) {
  for (var half = 128u; half > 0u; half = half >> 1u) {
    workgroupBarrier();
    if (lid < half) { sums[lid] = sums[lid] + sums[lid + half]; }
  }
  workgroupBarrier();
}

@compute @workgroup_size(256)
fn softmax_xent(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let group = wid.x + wid.y * nwg.x;
  let pixel = group * 256u + lid;
  var term = 0.0;
  if (pixel < params.count) {
    let K = params.classes;
    let HW = params.plane;
    let n = pixel / HW;
    let s = pixel - n * HW;
    let base = n * K * HW + s;
    let label = labels[pixel];
    // bitcast keeps -1 etc. out of range as a huge u32: one comparison checks both ends.
    if (bitcast<u32>(label) >= K) {
      // An out-of-range label: its term is NaN (never read past the logits) and its gradient is dropped.
      // The NaN is built from a runtime value: a constant NaN expression is a WGSL compile error.
      term = bitcast<f32>(0x7fc00000u | (bitcast<u32>(label) & 0u));
      for (var k = 0u; k < K; k++) { dLogits[base + k * HW] = 0.0; }
    } else {
      let labelIndex = u32(label);
      var maxValue = logits[base];
      var argMax = 0u;
      for (var k = 1u; k < K; k++) {
        let v = logits[base + k * HW];
        if (v > maxValue) { maxValue = v; argMax = k; }
      }
      // Σ over k != argMax of exp(x_k - max): the softmax denominator is 1 + rest, kept apart so that
      // a confident prediction's small loss and its gradient do not vanish in 1 + rest.
      var rest = 0.0;
      for (var k = 0u; k < K; k++) {
        if (k != argMax) { rest += exp(logits[base + k * HW] - maxValue); }
      }
      let denominator = 1.0 + rest;
      let targetShifted = logits[base + labelIndex * HW] - maxValue;
      term = log1pNonNegative(rest) - targetShifted;
      for (var k = 0u; k < K; k++) {
        let prob = exp(logits[base + k * HW] - maxValue) / denominator;
        var grad = prob;
        if (k == labelIndex) {
          // softmax - 1 at the argmax is -rest / (1 + rest): no cancellation.
          grad = select(prob - 1.0, -rest / denominator, k == argMax);
        }
        dLogits[base + k * HW] = grad * params.invCount;
      }
    }
  }
  sums[lid] = term;
  reduceWorkgroup(lid);
  // Folded grids have tail workgroups past the last pixel: they own no partial.
  if (lid == 0u && group * 256u < params.count) { partials[group] = sums[0]; }
}

@compute @workgroup_size(256)
fn mean(@builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  for (var i = lid; i < meanParams.partialCount; i += 256u) { acc += partialSums[i]; }
  sums[lid] = acc;
  reduceWorkgroup(lid);
  if (lid == 0u) { loss[0] = sums[0] * meanParams.invCount; }
}
