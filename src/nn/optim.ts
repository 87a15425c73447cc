// Optimizers that update parameters in place on the GPU (torch.optim semantics): one dispatch
// per parameter per step, nothing read back. Hyper-parameters travel in uniforms, so changing
// the learning rate between steps compiles nothing.
import { OptionError, ShapeError } from '../errors.js';
import { checkOptions } from '../geometry.js';
import type { Engine } from '../engine.js';
import { Kernel } from '../runtime/kernels.js';
import { Tensor } from '../tensor.js';
import { checkTensor } from '../ops/util.js';
import source from '../../shaders/optim.wgsl';

const sgdKernel = new Kernel('optim.wgsl', source, 'sgd_step');
const sgdMomentumKernel = new Kernel('optim.wgsl', source, 'sgd_momentum_step');
const adamKernel = new Kernel('optim.wgsl', source, 'adam_step');
const ELEMENTS_PER_WORKGROUP = 256;

/** What an optimizer can train: a Sequential, or anything with aligned parameters and gradients. */
export interface Trainable {
  parameters(): Tensor[];
  gradients(): Tensor[];
  zeroGrad?(): void;
  /** When present, names the state's tensors ('0.weight.exp_avg'); otherwise the index does ('0.exp_avg'). */
  namedParameters?(): [name: string, t: Tensor][];
}

/** An optimizer's state read back from the GPU: torch's names ('<param>.exp_avg', '.exp_avg_sq', '.momentum_buffer'). */
export interface OptimizerState {
  steps: number;
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
}

export interface SGDOptions { lr?: number; momentum?: number; dampening?: number; weightDecay?: number; nesterov?: boolean }
export interface AdamOptions { lr?: number; betas?: [number, number]; eps?: number; weightDecay?: number }

const SGD_OPTIONS = ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov'] as const;
const ADAM_OPTIONS = ['lr', 'betas', 'eps', 'weightDecay'] as const;

function nonNegative(op: string, name: string, value: unknown, dflt: number): number {
  if (value === undefined) return dflt;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new OptionError(`${op}: ${name} must be a finite number >= 0, got ${String(value)}`);
  }
  return value;
}

function unitInterval(op: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
    throw new OptionError(`${op}: ${name} must be a number in [0, 1), got ${String(value)}`);
  }
  return value;
}

function isTrainable(x: unknown): x is Trainable {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
    && typeof (x as Trainable).parameters === 'function' && typeof (x as Trainable).gradients === 'function';
}

/** Shared by SGD and Adam: where parameters come from, their checks, per-parameter state. */
export abstract class Optimizer {
  /** The learning rate of the next step; assign to schedule it. */
  lr: number;
  protected readonly engine: Engine;
  private readonly model: Trainable | null;
  private readonly fixedParams: Tensor[] | null;
  private readonly fixedGrads: Tensor[] | null;
  private readonly shapes: (readonly number[])[];
  private stepsTaken = 0;
  private readonly stateTensors: Tensor[] = [];

  protected constructor(protected readonly op: string, source: Trainable | Tensor[], grads: Tensor[] | null, lr: number) {
    this.lr = lr;
    if (isTrainable(source)) {
      this.model = source;
      this.fixedParams = null;
      this.fixedGrads = null;
    } else if (Array.isArray(source)) {
      if (!Array.isArray(grads)) throw new OptionError(`${op}: with a list of parameters, pass their gradients as the second argument (a Tensor[] of the same length)`);
      this.model = null;
      this.fixedParams = [...source];
      this.fixedGrads = [...grads];
    } else {
      throw new OptionError(`${op}: expected a model (with parameters() and gradients()) or a Tensor[] of parameters, got ${source === null ? 'null' : typeof source}`);
    }
    const [params, gradients] = this.current();
    if (params.length === 0) throw new OptionError(`${op}: there are no parameters to optimize`);
    this.engine = params[0]!.engine;
    this.shapes = params.map((p) => p.shape);
    this.check(params, gradients);
  }

  /** Steps taken so far (Adam's t after the next step is this + 1). */
  get steps(): number {
    return this.stepsTaken;
  }

  /** Parameters and gradients now: a model is asked every step, so replaced gradient tensors are followed. */
  private current(): [Tensor[], Tensor[]] {
    if (this.model) return [this.model.parameters(), this.model.gradients()];
    return [this.fixedParams!, this.fixedGrads!];
  }

  private check(params: Tensor[], grads: Tensor[]): void {
    const op = this.op;
    if (grads.length !== params.length) throw new ShapeError(`${op}: ${params.length} parameters but ${grads.length} gradients; they must be aligned`);
    if (params.length !== this.shapes.length) throw new ShapeError(`${op}: the model now has ${params.length} parameters, it had ${this.shapes.length} when the optimizer was made`);
    const seen = new Set<GPUBuffer>();
    params.forEach((p, i) => {
      checkTensor(op, `parameters[${i}]`, p, this.engine);
      const g = checkTensor(op, `gradients[${i}]`, grads[i], this.engine);
      const shape = this.shapes[i]!;
      if (p.size !== g.size || p.shape.length !== g.shape.length || p.shape.some((d, k) => d !== g.shape[k])) {
        throw new ShapeError(`${op}: parameters[${i}] [${p.shape}] and gradients[${i}] [${g.shape}] must have the same shape`);
      }
      if (p.shape.length !== shape.length || p.shape.some((d, k) => d !== shape[k])) {
        throw new ShapeError(`${op}: parameters[${i}] is now [${p.shape}], it was [${shape}] when the optimizer was made`);
      }
      // Updated in place: a parameter sharing storage with another (or with a gradient) would be stepped twice.
      if (seen.has(p.storage.buffer) || p.storage.buffer === g.storage.buffer) {
        throw new OptionError(`${op}: parameters[${i}] shares its storage with another parameter or with its gradient`);
      }
      seen.add(p.storage.buffer);
    });
  }

  /** One update of every parameter from its current gradient; queued, returns at once. */
  step(): void {
    const [params, grads] = this.current();
    this.check(params, grads);
    const lr = nonNegative(this.op, 'lr', this.lr, 0);
    this.stepsTaken++;
    params.forEach((p, i) => this.update(i, p, grads[i]!, lr, this.stepsTaken));
  }

  /** The steps taken and every state tensor, read back (e.g. for a checkpoint beside the weights). */
  async stateDict(): Promise<OptimizerState> {
    const names = this.parameterNames();
    const entries: [string, Tensor][] = [];
    this.shapes.forEach((_, i) => {
      const state = this.getState(i);
      if (state) this.stateKinds().forEach((kind, k) => entries.push([`${names[i]}.${kind}`, state[k]!]));
    });
    const values = await Promise.all(entries.map(([, t]) => t.read()));
    return { steps: this.stepsTaken, tensors: new Map(entries.map(([name, t], i) => [name, { shape: [...t.shape], data: values[i] as Float32Array }])) };
  }

  /** Replaces the state with a stateDict()'s, strictly: every tensor present (after a step) with its parameter's shape, no extras. */
  loadStateDict(state: OptimizerState): void {
    const op = `${this.op}.loadStateDict`;
    if (!Number.isSafeInteger(state.steps) || state.steps < 0) throw new OptionError(`${op}: steps must be an integer >= 0, got ${String(state.steps)}`);
    const names = this.parameterNames();
    // No state before the first step; after it every stateful optimizer has state for every parameter.
    const expected = state.steps > 0 ? this.stateKinds() : [];
    const wanted = new Set<string>();
    const loaded = this.shapes.map((shape, i) => expected.map((kind) => {
      const name = `${names[i]}.${kind}`;
      wanted.add(name);
      const entry = state.tensors.get(name);
      if (!entry) throw new ShapeError(`${op}: the state has no tensor '${name}' (steps ${state.steps})`);
      if (entry.shape.length !== shape.length || entry.shape.some((d, k) => d !== shape[k]) || entry.data.length !== shape.reduce((a, b) => a * b, 1)) {
        throw new ShapeError(`${op}: '${name}' has shape [${entry.shape.join(', ')}] (${entry.data.length} values), but the parameter is [${shape.join(', ')}]`);
      }
      return entry.data;
    }));
    for (const name of state.tensors.keys()) {
      if (!wanted.has(name)) throw new ShapeError(`${op}: unexpected tensor '${name}' in the state (expected ${wanted.size > 0 ? [...wanted].join(', ') : 'none at steps 0'})`);
    }
    this.dispose();
    this.stepsTaken = state.steps;
    loaded.forEach((datas, i) => {
      if (datas.length === 0) return;
      this.setState(i, datas.map((d) => {
        const t = this.engine.tensor(d, [...this.shapes[i]!]);
        this.stateTensors.push(t);
        return t;
      }));
    });
  }

  private parameterNames(): string[] {
    const named = this.model?.namedParameters?.();
    return named ? named.map(([name]) => name) : this.shapes.map((_, i) => String(i));
  }

  /** Zeroes the gradients (the model's zeroGrad() when it has one). */
  zeroGrad(): void {
    if (this.model?.zeroGrad) {
      this.model.zeroGrad();
      return;
    }
    for (const g of this.current()[1]) this.engine.fillValue(g, 0);
  }

  /** Frees the optimizer's state (momentum, Adam's averages); the next step starts afresh. */
  dispose(): void {
    for (const t of this.stateTensors) t.dispose();
    this.stateTensors.length = 0;
    this.stepsTaken = 0;
    this.resetState();
  }

  protected stateTensor(shape: readonly number[], zeroed: boolean): Tensor {
    const t = zeroed ? this.engine.zeros([...shape]) : this.engine.empty(shape, 'float32', this.op);
    this.stateTensors.push(t);
    return t;
  }

  protected workgroups(p: Tensor): number {
    return Math.ceil(p.size / ELEMENTS_PER_WORKGROUP);
  }

  protected abstract update(index: number, param: Tensor, grad: Tensor, lr: number, step: number): void;
  protected abstract resetState(): void;
  /** torch's state names for one parameter; empty when the optimizer keeps none. */
  protected abstract stateKinds(): string[];
  protected abstract getState(index: number): Tensor[] | undefined;
  protected abstract setState(index: number, tensors: Tensor[]): void;
}

/** torch.optim.SGD: momentum (with dampening, Nesterov) and weight decay added to the gradient. */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  private buffers: Tensor[] = [];

  constructor(params: Tensor[], grads: Tensor[], opts?: SGDOptions);
  constructor(model: Trainable, opts?: SGDOptions);
  constructor(source: Trainable | Tensor[], second?: Tensor[] | SGDOptions, third?: SGDOptions) {
    const opts = (Array.isArray(source) ? third : (second as SGDOptions | undefined)) ?? {};
    checkOptions('SGD', opts, SGD_OPTIONS);
    super('SGD', source, Array.isArray(source) ? (second as Tensor[]) : null, nonNegative('SGD', 'lr', opts.lr, 1e-3));
    this.momentum = nonNegative('SGD', 'momentum', opts.momentum, 0);
    this.dampening = nonNegative('SGD', 'dampening', opts.dampening, 0);
    this.weightDecay = nonNegative('SGD', 'weightDecay', opts.weightDecay, 0);
    if (opts.nesterov !== undefined && typeof opts.nesterov !== 'boolean') throw new OptionError(`SGD: nesterov must be true or false, got ${String(opts.nesterov)}`);
    this.nesterov = opts.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new OptionError(`SGD: nesterov needs momentum > 0 and dampening 0, got momentum ${this.momentum}, dampening ${this.dampening}`);
    }
  }

  protected update(index: number, param: Tensor, grad: Tensor, lr: number): void {
    const uniforms = { count: param.size, lr, weightDecay: this.weightDecay, momentum: this.momentum, dampening: this.dampening, firstStep: 0 };
    if (this.momentum === 0) {
      this.engine.run(sgdKernel, { param, grad }, uniforms, this.workgroups(param));
      return;
    }
    // torch starts the buffer at the first gradient itself (no dampening on that step).
    let firstStep = 0;
    if (!this.buffers[index]) {
      this.buffers[index] = this.stateTensor(param.shape, false);
      firstStep = 1;
    }
    this.engine.run(sgdMomentumKernel, { param, grad, momentumBuffer: this.buffers[index]! },
      { ...uniforms, firstStep }, this.workgroups(param), { NESTEROV: this.nesterov ? 1 : 0 });
  }

  protected resetState(): void {
    this.buffers = [];
  }

  protected stateKinds(): string[] {
    return this.momentum === 0 ? [] : ['momentum_buffer'];
  }

  protected getState(index: number): Tensor[] | undefined {
    const b = this.buffers[index];
    return b ? [b] : undefined;
  }

  protected setState(index: number, tensors: Tensor[]): void {
    this.buffers[index] = tensors[0]!;
  }
}

/** torch.optim.Adam: bias-corrected moments; weight decay is L2 added to the gradient. */
export class Adam extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private moments: { expAvg: Tensor; expAvgSq: Tensor }[] = [];

  constructor(params: Tensor[], grads: Tensor[], opts?: AdamOptions);
  constructor(model: Trainable, opts?: AdamOptions);
  constructor(source: Trainable | Tensor[], second?: Tensor[] | AdamOptions, third?: AdamOptions) {
    const op = new.target.name;
    const opts = (Array.isArray(source) ? third : (second as AdamOptions | undefined)) ?? {};
    checkOptions(op, opts, ADAM_OPTIONS);
    super(op, source, Array.isArray(source) ? (second as Tensor[]) : null, nonNegative(op, 'lr', opts.lr, 1e-3));
    const betas = opts.betas ?? [0.9, 0.999];
    if (!Array.isArray(betas) || betas.length !== 2) throw new OptionError(`${op}: betas must be a pair [beta1, beta2], got ${String(betas)}`);
    this.beta1 = unitInterval(op, 'betas[0]', betas[0]);
    this.beta2 = unitInterval(op, 'betas[1]', betas[1]);
    this.eps = nonNegative(op, 'eps', opts.eps, 1e-8);
    this.weightDecay = nonNegative(op, 'weightDecay', opts.weightDecay, this.defaultWeightDecay());
  }

  protected defaultWeightDecay(): number {
    return 0;
  }

  protected update(index: number, param: Tensor, grad: Tensor, lr: number, step: number): void {
    this.moments[index] ??= { expAvg: this.stateTensor(param.shape, true), expAvgSq: this.stateTensor(param.shape, true) };
    const { expAvg, expAvgSq } = this.moments[index]!;
    // Bias corrections in float64 here; the kernel sees only the two factors.
    const biasCorrection1 = 1 - this.beta1 ** step;
    const biasCorrection2 = 1 - this.beta2 ** step;
    this.engine.run(adamKernel, { param, grad, expAvg, expAvgSq }, {
      count: param.size, lr, weightDecay: this.weightDecay, beta1: this.beta1, beta2: this.beta2, eps: this.eps,
      stepSize: lr / biasCorrection1, biasCorrection2Sqrt: Math.sqrt(biasCorrection2),
    }, this.workgroups(param), { DECOUPLED: this.isDecoupled() ? 1 : 0 });
  }

  protected isDecoupled(): boolean {
    return false;
  }

  protected resetState(): void {
    this.moments = [];
  }

  protected stateKinds(): string[] {
    return ['exp_avg', 'exp_avg_sq'];
  }

  protected getState(index: number): Tensor[] | undefined {
    const m = this.moments[index];
    return m ? [m.expAvg, m.expAvgSq] : undefined;
  }

  protected setState(index: number, tensors: Tensor[]): void {
    this.moments[index] = { expAvg: tensors[0]!, expAvgSq: tensors[1]! };
  }
}

/** torch.optim.AdamW: Adam with decoupled weight decay (p *= 1 - lr·wd), default weightDecay 0.01. */
export class AdamW extends Adam {
  protected override defaultWeightDecay(): number {
    return 0.01;
  }

  protected override isDecoupled(): boolean {
    return true;
  }
}
