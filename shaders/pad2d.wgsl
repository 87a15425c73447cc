// Zero-pads NCHW planes once into a scratch buffer whose rows are a multiple of 4 floats, so the
// direct conv kernels read any window without bounds checks and load rows as aligned vec4s.
// xp[plane, r, c] = x[plane, r - padTop, c - padLeft] inside the input, else 0.
struct Params {
  H: u32, W: u32, Hp: u32, Wp: u32,   // Wp % 4 == 0
  padTop: u32, padLeft: u32,
  planes: u32,                        // planes past this one (scratch slack) are all zero
  count4: u32,                        // every plane of xp: its length / 4
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> xp: array<vec4<f32>>;

fn at(plane: u32, r: u32, c: u32) -> f32 {
  // u32 wrap-around makes "r < padTop" a large number, caught by the same test as "r >= H".
  let ir = r - params.padTop;
  let ic = c - params.padLeft;
  if (plane < params.planes && ir < params.H && ic < params.W) { return x[(plane * params.H + ir) * params.W + ic]; }
  return 0.0;
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= params.count4) { return; }
  let quadsPerRow = params.Wp / 4u;
  let c = (i % quadsPerRow) * 4u;
  let rowIndex = i / quadsPerRow;
  let r = rowIndex % params.Hp;
  let plane = rowIndex / params.Hp;
  xp[i] = vec4<f32>(at(plane, r, c), at(plane, r, c + 1u), at(plane, r, c + 2u), at(plane, r, c + 3u));
}
