// The sliding-window baseline's scores back into a map: one row of K scores per crop, crops in
// (n, window row, window column) order, land at scoreMap[n, k, top + i, left + j].
struct Params { K: u32, rows: u32, cols: u32, outH: u32, outW: u32, top: u32, left: u32, count: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> scores: array<f32>;
@group(0) @binding(2) var<storage, read_write> scoreMap: array<f32>;

@compute @workgroup_size(256)
fn scatter(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  // e walks the map chunk in (n, k, i, j) order so neighbouring invocations write neighbouring cells.
  let e = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (e >= params.count) { return; }
  let j = e % params.cols;
  let i = (e / params.cols) % params.rows;
  let k = (e / (params.cols * params.rows)) % params.K;
  let n = e / (params.cols * params.rows * params.K);
  let crop = (n * params.rows + i) * params.cols + j;
  scoreMap[((n * params.K + k) * params.outH + params.top + i) * params.outW + params.left + j] = scores[crop * params.K + k];
}
