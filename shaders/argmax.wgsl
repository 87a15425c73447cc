// Segmentation map: for each pixel of x [N, C, H, W], the channel with the largest value.
// A strict > keeps the first maximum, so ties go to the lowest class. A pixel whose best score is
// below minScore gets -1 (no class: transparent when coloured).
struct Params { channels: u32, plane: u32, count: u32, minScore: f32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<i32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= params.count) { return; }
  let n = i / params.plane;
  let base = n * params.channels * params.plane + i % params.plane;
  var best = x[base];
  var arg = 0u;
  for (var c = 1u; c < params.channels; c++) {
    let v = x[base + c * params.plane];
    if (v > best) {
      best = v;
      arg = c;
    }
  }
  y[i] = select(i32(arg), -1, best < params.minScore);
}
