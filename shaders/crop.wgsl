// Strided patchIndex copies of NCHW tensors, one invocation per copied element.
// windows: out[(n * patchesH + pi) * patchesW + pj, c, i, j] = x[n, c, top + pi*strideH + i, left + pj*strideW + j]
//   (crop2d is one patch; extractPatches a grid of them), zero where the patchIndex leaves x.
// paste: dst[n, c, dstTop + i, dstLeft + j] = src[n, c, srcTop + i, srcLeft + j] for a h × w patchIndex
//   (stitches a tile's output into a larger map).
struct Windows {
  C: u32, H: u32, W: u32, outH: u32, outW: u32,
  patchesH: u32, patchesW: u32, strideH: u32, strideW: u32,
  top: i32, left: i32, total: u32,
}
struct Paste {
  srcH: u32, srcW: u32, dstH: u32, dstW: u32,
  srcTop: u32, srcLeft: u32, dstTop: u32, dstLeft: u32, h: u32, w: u32, total: u32,
}
@group(0) @binding(0) var<uniform> win: Windows;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> pst: Paste;
@group(0) @binding(4) var<storage, read> src: array<f32>;
@group(0) @binding(5) var<storage, read_write> dst: array<f32>;

fn linearIndex(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * 256u + lid;
}

@compute @workgroup_size(256)
fn windows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let e = linearIndex(wid, nwg, lid);
  if (e >= win.total) { return; }
  let j = e % win.outW;
  var rest = e / win.outW;
  let i = rest % win.outH;
  rest = rest / win.outH;
  let c = rest % win.C;
  let patchIndex = rest / win.C;
  let pj = patchIndex % win.patchesW;
  let pi = (patchIndex / win.patchesW) % win.patchesH;
  let n = patchIndex / (win.patchesW * win.patchesH);
  let row = win.top + i32(pi * win.strideH + i);
  let col = win.left + i32(pj * win.strideW + j);
  var value = 0.0;
  if (row >= 0 && row < i32(win.H) && col >= 0 && col < i32(win.W)) {
    value = x[((n * win.C + c) * win.H + u32(row)) * win.W + u32(col)];
  }
  out[e] = value;
}

@compute @workgroup_size(256)
fn paste(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
  let e = linearIndex(wid, nwg, lid);
  if (e >= pst.total) { return; }
  let j = e % pst.w;
  var rest = e / pst.w;
  let i = rest % pst.h;
  let plane = rest / pst.h;
  let srcAt = (plane * pst.srcH + pst.srcTop + i) * pst.srcW + pst.srcLeft + j;
  let dstAt = (plane * pst.dstH + pst.dstTop + i) * pst.dstW + pst.dstLeft + j;
  dst[dstAt] = src[srcAt];
}
