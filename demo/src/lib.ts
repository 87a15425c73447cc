// The library surface the demo uses. TEMPORARY: the app exports are not in src/index.ts yet.
export * from '../../src/index.js';
export { conv2d } from '../../src/ops/conv.js';
export { slidingWindow } from '../../src/app/sliding_window.js';
export { CLASS_PALETTE, HEAT_STOPS, colorizeClasses, colorizeHeatmap, readRGBA, rgbaTensor } from '../../src/app/colorize.js';
export { argmaxChannels } from '../../src/ops/argmax.js';
export { upsampleScoreMap } from '../../src/ops/upsample.js';
export { tensorFromImage } from '../../src/app/image.js';
export { modelFromSpec, parseModelSpec } from '../../src/nn/spec.js';
export type { ModelSpec } from '../../src/nn/spec.js';
