// The adapter's measured ceilings, so every result can be read as a fraction of what the
// hardware (or SwiftShader) can do: peak FP32 multiply-add rate and copy bandwidth.
import fmaSource from './shaders/fma_peak.wgsl';
import copySource from './shaders/copy_bandwidth.wgsl';
import { median, now } from './timing.js';

export interface Ceilings {
  /** Best of the multiply-add kernels, GFLOP/s. */
  fmaGflops: number;
  fmaByVariant: Record<string, number>;
  /** WGSL copy kernel, GB/s counting bytes read + written. */
  copyGBps: number;
  /** copyBufferToBuffer, GB/s counting bytes read + written. */
  copyBufferGBps: number;
  notes: string[];
}

const FMA_INVOCATIONS = 64 * 256;
/** Entry points of fma_peak.wgsl and the FLOPs one loop iteration of each does. */
const FMA_KERNELS: Record<string, number> = { mul_add_vec4: 256, fma_vec4: 256, mul_add_f32: 128 };
const COPY_BYTES = 64 * 1024 * 1024;

async function timeSubmits(device: GPUDevice, encode: (enc: GPUCommandEncoder) => void, repeats: number): Promise<number[]> {
  const samples: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const enc = device.createCommandEncoder();
    encode(enc);
    const t0 = now();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    samples.push(now() - t0);
  }
  return samples;
}

function uniformBuffer(device: GPUDevice, data: ArrayBuffer): GPUBuffer {
  const b = device.createBuffer({ size: Math.max(16, data.byteLength), usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(b, 0, data);
  return b;
}

async function fmaPeak(device: GPUDevice, entryPoint: string, flopsPerIteration: number, quick: boolean): Promise<number> {
  const module = device.createShaderModule({ code: fmaSource, label: 'fma_peak.wgsl' });
  const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint } });
  const out = device.createBuffer({ size: FMA_INVOCATIONS * 16, usage: GPUBufferUsage.STORAGE });
  const params = new ArrayBuffer(16);
  const view = new DataView(params);
  view.setFloat32(4, 0.999, true);
  view.setFloat32(8, 0.001, true);
  const run = async (iterations: number, repeats: number): Promise<number[]> => {
    view.setUint32(0, iterations, true);
    const uniforms = uniformBuffer(device, params);
    const bind = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: uniforms } }, { binding: 1, resource: { buffer: out } }] });
    const samples = await timeSubmits(device, (enc) => {
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bind);
      pass.dispatchWorkgroups(FMA_INVOCATIONS / 64);
      pass.end();
    }, repeats);
    uniforms.destroy();
    return samples;
  };
  // Size the loop so one dispatch takes ~150 ms (~40 ms quick): long enough to hide submit cost.
  let probeIterations = 16;
  let probe = median(await run(probeIterations, 2));
  while (probe < 20 && probeIterations < 1 << 20) {
    probeIterations *= 4;
    probe = median(await run(probeIterations, 1));
  }
  const targetMs = quick ? 40 : 150;
  const iterations = Math.max(1, Math.round((probeIterations * targetMs) / probe));
  const samples = await run(iterations, quick ? 3 : 5);
  out.destroy();
  const best = Math.min(...samples);
  return (FMA_INVOCATIONS * iterations * flopsPerIteration) / (best * 1e6);
}

async function copyBandwidth(device: GPUDevice, quick: boolean): Promise<{ kernel: number; buffer: number }> {
  const count = COPY_BYTES / 16;
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const src = device.createBuffer({ size: COPY_BYTES, usage });
  const dst = device.createBuffer({ size: COPY_BYTES, usage });
  const module = device.createShaderModule({ code: copySource, label: 'copy_bandwidth.wgsl' });
  const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const uniforms = uniformBuffer(device, new Uint32Array([count, 0, 0, 0]).buffer);
  const bind = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [{ binding: 0, resource: { buffer: uniforms } }, { binding: 1, resource: { buffer: src } }, { binding: 2, resource: { buffer: dst } }],
  });
  const workgroups = count / 256;
  const maxPerDim = device.limits.maxComputeWorkgroupsPerDimension;
  const gridY = Math.ceil(workgroups / maxPerDim);
  const gridX = Math.ceil(workgroups / gridY);
  const repeats = quick ? 3 : 6;
  // Untimed first submits: page the buffers in and compile.
  await timeSubmits(device, (enc) => enc.copyBufferToBuffer(src, 0, dst, 0, COPY_BYTES), 1);
  const kernelSamples = await timeSubmits(device, (enc) => {
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bind);
    pass.dispatchWorkgroups(gridX, gridY);
    pass.end();
  }, repeats + 1);
  const bufferSamples = await timeSubmits(device, (enc) => enc.copyBufferToBuffer(src, 0, dst, 0, COPY_BYTES), repeats);
  src.destroy();
  dst.destroy();
  uniforms.destroy();
  const gbps = (ms: number): number => (2 * COPY_BYTES) / (ms * 1e6);
  return { kernel: gbps(Math.min(...kernelSamples.slice(1))), buffer: gbps(Math.min(...bufferSamples)) };
}

export async function measureCeilings(device: GPUDevice, quick: boolean): Promise<Ceilings> {
  const fmaByVariant: Record<string, number> = {};
  for (const [entry, flops] of Object.entries(FMA_KERNELS)) fmaByVariant[entry] = await fmaPeak(device, entry, flops, quick);
  const copy = await copyBandwidth(device, quick);
  return {
    fmaGflops: Math.max(...Object.values(fmaByVariant)),
    fmaByVariant,
    copyGBps: copy.kernel,
    copyBufferGBps: copy.buffer,
    notes: [
      `FMA: ${FMA_INVOCATIONS} invocations, independent chains in registers, loop body unrolled; best of the runs; kernels ${Object.entries(fmaByVariant).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')} GFLOP/s`,
      `copy: ${COPY_BYTES >> 20} MiB, bytes read + written, best of ${quick ? 3 : 6}; compute shader vs copyBufferToBuffer`,
    ],
  };
}
