// Sequential: a list of layers run in order, with PyTorch's parameter names, gradients that
// accumulate on the GPU, and memory freed by liveness: in eval mode each activation is freed as
// soon as the next layer has consumed it; in training mode only what some backward reads is kept.
import { Engine } from '../engine.js';
import { FullconvError, OptionError, ShapeError, TensorStateError } from '../errors.js';
import { checkOptions, checkShape, composeReceptiveField, type LayerGeom, type Pair } from '../geometry.js';
import { accumulate } from '../ops/accumulate.js';
import { checkTensor } from '../ops/util.js';
import type { Tensor } from '../tensor.js';
import { Conv2d, Linear } from './conv_layers.js';
import { ReLU } from './basic_layers.js';
import { convertToFullyConvolutional } from './fully_convolutional.js';
import { makeRng, uniformInit } from './init.js';
import { Layer } from './layer.js';
import { Ownership } from './ownership.js';
import { forwardTiled, needsTiling } from './tiling.js';

export interface SequentialOptions {
  /** Seed of the RNG that draws fresh parameters (torch's default ranges); random when omitted. */
  seed?: number;
}

export interface ForwardOptions {
  /**
   * Largest activation tensor allowed, in bytes: a larger image runs tile by tile (eval mode),
   * stitching a score map equal to the whole-image one. Without it, only activations over the
   * device's storage-binding limit make the model tile.
   */
  maxActivationBytes?: number;
}

export interface ModelGeometry {
  outputShape: number[];
  /** Input pixels each output cell sees, per axis [h, w]. */
  receptiveField: Pair;
  /** Input pixels between neighbouring output cells (the total stride). */
  jump: Pair;
  /** Where cell (0, 0) is centred in input pixel coordinates: cell (i, j) at offset + jump * (i, j). */
  offset: Pair;
}

/** What a training-mode forward keeps for backward. */
interface Tape {
  /** shapes[i] is layer i's input; shapes[L] the output. */
  shapes: number[][];
  /** activations[i] is layer i's input (kept only where a backward reads it). */
  activations: Tensor[];
  saved: (Tensor | null)[];
  owned: Ownership;
}

interface NamedParameter {
  name: string;
  tensor: Tensor;
}

export class Sequential {
  readonly engine: Engine;
  readonly layers: readonly Layer[];
  /** Training mode keeps what backward needs; eval mode frees activations as it goes. */
  training = true;
  /** @internal set on models from toFullyConvolutional: the smallest input [C, H, W] they accept. */
  minInputShape: readonly [number, number, number] | null = null;
  private readonly named: NamedParameter[] = [];
  private grads: Tensor[] | null = null;
  private tape: Tape | null = null;
  /** Whether the latest forward ran in eval mode (then backward has nothing to work from). */
  private lastForwardEval = false;

  constructor(engine: Engine, layers: Layer[], opts: SequentialOptions = {}) {
    if (!(engine instanceof Engine)) throw new OptionError(`Sequential: the first argument must be an Engine, got ${describeValue(engine)}`);
    engine.assertAlive('Sequential');
    if (!Array.isArray(layers)) throw new OptionError(`Sequential: layers must be an array of layers, got ${describeValue(layers)}`);
    checkOptions('Sequential', opts, ['seed']);
    layers.forEach((layer, i) => {
      if (!(layer instanceof Layer)) throw new OptionError(`Sequential: layers[${i}] is not a layer (make it with new Conv2d(...), new ReLU(), ...), got ${describeValue(layer)}`);
      if (layer.owner !== null) throw new OptionError(`Sequential: layers[${i}] (${layer.describe()}) already belongs to another Sequential; make a new layer`);
      if (layers.indexOf(layer) !== i) throw new OptionError(`Sequential: layers[${i}] is the same object as layers[${layers.indexOf(layer)}]; make a new layer`);
    });
    const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 32);
    if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) throw new OptionError(`Sequential: seed must be an integer, got ${describeValue(seed)}`);
    const rng = makeRng(seed);
    this.engine = engine;
    this.layers = [...layers];
    this.layers.forEach((layer, i) => {
      const specs = layer.paramSpecs();
      if (layer.params.length === 0) {
        // torch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight (kaiming_uniform_, a = sqrt(5)) and bias.
        layer.params = specs.map((s) => engine.tensor(uniformInit(rng, s.shape, 1 / Math.sqrt(s.fanIn)), s.shape));
      }
      layer.owner = this;
      specs.forEach((s, k) => this.named.push({ name: `${i}.${s.name}`, tensor: layer.params[k]! }));
    });
  }

  train(mode = true): this {
    this.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  parameters(): Tensor[] {
    return this.named.map((p) => p.tensor);
  }

  namedParameters(): [name: string, t: Tensor][] {
    return this.named.map((p) => [p.name, p.tensor]);
  }

  /** Accumulated gradients, aligned with parameters(); zeros before any backward. */
  gradients(): Tensor[] {
    return [...this.gradTensors()];
  }

  zeroGrad(): void {
    for (const g of this.grads ?? []) this.engine.fillValue(g, 0);
  }

  private gradTensors(): Tensor[] {
    this.grads ??= this.named.map((p) => this.engine.zeros([...p.tensor.shape]));
    return this.grads;
  }

  /** Writes every parameter; strict like torch: a missing or unknown name or a wrong length throws, and nothing is written. */
  loadParameters(record: Record<string, Float32Array>): void {
    const op = 'loadParameters';
    if (record === null || typeof record !== 'object' || Array.isArray(record)) {
      throw new OptionError(`${op}: expected an object of name -> Float32Array, got ${describeValue(record)}`);
    }
    const known = new Map(this.named.map((p) => [p.name, p.tensor]));
    const unknown = Object.keys(record).filter((k) => !known.has(k));
    if (unknown.length > 0) throw new OptionError(`${op}: unknown parameter name(s) ${unknown.map((n) => `'${n}'`).join(', ')}; this model has ${[...known.keys()].join(', ') || 'no parameters'}`);
    const missing = [...known.keys()].filter((k) => !(k in record));
    if (missing.length > 0) throw new OptionError(`${op}: missing parameter(s) ${missing.map((n) => `'${n}'`).join(', ')}`);
    for (const [name, t] of known) {
      const data = record[name];
      if (!(data instanceof Float32Array)) throw new OptionError(`${op}: '${name}' must be a Float32Array, got ${describeValue(data)}`);
      if (data.length !== t.size) throw new ShapeError(`${op}: '${name}' has ${data.length} values, but the parameter [${t.shape.join(', ')}] has ${t.size}`);
    }
    for (const [name, t] of known) t.write(record[name]!);
  }

  // ------------------------------------------------------------------------------- shapes

  /** Every layer's input shape and the output shape, validated before any GPU work. */
  shapesFor(inputShape: readonly number[], what = 'Sequential.forward'): number[][] {
    checkShape(what, 'input', inputShape);
    this.checkMinInput(what, inputShape);
    const shapes = [[...inputShape]];
    this.layers.forEach((layer, i) => {
      shapes.push(withLayerContext(what, i, layer, () => layer.outputShape(shapes[i]!)));
    });
    return shapes;
  }

  private checkMinInput(what: string, inputShape: readonly number[]): void {
    const min = this.minInputShape;
    if (!min) return;
    const [C, H, W] = min;
    if (inputShape.length !== 4) throw new ShapeError(`${what}: a fully convolutional model takes [N, ${C}, H, W] with H >= ${H}, W >= ${W}; got shape [${inputShape.join(', ')}]`);
    const [, c, h, w] = inputShape as [number, number, number, number];
    if (c !== C) throw new ShapeError(`${what}: the input has ${c} channels, the model was trained on ${C}`);
    if (h < H || w < W) {
      throw new ShapeError(`${what}: the input ${h}×${w} is smaller than the training size ${H}×${W}; a fully convolutional model needs H >= ${H} and W >= ${W}`);
    }
  }

  /** Output shape, receptive field, jump and offset of the output cells for an input [N, C, H, W] or [C, H, W]. */
  geometry(inputShape: readonly number[]): ModelGeometry {
    checkShape('geometry', 'inputShape', inputShape);
    const batched = inputShape.length === 3 ? [1, ...inputShape] : [...inputShape];
    const shapes = this.shapesFor(batched, 'geometry');
    const rf = composeReceptiveField(this.receptiveSteps(shapes));
    const out = shapes[shapes.length - 1]!;
    return { outputShape: inputShape.length === 3 ? out.slice(1) : out, ...rf };
  }

  /** @internal each layer's window geometry for the layer inputs `shapes` (from shapesFor). */
  receptiveSteps(shapes: readonly (readonly number[])[]): LayerGeom[] {
    return this.layers.map((layer, i) => withLayerContext('geometry', i, layer, () => layer.receptive(shapes[i]!)));
  }

  // ------------------------------------------------------------------------------ forward

  forward(x: Tensor, opts: ForwardOptions = {}): Tensor {
    checkTensor('Sequential.forward', 'x', x, this.engine);
    checkOptions('Sequential.forward', opts, ['maxActivationBytes']);
    const shapes = this.shapesFor(x.shape);
    const budget = opts.maxActivationBytes;
    if (budget !== undefined && (typeof budget !== 'number' || !(budget > 0))) {
      throw new OptionError(`Sequential.forward: maxActivationBytes must be a positive number, got ${describeValue(budget)}`);
    }
    const limit = Math.min(this.engine.limits.maxStorageBufferBindingSize, this.engine.limits.maxBufferSize);
    if (needsTiling(shapes, Math.min(budget ?? limit, limit))) {
      if (this.training) {
        throw new OptionError(`Sequential.forward: an activation of this input exceeds ${budget !== undefined ? `maxActivationBytes ${budget}` : `the device's storage-binding limit ${limit} bytes`}; ` +
          'tiled inference keeps nothing for backward: call model.eval() first');
      }
      this.dropTape();
      this.lastForwardEval = true;
      return forwardTiled(this, x, { maxActivationBytes: Math.min(budget ?? limit, limit) });
    }
    return this.forwardWhole(x, shapes);
  }

  /** @internal one pass over the whole input, no tiling; `shapes` from shapesFor(x.shape). */
  forwardWhole(x: Tensor, shapes: number[][]): Tensor {
    this.dropTape();
    const training = this.training;
    this.lastForwardEval = !training;
    const L = this.layers.length;
    const owned = new Ownership();
    const activations: Tensor[] = [x];
    const saved: (Tensor | null)[] = [];
    let current = x;
    // Whether backward reads any activation on current's buffer (views share a buffer).
    let currentNeeded = training && (this.layers[0]?.needsInput ?? false);
    try {
      for (let i = 0; i < L; i++) {
        const layer = this.layers[i]!;
        const fuseRelu = !training && (layer instanceof Conv2d || layer instanceof Linear) && this.layers[i + 1] instanceof ReLU;
        const out = layer.forward(current, training, fuseRelu ? 'relu' : undefined);
        if (out.saved) owned.add(out.saved);
        const y = out.y;
        const shared = y.storage === current.storage;
        if (!shared) {
          owned.add(y);
          if (!currentNeeded) owned.free(current);
          currentNeeded = false;
        }
        if (fuseRelu) i++;
        if (training) {
          activations.push(y);
          saved.push(out.saved ?? null);
          currentNeeded ||= layer.needsOutput || (this.layers[i + 1]?.needsInput ?? false);
        }
        current = y;
      }
    } catch (e) {
      owned.freeAll(); // a failed forward leaves nothing allocated behind
      throw e;
    }
    const result = owned.release(current);
    if (training) {
      activations[L] = result;
      this.tape = { shapes, activations, saved, owned };
    }
    return L === 0 ? x.reshape([...x.shape]) : result;
  }

  // ----------------------------------------------------------------------------- backward

  /** dx for dy = d(loss)/d(output) of the latest forward; adds the parameter gradients to gradients(). */
  backward(dy: Tensor): Tensor {
    const op = 'Sequential.backward';
    const tape = this.tape;
    if (!tape) {
      throw new FullconvError(this.lastForwardEval
        ? `${op}: the latest forward ran in eval mode and kept nothing for backward; call model.train() before forward`
        : `${op}: call forward before backward`);
    }
    checkTensor(op, 'dy', dy, this.engine);
    const outShape = tape.shapes[tape.shapes.length - 1]!;
    if (dy.shape.length !== outShape.length || dy.shape.some((d, i) => d !== outShape[i])) {
      throw new ShapeError(`${op}: dy has shape [${dy.shape.join(', ')}], but the latest forward's output is [${outShape.join(', ')}]`);
    }
    const L = this.layers.length;
    const last = this.layers[L - 1];
    if (last?.needsOutput && tape.activations[L]!.disposed) {
      throw new TensorStateError(`${op}: the output of forward was disposed, but the last layer ${last.describe()} needs it for backward; dispose it after backward`);
    }
    const grads = this.gradTensors();
    let gradIndex = grads.length;
    const owned = new Ownership();
    let current = dy;
    try {
      for (let i = L - 1; i >= 0; i--) {
        const layer = this.layers[i]!;
        const g = layer.backward(current, {
          x: layer.needsInput ? tape.activations[i]! : null,
          xShape: tape.shapes[i]!,
          y: layer.needsOutput ? tape.activations[i + 1]! : null,
          saved: tape.saved[i] ?? null,
        });
        gradIndex -= g.params.length;
        g.params.forEach((p, k) => {
          accumulate(grads[gradIndex + k]!, p);
          p.dispose();
        });
        if (g.dx.storage !== current.storage) {
          owned.add(g.dx);
          owned.free(current);
        }
        current = g.dx;
      }
    } catch (e) {
      owned.freeAll();
      throw e;
    }
    return L === 0 ? dy.reshape([...dy.shape]) : owned.release(current);
  }

  private dropTape(): void {
    this.tape?.owned.freeAll();
    this.tape = null;
  }

  // ------------------------------------------------------------------- fully convolutional

  /**
   * The same network as a fully convolutional one: Flatten + Linear becomes a Conv2d whose kernel
   * is the spatial size left at the Flatten for a [C, H, W] training input; later Linear layers
   * become 1×1 Conv2d. Its parameters are reshaped views of this model's (shared storage). It
   * starts in eval mode, as it is made for dense inference (activations freed as it goes, Conv2d +
   * ReLU fused, big images tiled); call .train() on it to backpropagate through it.
   */
  toFullyConvolutional(trainedInputShape: [number, number, number]): Sequential {
    const op = 'toFullyConvolutional';
    checkShape(op, 'trainedInputShape', trainedInputShape, 3);
    const shapes = this.shapesFor([1, ...trainedInputShape], op);
    const layers = convertToFullyConvolutional(this.layers, shapes);
    const model = new Sequential(this.engine, layers);
    model.minInputShape = [...trainedInputShape] as [number, number, number];
    return model.eval();
  }

  /** Frees the parameters (views only drop themselves), gradients and kept activations. */
  dispose(): void {
    this.dropTape();
    for (const p of this.named) p.tensor.dispose();
    for (const g of this.grads ?? []) g.dispose();
    this.grads = null;
  }

  toString(): string {
    return `Sequential(\n${this.layers.map((l, i) => `  (${i}): ${l.describe()}`).join('\n')}\n)`;
  }
}

/** Runs fn, prefixing a FullconvError's message with the layer it came from (same error class). */
function withLayerContext<T>(what: string, index: number, layer: Layer, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof FullconvError)) throw e;
    const Cls = e.constructor as new (message: string) => FullconvError;
    throw new Cls(`${what}: layer ${index} ${layer.describe()}: ${e.message}`);
  }
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return (value as { constructor?: { name?: string } }).constructor?.name ?? 'an object';
  return `${typeof value} ${String(value)}`;
}
