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
export type { SGDOptions, AdamOptions, Trainable, OptimizerState } from './nn/optim.js';
export { parseIdx, idxImageSet, DataFormatError } from './data/idx.js';
export type { IdxArray, IdxData, IdxTypeName, ImageSet } from './data/idx.js';
export { conv2dGradInput, conv2dGradWeight, conv2dGradBias } from './ops/conv_grad.js';
export { convTranspose2d, convTranspose2dGradInput, convTranspose2dGradWeight } from './ops/conv_transpose.js';
export {
  maxPool2d, maxPool2dWithIndices, avgPool2d, lpPool2d, maxPool2dGrad, avgPool2dGrad, lpPool2dGrad,
} from './ops/pool.js';
export type { AvgPool2dOptions, LpPool2dOptions, MaxPool2dOptions } from './ops/pool.js';
export { channelLpPool, channelLpPoolGrad } from './ops/channel_pool.js';
export type { ChannelLpPoolOptions } from './ops/channel_pool.js';
export {
  globalMaxPool, globalMaxPoolWithIndices, globalAvgPool, globalLpPool,
  globalMaxPoolGrad, globalAvgPoolGrad, globalLpPoolGrad,
} from './ops/global_pool.js';
export { Sequential } from './nn/sequential.js';
export type { SequentialOptions, ForwardOptions, ModelGeometry } from './nn/sequential.js';
export { Layer } from './nn/layer.js';
export { Conv2d, Linear } from './nn/conv_layers.js';
export type { Conv2dLayerOptions, LinearOptions } from './nn/conv_layers.js';
export { ReLU, Softmax, Flatten } from './nn/basic_layers.js';
export { MaxPool2d, AvgPool2d, LpPool2d, ChannelLpPool } from './nn/pool_layers.js';
export { forwardTiled, planTiles } from './nn/tiling.js';
export type { TiledForwardOptions, TilePlan, AxisTile } from './nn/tiling.js';
export { saveSafetensors, loadSafetensors, encodeSafetensors, decodeSafetensors } from './nn/safetensors.js';
export type { SafetensorsTensor, DecodedSafetensors } from './nn/safetensors.js';
export { softmax, softmaxGrad } from './ops/softmax.js';
export { crop2d, extractPatches, pasteWindow } from './ops/crop.js';
export { accumulate } from './ops/accumulate.js';
// Pictures in and out: score maps to images, images to tensors, the sliding-window baseline, model specs.
export { upsampleBilinear, upsampleScoreMap } from './ops/upsample.js';
export type { UpsampleOptions, ScoreMapPlacement } from './ops/upsample.js';
export { argmaxChannels } from './ops/argmax.js';
export type { ArgmaxOptions } from './ops/argmax.js';
export { colorizeHeatmap, colorizeClasses, rgbaTensor, readRGBA, HEAT_STOPS, CLASS_PALETTE } from './app/colorize.js';
export type { HeatmapOptions, ClassColorOptions, BlendOptions, RGB } from './app/colorize.js';
export { scoreMapPicture } from './app/render.js';
export type { ScoreMapPictureOptions } from './app/render.js';
export { tensorFromImage } from './app/image.js';
export type { ImageSource, ImageTensorOptions, RGBAImage } from './app/image.js';
export { slidingWindow } from './app/sliding_window.js';
export type { SlidingWindowOptions } from './app/sliding_window.js';
export { modelFromSpec, specOf, parseModelSpec } from './nn/spec.js';
export type { ModelSpec, LayerSpec } from './nn/spec.js';
export { ARCHITECTURES, FASHION_MNIST_CLASSES } from './app/architectures.js';
export { conv2d } from './ops/conv.js';
