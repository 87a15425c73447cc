// Score maps and class maps to RGBA8 pixels, packed one pixel per u32 (R in the lowest byte, so
// the buffer's bytes read R, G, B, A like ImageData and PNG rows).
//   heat:    t = clamp((score - lo) * invRange, 0, 1), colour = piecewise-linear ramp through `lut`
//   classes: colour = lut[class % lutSize]; a negative class is transparent black
//   *_over:  rgb = mix(image.rgb, colour.rgb, opacity), alpha from the image
struct Params {
  plane: u32, count: u32, channels: u32, channel: u32,
  lo: f32, invRange: f32, opacity: f32, lutSize: u32,
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> scores: array<f32>;
@group(0) @binding(2) var<storage, read> classes: array<i32>;
@group(0) @binding(3) var<storage, read> lut: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> image: array<u32>;
@group(0) @binding(5) var<storage, read_write> y: array<u32>;

fn linear_index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * 256u + lid;
}

fn heat_colour(i: u32) -> vec4<f32> {
  let n = i / params.plane;
  let v = scores[(n * params.channels + params.channel) * params.plane + i % params.plane];
  let t = clamp((v - params.lo) * params.invRange, 0.0, 1.0);
  let pos = t * f32(params.lutSize - 1u);
  let k = min(u32(pos), params.lutSize - 2u);
  return mix(lut[k], lut[k + 1u], pos - f32(k));
}

fn class_colour(i: u32) -> vec4<f32> {
  let c = classes[i];
  if (c < 0) { return vec4<f32>(0.0); }
  return lut[u32(c) % params.lutSize];
}

fn over(colour: vec4<f32>, i: u32) -> u32 {
  let base = unpack4x8unorm(image[i]);
  return pack4x8unorm(vec4<f32>(mix(base.rgb, colour.rgb, params.opacity * colour.a), base.a));
}

@compute @workgroup_size(256)
fn heat(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_index(wid, nwg, lid);
  if (i < params.count) { y[i] = pack4x8unorm(heat_colour(i)); }
}

@compute @workgroup_size(256)
fn heat_over(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let i = linear_index(wid, nwg, lid);
  if (i < params.count) { y[i] = over(heat_colour(i), i); }
}

@compute @workgroup_size(256)
fn classes_plain(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let i = linear_index(wid, nwg, lid);
  if (i < params.count) { y[i] = pack4x8unorm(class_colour(i)); }
}

@compute @workgroup_size(256)
fn classes_over(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let i = linear_index(wid, nwg, lid);
  if (i < params.count) { y[i] = over(class_colour(i), i); }
}
