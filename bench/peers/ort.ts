// ONNX Runtime Web with its WebGPU execution provider. Models are built in code (../onnx.ts);
// inputs live in GPU buffers on ORT's own device and outputs stay there ('gpu-buffer'), so a
// run measures the GPU work; reading back is timed separately through getData().
import type * as OrtModule from 'onnxruntime-web';
import { Unsupported } from '../api.js';
import { encodeModel, type GraphSpec } from '../onnx.js';
import type { Runnable } from '../timing.js';

export type Ort = typeof OrtModule;

export interface OrtPeer {
  ort: Ort;
  version: string;
}

const ORT_DIST = '/node_modules/onnxruntime-web/dist/';

export async function loadOrt(): Promise<OrtPeer> {
  const url = `${ORT_DIST}ort.webgpu.min.mjs`;
  const ort = (await import(/* webpackIgnore: true */ url)) as Ort;
  ort.env.wasm.wasmPaths = ORT_DIST;
  // The page is not cross-origin isolated, so no SharedArrayBuffer: one wasm thread.
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  return { ort, version: ort.env.versions.web ?? 'unknown' };
}

export interface OrtCase {
  session: OrtModule.InferenceSession;
  device: GPUDevice;
  feeds: Record<string, OrtModule.Tensor>;
  buffers: GPUBuffer[];
}

/** A WebGPU-only session: CPU fallback disabled, so an op the EP lacks fails here, not silently. */
export async function ortSession(peer: OrtPeer, graph: GraphSpec, inputs: Record<string, { data: Float32Array; dims: number[] }>): Promise<OrtCase> {
  const model = encodeModel(graph);
  let session: OrtModule.InferenceSession;
  try {
    session = await peer.ort.InferenceSession.create(model, {
      executionProviders: ['webgpu'],
      preferredOutputLocation: 'gpu-buffer',
      graphOptimizationLevel: 'all',
      extra: { session: { disable_cpu_ep_fallback: '1' } },
    });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/fallback to CPU EP has been explicitly disabled/.test(msg)) {
      const ops = [...new Set(graph.nodes.map((n) => n.opType))].join(', ');
      throw new Unsupported(`the WebGPU EP has no kernel for a node of ${ops}: ORT would run it on its CPU EP, which the bench disables so every ORT number is a WebGPU number`);
    }
    throw e;
  }
  const device = (await peer.ort.env.webgpu.device) as GPUDevice;
  const feeds: Record<string, OrtModule.Tensor> = {};
  const buffers: GPUBuffer[] = [];
  for (const [name, { data, dims }] of Object.entries(inputs)) {
    const buffer = device.createBuffer({ size: Math.ceil(data.byteLength / 16) * 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(buffer, 0, data as Float32Array<ArrayBuffer>);
    buffers.push(buffer);
    feeds[name] = peer.ort.Tensor.fromGpuBuffer(buffer, { dataType: 'float32', dims });
  }
  await device.queue.onSubmittedWorkDone();
  return { session, device, feeds, buffers };
}

export function ortRunnable(c: OrtCase, outputName: string): Runnable {
  let out: OrtModule.Tensor | null = null;
  return {
    async launch() {
      const result = await c.session.run(c.feeds);
      out = result[outputName]!;
    },
    async gpuDone() {
      await c.device.queue.onSubmittedWorkDone();
    },
    async read() {
      return (await out!.getData()) as Float32Array;
    },
    release() {
      out?.dispose();
      out = null;
    },
  };
}

export async function releaseOrt(c: OrtCase): Promise<void> {
  await c.session.release();
  for (const b of c.buffers) b.destroy();
}

