// Bias gradient: db[c] = Σ_{n, h, w} dy[n, c, h, w] (the lecture's add gate hands each bias the
// sum of its dy).
//   main:        one workgroup per channel: each invocation sums runs of 4 neighbouring elements
//                (a CPU lane then reads one cache line, not four), then a tree in workgroup memory;
//   main_vec4:   the same with aligned vec4 loads, for planes of whole vec4.
//   per_channel: small planes (N·H·W up to ~1k): one invocation per channel sums serially; on
//                SwiftShader a workgroup's start and barriers cost more than such a sum.
// WG is a power of two: 256 on GPUs; 32 on SwiftShader, where a 256-wide workgroup's barriers made
// the same reduction 30x slower.
override WG: u32 = 256u;

struct Params { batch: u32, channels: u32, planeSize: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> db: array<f32>;

var<workgroup> partialSums: array<f32, WG>;

// The workgroup tree: partialSums[0] ends as the sum of every invocation's `s`.
fn tree_sum(lid: u32, s: f32) -> f32 {
  partialSums[lid] = s;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half = half / 2u) {
    if (lid < half) { partialSums[lid] += partialSums[lid + half]; }
    workgroupBarrier();
  }
  return partialSums[0];
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let channel = wid.x + wid.y * nwg.x;
  // The whole workgroup leaves together (uniform), so the barriers below stay in uniform control flow.
  if (channel >= params.channels) { return; }
  let size = params.planeSize;
  let last = size - 1u;
  var s = 0.0;
  for (var n = 0u; n < params.batch; n++) {
    let plane = (n * params.channels + channel) * size;
    for (var i = lid * 4u; i < size; i += WG * 4u) {
      // Past the plane's end: index clamped inside, value dropped.
      s += dy[plane + i]
        + select(0.0, dy[plane + min(i + 1u, last)], i + 1u < size)
        + select(0.0, dy[plane + min(i + 2u, last)], i + 2u < size)
        + select(0.0, dy[plane + min(i + 3u, last)], i + 3u < size);
    }
  }
  let total = tree_sum(lid, s);
  if (lid == 0u) { db[channel] = total; }
}

// main for planes of whole vec4 (H·W % 4 == 0): one aligned vec4 load per step, two per trip.
@group(0) @binding(3) var<storage, read> dy4: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let channel = wid.x + wid.y * nwg.x;
  if (channel >= params.channels) { return; }
  let quads = params.planeSize / 4u;
  var s = vec4<f32>(0.0);
  for (var n = 0u; n < params.batch; n++) {
    let plane = (n * params.channels + channel) * quads;
    var i = lid;
    for (; i + WG < quads; i += 2u * WG) { s += dy4[plane + i] + dy4[plane + i + WG]; }
    if (i < quads) { s += dy4[plane + i]; }
  }
  let total = tree_sum(lid, s.x + s.y + s.z + s.w);
  if (lid == 0u) { db[channel] = total; }
}

@compute @workgroup_size(64)
fn per_channel(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let channel = (wid.x + wid.y * nwg.x) * 64u + lid;
  if (channel >= params.channels) { return; }
  var s = 0.0;
  for (var n = 0u; n < params.batch; n++) {
    let plane = (n * params.channels + channel) * params.planeSize;
    for (var i = 0u; i < params.planeSize; i++) { s += dy[plane + i]; }
  }
  db[channel] = s;
}
