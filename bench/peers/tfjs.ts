// TensorFlow.js on its WebGPU backend, in its native NHWC layout. Layout changes happen on the
// CPU before upload and after the (untimed) check read, never inside a timed run. The library
// itself is loaded by ./tfjs_load.ts (browser only), so the Node bundle never pulls it in.
import type * as tfc from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { Runnable } from '../timing.js';

export type Tf = typeof tfc;

export interface TfPeer {
  tf: Tf;
  backend: WebGPUBackend;
  version: string;
}

/** A timed unit for TensorFlow.js: `make` builds the output (inside tidy), kept on the GPU. */
export function tfRunnable(peer: TfPeer, make: () => tfc.Tensor): Runnable {
  let y: tfc.Tensor | null = null;
  return {
    launch() {
      y = peer.tf.tidy(make);
    },
    async gpuDone() {
      // tfjs batches dispatches in an open compute pass and submits lazily: close the pass and
      // submit (as its own read path does), then wait for the queue.
      const b = peer.backend;
      b.ensureCommandEncoderReady();
      b.endComputePassEncoder();
      b.submitQueue();
      await b.device.queue.onSubmittedWorkDone();
    },
    async read() {
      return (await y!.data()) as Float32Array;
    },
    release() {
      y?.dispose();
      y = null;
    },
  };
}

/** A GPU-resident input (uploaded once, before any timing). */
export function tfInput(peer: TfPeer, data: Float32Array, shape: number[]): tfc.Tensor {
  const t = peer.tf.tensor(data, shape, 'float32');
  // Touch it on the GPU so the upload is not part of the first timed run's cost.
  peer.tf.tidy(() => peer.tf.add(t, 0)).dispose();
  return t;
}
