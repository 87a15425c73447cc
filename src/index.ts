// The public exports of ../shared/API.md, and a few documented extensions.
export { createEngine, Engine } from './engine.js';
export type { EngineOptions, EngineStats } from './engine.js';
export { Tensor } from './tensor.js';
export type { DType, TensorData } from './tensor.js';
export { FullconvError, ShapeError, OptionError, TensorStateError, LimitError, DeviceLostError } from './errors.js';
export type { AdapterSummary } from './runtime/device.js';
export { relu, reluGrad } from './ops/activation.js';
export { softmaxCrossEntropy } from './ops/loss.js';
export type { SoftmaxCrossEntropyResult } from './ops/loss.js';
export { SGD, Adam, AdamW, Optimizer } from './nn/optim.js';
export type { SGDOptions, AdamOptions, Trainable } from './nn/optim.js';
export { parseIdx, idxImageSet, DataFormatError } from './data/idx.js';
export type { IdxArray, IdxData, IdxTypeName, ImageSet } from './data/idx.js';
export { conv2dGradInput, conv2dGradWeight, conv2dGradBias } from './ops/conv_grad.js';
export { convTranspose2d, convTranspose2dGradInput, convTranspose2dGradWeight } from './ops/conv_transpose.js';
