// Optimizer steps, element-wise and in place on the parameter (torch.optim semantics).
// SGD:  g = grad + wd·p;  buf = g on the first step, else momentum·buf + (1 - dampening)·g;
//       g = g + momentum·buf (Nesterov) or buf;  p -= lr·g.
// Adam: g = grad + wd·p (L2);  m = β1·m + (1-β1)·g;  v = β2·v + (1-β2)·g²;
//       p -= (lr / (1-β1^t)) · m / (sqrt(v) / sqrt(1-β2^t) + eps)   (torch's bias-corrected form).
//       AdamW decays the parameter instead: p *= 1 - lr·wd before the step.
override NESTEROV: u32 = 0u;        // SGD with momentum: 1 Nesterov
override DECOUPLED: u32 = 0u;       // Adam: 0 L2 added to the gradient, 1 AdamW's decoupled decay

struct SgdParams { count: u32, lr: f32, weightDecay: f32, momentum: f32, dampening: f32, firstStep: u32 }
@group(0) @binding(0) var<uniform> sgd: SgdParams;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> momentumBuffer: array<f32>;

struct AdamParams { count: u32, lr: f32, weightDecay: f32, beta1: f32, beta2: f32, eps: f32,
                    stepSize: f32, biasCorrection2Sqrt: f32 }
@group(0) @binding(4) var<uniform> adam: AdamParams;
@group(0) @binding(5) var<storage, read_write> expAvg: array<f32>;
@group(0) @binding(6) var<storage, read_write> expAvgSq: array<f32>;

fn index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * 256u + lid;
}

@compute @workgroup_size(256)
fn sgd_step(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i >= sgd.count) { return; }
  param[i] = param[i] - sgd.lr * (grad[i] + sgd.weightDecay * param[i]);
}

@compute @workgroup_size(256)
fn sgd_momentum_step(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i >= sgd.count) { return; }
  let g = grad[i] + sgd.weightDecay * param[i];
  var buf = g;
  if (sgd.firstStep == 0u) { buf = sgd.momentum * momentumBuffer[i] + (1.0 - sgd.dampening) * g; }
  momentumBuffer[i] = buf;
  param[i] = param[i] - sgd.lr * select(buf, g + sgd.momentum * buf, NESTEROV == 1u);
}

@compute @workgroup_size(256)
fn adam_step(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i >= adam.count) { return; }
  var p = param[i];
  var g = grad[i];
  if (DECOUPLED == 1u) { p = p * (1.0 - adam.lr * adam.weightDecay); }
  else { g = g + adam.weightDecay * p; }
  let m = adam.beta1 * expAvg[i] + (1.0 - adam.beta1) * g;
  let v = adam.beta2 * expAvgSq[i] + (1.0 - adam.beta2) * g * g;
  expAvg[i] = m;
  expAvgSq[i] = v;
  param[i] = p - adam.stepSize * m / (sqrt(v) / adam.biasCorrection2Sqrt + adam.eps);
}
