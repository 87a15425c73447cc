// col2im for the input gradient of an undilated conv: dx[n, c, ih, iw] = sum over the taps (kh, kw)
// that reach it of cols[n, (c·kH + kh)·kW + kw, oh, ow], where ih + padTop = oh·strideH + kh (and
// the same for columns). cols = W^T · dy, one GEMM (a 1x1 conv); this pass only gathers. Each
// invocation walks just its pixels' valid taps: kh ≡ ih + padTop (mod strideH), stepping by the
// stride, so an 11x11 stride-4 kernel costs ~8 taps a pixel, not 121 tests.
// An invocation makes 4 pixels of one row in the same column phase (iw, iw + strideW, ...): they
// share every tap kw and read 4 neighbouring ow, with no per-pixel branch or division. On L5
// (SwiftShader) the gather took ~15 ms, against ~40 ms for one pixel per invocation.
struct Params {
  C: u32, H: u32, W: u32,          // dx [N, C, H, W]
  outH: u32, outW: u32,            // dy's plane, cols [N, C·kH·kW, outH, outW]
  kH: u32, kW: u32, strideH: u32, strideW: u32, padTop: u32, padLeft: u32,
  quadsPerPhase: u32,              // ceil(ceil(W / strideW) / 4)
  total: u32,                      // N·C·H·strideW·quadsPerPhase
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> cols: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;

const WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= params.total) { return; }
  let p = params;
  let perRow = p.strideW * p.quadsPerPhase;
  let q = i % perRow;
  var t = i / perRow;
  let ih = t % p.H;
  t = t / p.H;                      // n·C + c
  let phase = q / p.quadsPerPhase;
  let iw0 = phase + (q % p.quadsPerPhase) * 4u * p.strideW;   // pixels iw0 + k·strideW, k < 4
  let th = ih + p.padTop;
  let tw0 = iw0 + p.padLeft;
  let plane = p.outH * p.outW;
  let tapBase = t * p.kH * p.kW;    // cols channel of (n, c, kh = 0, kw = 0)
  let khEnd = min(th, p.kH - 1u);
  // The 4 pixels' taps: the same kw; pixel k reads ow0 + k - (kw - kw0) / strideW.
  let kw0 = tw0 % p.strideW;
  let ow0 = i32((tw0 - kw0) / p.strideW);
  let kwEnd = min(tw0 + 3u * p.strideW, p.kW - 1u);
  let outW = i32(p.outW);
  var s = vec4<f32>(0.0);
  let kh0 = th % p.strideH;
  var oh = (th - kh0) / p.strideH;
  for (var kh = kh0; kh <= khEnd; kh += p.strideH) {
    if (oh < p.outH) {
      var at = (tapBase + kh * p.kW + kw0) * plane + oh * p.outW;
      var ow = ow0;
      for (var kw = kw0; kw <= kwEnd; kw += p.strideW) {
        // ow + k < 0: the tap lies left of pixel k (kw > its tw); >= outW: right of dy. Such
        // lanes read a clamped neighbour and add 0: straight-line code, no per-pixel branches.
        let o = vec4<i32>(ow) + vec4<i32>(0, 1, 2, 3);
        let inside = (o >= vec4<i32>(0)) & (o < vec4<i32>(outW));
        let c = vec4<u32>(clamp(o, vec4<i32>(0), vec4<i32>(outW - 1))) + vec4<u32>(at);
        s += select(vec4<f32>(0.0), vec4<f32>(cols[c.x], cols[c.y], cols[c.z], cols[c.w]), inside);
        at += p.strideW * plane;
        ow -= 1;
      }
    }
    oh -= 1u;
  }
  let row = (t * p.H + ih) * p.W;
  for (var k = 0u; k < 4u; k++) {
    let iw = iw0 + k * p.strideW;
    if (iw < p.W) { dx[row + iw] = s[k]; }
  }
}
