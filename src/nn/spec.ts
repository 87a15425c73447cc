// A model's architecture as a small JSON document, stored next to its weights (MODEL.json beside
// MODEL.safetensors), so a CLI or a page can rebuild the Sequential the weights belong to:
//   { "inputShape": [1, 28, 28],
//     "layers": [{ "type": "Conv2d", "cin": 1, "cout": 6, "kernel": 5 }, { "type": "ReLU" },
//                { "type": "MaxPool2d", "kernel": 2 }, { "type": "Flatten" },
//                { "type": "Linear", "in": 256, "out": 10 }],
//     "classes": ["T-shirt/top", ...], "mean": [0.286], "std": [0.353] }
// Layer fields are the constructors' arguments by name (cin/cout, in/out; inChannels/outChannels,
// inFeatures/outFeatures are read too); options keep their API.md names.
import type { Engine } from '../engine.js';
import { FullconvError, OptionError, ShapeError } from '../errors.js';
import { checkOptions, type PairOption, type PaddingOption } from '../geometry.js';
import { Flatten, ReLU, Softmax } from './basic_layers.js';
import { Conv2d, Linear } from './conv_layers.js';
import type { Layer } from './layer.js';
import { AvgPool2d, ChannelLpPool, LpPool2d, MaxPool2d } from './pool_layers.js';
import { Sequential } from './sequential.js';

export type LayerSpec =
  | { type: 'Conv2d'; cin: number; cout: number; kernel: PairOption; stride?: PairOption; padding?: PaddingOption; dilation?: PairOption; groups?: number; bias?: boolean }
  | { type: 'Linear'; in: number; out: number; bias?: boolean }
  | { type: 'ReLU' } | { type: 'Softmax' } | { type: 'Flatten' }
  | { type: 'MaxPool2d'; kernel: PairOption; stride?: PairOption; padding?: PaddingOption; dilation?: PairOption; ceilMode?: boolean }
  | { type: 'AvgPool2d'; kernel: PairOption; stride?: PairOption; padding?: PaddingOption; ceilMode?: boolean; countIncludePad?: boolean; divisorOverride?: number }
  | { type: 'LpPool2d'; p?: number; kernel: PairOption; stride?: PairOption; padding?: PaddingOption; ceilMode?: boolean }
  | { type: 'ChannelLpPool'; p?: number; size: number; stride?: number; padding?: number | Readonly<[number, number]> };

export interface ModelSpec {
  /** The training input [C, H, W]: what toFullyConvolutional needs. */
  inputShape?: [number, number, number];
  layers: LayerSpec[];
  /** Names of the output classes, in output order. */
  classes?: string[];
  /** Per-channel input normalisation used in training: x = (pixel / 255 - mean) / std. */
  mean?: number[];
  std?: number[];
}

const SPEC_KEYS = ['inputShape', 'layers', 'classes', 'mean', 'std'];

/** Each type's required and optional fields (besides 'type'). */
const LAYER_FIELDS: Record<LayerSpec['type'], { required: string[]; optional: string[] }> = {
  Conv2d: { required: ['cin', 'cout', 'kernel'], optional: ['stride', 'padding', 'dilation', 'groups', 'bias'] },
  Linear: { required: ['in', 'out'], optional: ['bias'] },
  ReLU: { required: [], optional: [] },
  Softmax: { required: [], optional: [] },
  Flatten: { required: [], optional: [] },
  MaxPool2d: { required: ['kernel'], optional: ['stride', 'padding', 'dilation', 'ceilMode'] },
  AvgPool2d: { required: ['kernel'], optional: ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride'] },
  LpPool2d: { required: ['kernel'], optional: ['p', 'stride', 'padding', 'ceilMode'] },
  ChannelLpPool: { required: ['size'], optional: ['p', 'stride', 'padding'] },
};

/** Constructor-name spellings accepted for the short field names (scripts/train.mjs writes these). */
const FIELD_ALIASES: Record<string, Record<string, string>> = {
  Conv2d: { inChannels: 'cin', outChannels: 'cout' },
  Linear: { inFeatures: 'in', outFeatures: 'out' },
};

/**
 * Checks a spec (an object or JSON text) and returns it typed; errors name the field, e.g.
 * layers[3].kernel. Also reads a training record that wraps the spec:
 * { architecture: { inputShape, layers }, input: { mean, std }, classes, ...anything else }.
 */
export function parseModelSpec(spec: unknown): ModelSpec {
  const op = 'modelSpec';
  let value = spec;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch (e) {
      throw new OptionError(`${op}: not valid JSON (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new OptionError(`${op}: expected an object { inputShape, layers }, got ${JSON.stringify(value)}`);
  if ('architecture' in value) value = unwrapRecord(op, value as Record<string, unknown>);
  checkOptions(op, value, SPEC_KEYS);
  const s = { ...(value as Record<string, unknown>) };
  if (s.inputShape !== undefined) {
    const shape = s.inputShape;
    if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((d) => Number.isSafeInteger(d) && d >= 1)) {
      throw new ShapeError(`${op}: inputShape must be [C, H, W] of integers >= 1, got ${JSON.stringify(shape)}`);
    }
  }
  if (!Array.isArray(s.layers)) throw new OptionError(`${op}: layers must be an array of { type, ... }, got ${JSON.stringify(s.layers)}`);
  s.layers = s.layers.map((layer, i) => checkLayerSpec(op, i, layer));
  if (s.classes !== undefined && (!Array.isArray(s.classes) || !s.classes.every((c) => typeof c === 'string'))) {
    throw new OptionError(`${op}: classes must be an array of strings, got ${JSON.stringify(s.classes)}`);
  }
  for (const key of ['mean', 'std'] as const) {
    const list = s[key];
    if (list !== undefined && (!Array.isArray(list) || list.length === 0 || !list.every((v) => typeof v === 'number' && Number.isFinite(v) && (key === 'mean' || v > 0)))) {
      throw new OptionError(`${op}: ${key} must be a non-empty array of finite numbers${key === 'std' ? ' > 0' : ''}, got ${JSON.stringify(list)}`);
    }
  }
  return s as unknown as ModelSpec;
}

/** The spec inside a training record: its architecture, with classes and input normalisation beside it. */
function unwrapRecord(op: string, record: Record<string, unknown>): Record<string, unknown> {
  const arch = record.architecture;
  if (arch === null || typeof arch !== 'object' || Array.isArray(arch)) throw new OptionError(`${op}: architecture must be an object { inputShape, layers }, got ${JSON.stringify(arch)}`);
  const input = (record.input ?? {}) as { mean?: unknown; std?: unknown };
  const asList = (v: unknown) => (typeof v === 'number' ? [v] : v);
  const out: Record<string, unknown> = { ...(arch as Record<string, unknown>) };
  if (out.classes === undefined && record.classes !== undefined) out.classes = record.classes;
  if (out.mean === undefined && input.mean !== undefined) out.mean = asList(input.mean);
  if (out.std === undefined && input.std !== undefined) out.std = asList(input.std);
  return out;
}

function checkLayerSpec(op: string, i: number, layer: unknown): LayerSpec {
  const where = `${op}: layers[${i}]`;
  if (layer === null || typeof layer !== 'object' || Array.isArray(layer)) throw new OptionError(`${where} must be an object { type, ... }, got ${JSON.stringify(layer)}`);
  const type = (layer as { type?: unknown }).type;
  const fields = typeof type === 'string' ? LAYER_FIELDS[type as LayerSpec['type']] : undefined;
  if (!fields) throw new OptionError(`${where}.type must be one of ${Object.keys(LAYER_FIELDS).join(', ')}, got ${JSON.stringify(type)}`);
  const named: Record<string, unknown> = { ...(layer as Record<string, unknown>) };
  for (const [alias, name] of Object.entries(FIELD_ALIASES[type as string] ?? {})) {
    if (!(alias in named)) continue;
    if (name in named) throw new OptionError(`${where} (${type}) gives both '${name}' and '${alias}'`);
    named[name] = named[alias];
    delete named[alias];
  }
  checkOptions(`${where} (${type})`, named, ['type', ...fields.required, ...fields.optional]);
  for (const name of fields.required) {
    if (named[name] === undefined) throw new OptionError(`${where} (${type}) needs '${name}'`);
  }
  return named as LayerSpec;
}

/** A fresh Sequential (torch's default init; seed optional) built from a spec; its layers check their arguments. */
export function modelFromSpec(engine: Engine, spec: ModelSpec | string, opts: { seed?: number } = {}): Sequential {
  const s = parseModelSpec(spec);
  const layers = s.layers.map((l, i) => {
    try {
      return buildLayer(l);
    } catch (e) {
      if (!(e instanceof FullconvError)) throw e;
      const Cls = e.constructor as new (message: string) => FullconvError;
      throw new Cls(`modelFromSpec: layers[${i}]: ${e.message}`);
    }
  });
  const model = new Sequential(engine, layers, opts);
  // Shape errors surface now, not at the first forward.
  if (s.inputShape) model.shapesFor([1, ...s.inputShape], 'modelFromSpec');
  return model;
}

function buildLayer(l: LayerSpec): Layer {
  switch (l.type) {
    case 'Conv2d': {
      const { type: _t, cin, cout, kernel, ...opts } = l;
      return new Conv2d(cin, cout, kernel, opts);
    }
    case 'Linear':
      return new Linear(l.in, l.out, l.bias === undefined ? {} : { bias: l.bias });
    case 'ReLU':
      return new ReLU();
    case 'Softmax':
      return new Softmax();
    case 'Flatten':
      return new Flatten();
    case 'MaxPool2d': {
      const { type: _t, ...opts } = l;
      return new MaxPool2d(opts);
    }
    case 'AvgPool2d': {
      const { type: _t, ...opts } = l;
      return new AvgPool2d(opts);
    }
    case 'LpPool2d': {
      const { type: _t, ...opts } = l;
      return new LpPool2d(opts);
    }
    case 'ChannelLpPool': {
      const { type: _t, ...opts } = l;
      return new ChannelLpPool(opts);
    }
  }
}

/** The spec of a model built from these layer types; `inputShape` defaults to a converted model's training shape. */
export function specOf(model: Sequential, inputShape?: readonly [number, number, number]): ModelSpec {
  const layers = model.layers.map((layer, i): LayerSpec => {
    if (layer instanceof Conv2d) return { type: 'Conv2d', cin: layer.inChannels, cout: layer.outChannels, kernel: compactPair(layer.kernel), ...layer.convOptions, ...(layer.hasBias ? {} : { bias: false }) };
    if (layer instanceof Linear) return { type: 'Linear', in: layer.inFeatures, out: layer.outFeatures, ...(layer.hasBias ? {} : { bias: false }) };
    if (layer instanceof ReLU) return { type: 'ReLU' };
    if (layer instanceof Softmax) return { type: 'Softmax' };
    if (layer instanceof Flatten) return { type: 'Flatten' };
    if (layer instanceof MaxPool2d) return { type: 'MaxPool2d', ...layer.options };
    if (layer instanceof AvgPool2d) return { type: 'AvgPool2d', ...layer.options };
    if (layer instanceof LpPool2d) return { type: 'LpPool2d', ...layer.options };
    if (layer instanceof ChannelLpPool) return { type: 'ChannelLpPool', ...layer.options };
    throw new OptionError(`specOf: layer ${i} ${layer.describe()} has no spec form`);
  });
  const shape = inputShape ?? model.minInputShape ?? undefined;
  return { ...(shape ? { inputShape: [...shape] as [number, number, number] } : {}), layers };
}

function compactPair(pair: readonly [number, number]): PairOption {
  return pair[0] === pair[1] ? pair[0] : [pair[0], pair[1]];
}
