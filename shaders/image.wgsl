// RGBA8 pixels (one u32 each, R in the lowest byte, rows `pitch` pixels apart) to a float32
// NCHW image [1, C, outH, outW]: resampled bilinearly (PyTorch, align_corners false) when the
// size changes, scaled to [0, 1], grey as ITU-R BT.601 luma (0.299 R + 0.587 G + 0.114 B),
// then (x - mean[c]) * invStd[c]. swapRB reads BGRA sources.
struct Params {
  inH: u32, inW: u32, pitch: u32, outH: u32, outW: u32, count: u32, channels: u32, swapRB: u32,
  scaleH: f32, scaleW: f32, biasH: f32, biasW: f32,
  mean: vec4<f32>, invStd: vec4<f32>,
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> pixels: array<u32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

struct Tap { i0: u32, i1: u32, w1: f32 }

fn tap(o: u32, scale: f32, bias: f32, n: u32) -> Tap {
  let src = clamp(f32(o) * scale + bias, 0.0, f32(n - 1u));
  let i0 = min(u32(src), n - 1u);
  return Tap(i0, min(i0 + 1u, n - 1u), src - f32(i0));
}

fn rgb(row: u32, col: u32) -> vec3<f32> {
  let c = unpack4x8unorm(pixels[row * params.pitch + col]).rgb;
  return select(c, c.bgr, params.swapRB != 0u);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= params.count) { return; }
  let th = tap(i / params.outW, params.scaleH, params.biasH, params.inH);
  let tw = tap(i % params.outW, params.scaleW, params.biasW, params.inW);
  let top = mix(rgb(th.i0, tw.i0), rgb(th.i0, tw.i1), tw.w1);
  let bottom = mix(rgb(th.i1, tw.i0), rgb(th.i1, tw.i1), tw.w1);
  let c = mix(top, bottom, th.w1);
  if (params.channels == 1u) {
    y[i] = (dot(c, vec3<f32>(0.299, 0.587, 0.114)) - params.mean.x) * params.invStd.x;
    return;
  }
  let plane = params.count;
  y[i] = (c.r - params.mean.x) * params.invStd.x;
  y[plane + i] = (c.g - params.mean.y) * params.invStd.y;
  y[2u * plane + i] = (c.b - params.mean.z) * params.invStd.z;
}
