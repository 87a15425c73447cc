// Softmax over dim 1 of [N, K, S] (S = H*W; 1 for [N, K]), one invocation per (n, s) column.
// Forward subtracts the column's max before exp, so large logits never overflow.
// Backward is the vector–Jacobian product: dx_k = y_k * (dy_k - sum_j dy_j * y_j).
struct Params { K: u32, S: u32, columns: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read> probs: array<f32>;
@group(0) @binding(4) var<storage, read> dy: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;

fn column(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * 64u + lid;
}

/** Index of (n, k = 0, s) for a column n * S + s. */
fn columnBase(col: u32) -> u32 {
  let n = col / params.S;
  return n * params.K * params.S + (col - n * params.S);
}

@compute @workgroup_size(64)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let col = column(wid, nwg, lid);
  if (col >= params.columns) { return; }
  let base = columnBase(col);
  let S = params.S;
  var m = x[base];
  for (var k = 1u; k < params.K; k++) { m = max(m, x[base + k * S]); }
  var total = 0.0;
  for (var k = 0u; k < params.K; k++) { total += exp(x[base + k * S] - m); }
  let inv = 1.0 / total;
  for (var k = 0u; k < params.K; k++) { y[base + k * S] = exp(x[base + k * S] - m) * inv; }
}

@compute @workgroup_size(64)
fn backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let col = column(wid, nwg, lid);
  if (col >= params.columns) { return; }
  let base = columnBase(col);
  let S = params.S;
  var inner = 0.0;
  for (var k = 0u; k < params.K; k++) { inner += dy[base + k * S] * probs[base + k * S]; }
  for (var k = 0u; k < params.K; k++) {
    let at = base + k * S;
    dx[at] = probs[at] * (dy[at] - inner);
  }
}
