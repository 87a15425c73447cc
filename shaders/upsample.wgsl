// Bilinear resampling of NCHW planes (PyTorch's upsample_bilinear2d). Per axis, output index o
// reads the input at src = clamp(o * scale + bias, 0, in - 1), between floor(src) and the next
// row/column with weight src - floor(src):
//   alignCorners false: scale = in / out, bias = scale / 2 - 1/2  (= (o + 1/2) * in / out - 1/2)
//   alignCorners true:  scale = (in - 1) / (out - 1), bias = 0
//   score-map placement: scale = 1 / jump, bias = -offset / jump  (cell centres at offset + jump * i)
struct Params {
  inH: u32, inW: u32, outH: u32, outW: u32,
  count: u32,
  scaleH: f32, scaleW: f32, biasH: f32, biasW: f32,
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

struct Tap { i0: u32, i1: u32, w1: f32 }

fn tap(o: u32, scale: f32, bias: f32, n: u32) -> Tap {
  let src = clamp(f32(o) * scale + bias, 0.0, f32(n - 1u));
  let i0 = min(u32(src), n - 1u);
  return Tap(i0, min(i0 + 1u, n - 1u), src - f32(i0));
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= params.count) { return; }
  let ox = i % params.outW;
  let oy = (i / params.outW) % params.outH;
  let plane = i / (params.outW * params.outH);
  let th = tap(oy, params.scaleH, params.biasH, params.inH);
  let tw = tap(ox, params.scaleW, params.biasW, params.inW);
  let base = plane * params.inH * params.inW;
  let row0 = base + th.i0 * params.inW;
  let row1 = base + th.i1 * params.inW;
  let top = mix(x[row0 + tw.i0], x[row0 + tw.i1], tw.w1);
  let bottom = mix(x[row1 + tw.i0], x[row1 + tw.i1], tw.w1);
  y[i] = mix(top, bottom, th.w1);
}
