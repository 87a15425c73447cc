// The library surface the demo uses. TEMPORARY: conv2d is not in src/index.ts yet.
export * from '../../src/index.js';
export { conv2d } from '../../src/ops/conv.js';
