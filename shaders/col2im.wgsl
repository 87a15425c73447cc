// col2im for the input gradient of an undilated conv: dx[n, c, ih, iw] = sum over the taps (kh, kw)
// that reach it of cols[n, (c·kH + kh)·kW + kw, oh, ow], where ih + padTop = oh·strideH + kh (and
// the same for columns). cols = W^T · dy, one GEMM (a 1x1 conv); this pass only gathers. Each
// invocation walks just its pixel's valid taps: kh ≡ ih + padTop (mod strideH), stepping by the
// stride, so an 11x11 stride-4 kernel costs ~8 taps a pixel, not 121 tests.
struct Params {
  C: u32, H: u32, W: u32,          // dx [N, C, H, W]
  outH: u32, outW: u32,            // dy's plane, cols [N, C·kH·kW, outH, outW]
  kH: u32, kW: u32, strideH: u32, strideW: u32, padTop: u32, padLeft: u32,
  total: u32,                      // N·C·H·W
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
  let iw = i % p.W;
  var t = i / p.W;
  let ih = t % p.H;
  t = t / p.H;                      // n·C + c
  let th = ih + p.padTop;
  let tw = iw + p.padLeft;
  let plane = p.outH * p.outW;
  let tapBase = t * p.kH * p.kW;    // cols channel of (n, c, kh = 0, kw = 0)
  let khEnd = min(th, p.kH - 1u);
  let kwEnd = min(tw, p.kW - 1u);
  var s = 0.0;
  for (var kh = th % p.strideH; kh <= khEnd; kh += p.strideH) {
    let oh = (th - kh) / p.strideH;
    if (oh >= p.outH) { continue; }
    let rowBase = (tapBase + kh * p.kW) * plane + oh * p.outW;
    for (var kw = tw % p.strideW; kw <= kwEnd; kw += p.strideW) {
      let ow = (tw - kw) / p.strideW;
      if (ow < p.outW) { s += cols[rowBase + kw * plane + ow]; }
    }
  }
  dx[i] = s;
}
