// Loads TensorFlow.js with its WebGPU backend (browser bundle only).
import * as tf from '@tensorflow/tfjs-core';
// For its side effect: registers the webgpu backend, its kernels and its flags.
import '@tensorflow/tfjs-backend-webgpu';
// tf.grad needs the gradient registry (the composed L2 pool's backward).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { TfPeer } from './tfjs.js';

export async function loadTf(): Promise<TfPeer> {
  // Small ops would otherwise run on the CPU when their inputs are still CPU-side.
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  if (!(await tf.setBackend('webgpu'))) throw new Error('TensorFlow.js: the webgpu backend did not initialise');
  await tf.ready();
  const backend = tf.backend() as WebGPUBackend;
  return { tf, backend, version: tf.version_core };
}
