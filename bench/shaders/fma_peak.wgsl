// The adapter's FP32 multiply-add ceiling: independent chains held in registers, no memory
// traffic in the loop, the body unrolled 16× (8× for scalars) because SwiftShader pays a lot per
// loop iteration, and few enough chains that they fit its SIMD registers (8 vec4 chains spill).
// SwiftShader runs `acc * a + b` faster than the fma() builtin; the bench reports the fastest.
// FLOPs per loop iteration: mul_add_vec4 and fma_vec4 2 chains × 16 × 4 lanes × 2 = 256;
// mul_add_f32 8 chains × 8 × 2 = 128.
struct Params { iterations: u32, a: f32, b: f32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;

@compute @workgroup_size(64)
fn mul_add_vec4(@builtin(global_invocation_id) gid: vec3<u32>) {
  let a = vec4<f32>(params.a);
  let b = vec4<f32>(params.b);
  // Start values depend on the invocation so the compiler cannot fold the chains together.
  let s = f32(gid.x) * 1e-6;
  var c0 = vec4<f32>(s, s + 0.1, s + 0.2, s + 0.3);
  var c1 = c0 + 0.05;
  for (var i = 0u; i < params.iterations; i++) {
    c0 = c0 * a + b; c1 = c1 * a + b;
    c0 = c0 * a + b; c1 = c1 * a + b;
    c0 = c0 * a + b; c1 = c1 * a + b;
    c0 = c0 * a + b; c1 = c1 * a + b;
    c0 = c0 * a + b; c1 = c1 * a + b;
    c0 = c0 * a + b; c1 = c1 * a + b;
    c0 = c0 * a + b; c1 = c1 * a + b;
    c0 = c0 * a + b; c1 = c1 * a + b;
    c0 = c0 * a + b; c1 = c1 * a + b;
    c0 = c0 * a + b; c1 = c1 * a + b;
    c0 = c0 * a + b; c1 = c1 * a + b;
    c0 = c0 * a + b; c1 = c1 * a + b;
    c0 = c0 * a + b; c1 = c1 * a + b;
    c0 = c0 * a + b; c1 = c1 * a + b;
    c0 = c0 * a + b; c1 = c1 * a + b;
    c0 = c0 * a + b; c1 = c1 * a + b;
  }
  out[gid.x] = c0 + c1;
}

@compute @workgroup_size(64)
fn fma_vec4(@builtin(global_invocation_id) gid: vec3<u32>) {
  let a = vec4<f32>(params.a);
  let b = vec4<f32>(params.b);
  let s = f32(gid.x) * 1e-6;
  var c0 = vec4<f32>(s, s + 0.1, s + 0.2, s + 0.3);
  var c1 = c0 + 0.05;
  for (var i = 0u; i < params.iterations; i++) {
    c0 = fma(c0, a, b); c1 = fma(c1, a, b);
    c0 = fma(c0, a, b); c1 = fma(c1, a, b);
    c0 = fma(c0, a, b); c1 = fma(c1, a, b);
    c0 = fma(c0, a, b); c1 = fma(c1, a, b);
    c0 = fma(c0, a, b); c1 = fma(c1, a, b);
    c0 = fma(c0, a, b); c1 = fma(c1, a, b);
    c0 = fma(c0, a, b); c1 = fma(c1, a, b);
    c0 = fma(c0, a, b); c1 = fma(c1, a, b);
    c0 = fma(c0, a, b); c1 = fma(c1, a, b);
    c0 = fma(c0, a, b); c1 = fma(c1, a, b);
    c0 = fma(c0, a, b); c1 = fma(c1, a, b);
    c0 = fma(c0, a, b); c1 = fma(c1, a, b);
    c0 = fma(c0, a, b); c1 = fma(c1, a, b);
    c0 = fma(c0, a, b); c1 = fma(c1, a, b);
    c0 = fma(c0, a, b); c1 = fma(c1, a, b);
    c0 = fma(c0, a, b); c1 = fma(c1, a, b);
  }
  out[gid.x] = c0 + c1;
}

@compute @workgroup_size(64)
fn mul_add_f32(@builtin(global_invocation_id) gid: vec3<u32>) {
  let a = params.a;
  let b = params.b;
  let s = f32(gid.x) * 1e-6;
  var s0 = s; var s1 = s + 0.1; var s2 = s + 0.2; var s3 = s + 0.3;
  var s4 = s + 0.4; var s5 = s + 0.5; var s6 = s + 0.6; var s7 = s + 0.7;
  for (var i = 0u; i < params.iterations; i++) {
    s0 = s0 * a + b; s1 = s1 * a + b; s2 = s2 * a + b; s3 = s3 * a + b; s4 = s4 * a + b; s5 = s5 * a + b; s6 = s6 * a + b; s7 = s7 * a + b;
    s0 = s0 * a + b; s1 = s1 * a + b; s2 = s2 * a + b; s3 = s3 * a + b; s4 = s4 * a + b; s5 = s5 * a + b; s6 = s6 * a + b; s7 = s7 * a + b;
    s0 = s0 * a + b; s1 = s1 * a + b; s2 = s2 * a + b; s3 = s3 * a + b; s4 = s4 * a + b; s5 = s5 * a + b; s6 = s6 * a + b; s7 = s7 * a + b;
    s0 = s0 * a + b; s1 = s1 * a + b; s2 = s2 * a + b; s3 = s3 * a + b; s4 = s4 * a + b; s5 = s5 * a + b; s6 = s6 * a + b; s7 = s7 * a + b;
    s0 = s0 * a + b; s1 = s1 * a + b; s2 = s2 * a + b; s3 = s3 * a + b; s4 = s4 * a + b; s5 = s5 * a + b; s6 = s6 * a + b; s7 = s7 * a + b;
    s0 = s0 * a + b; s1 = s1 * a + b; s2 = s2 * a + b; s3 = s3 * a + b; s4 = s4 * a + b; s5 = s5 * a + b; s6 = s6 * a + b; s7 = s7 * a + b;
    s0 = s0 * a + b; s1 = s1 * a + b; s2 = s2 * a + b; s3 = s3 * a + b; s4 = s4 * a + b; s5 = s5 * a + b; s6 = s6 * a + b; s7 = s7 * a + b;
    s0 = s0 * a + b; s1 = s1 * a + b; s2 = s2 * a + b; s3 = s3 * a + b; s4 = s4 * a + b; s5 = s5 * a + b; s6 = s6 * a + b; s7 = s7 * a + b;
  }
  out[gid.x] = vec4<f32>(s0 + s1, s2 + s3, s4 + s5, s6 + s7);
}
