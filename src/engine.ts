// Engine: owns the device, the buffer pool, the pipeline cache and the queue of recorded GPU work.
// Ops record work and return at once; read() and flush() submit it.
import { DeviceLostError, FullconvError, LimitError, OptionError, ShapeError, TensorStateError } from './errors.js';
import { Tensor, type DType, type Storage, type TensorData } from './tensor.js';
import { acquireDevice, type AdapterSummary } from './runtime/device.js';
import { BufferPool } from './runtime/buffers.js';
import { CommandQueue, type Binding, type Workgroups } from './runtime/dispatch.js';
import { Kernel, type UniformValues } from './runtime/kernels.js';
import fillSource from '../shaders/fill.wgsl';

export interface EngineOptions {
  device?: GPUDevice;
  powerPreference?: GPUPowerPreference;
  /** Fill every op output with NaN before the op runs, so an element a kernel forgets shows (tests). */
  poison?: boolean;
}

export interface EngineStats {
  liveBytes: number;
  pooledBytes: number;
  /** Highest liveBytes since the engine started or resetPeak(). */
  peakLiveBytes: number;
  bufferAllocations: number;
  pipelinesCompiled: number;
  dispatches: number;
}

const fillKernel = new Kernel('fill.wgsl', fillSource, 'main');
/** A quiet NaN's bits; as int32 (2143289344) it is just as plainly wrong. */
const POISON_BITS = 0x7fc00000;
/** Pooled bytes kept for reuse beyond which idle buffers are destroyed after a submit. */
const MAX_POOLED_BYTES = 512 * 1024 * 1024;

export class Engine {
  readonly device: GPUDevice;
  readonly adapterInfo: AdapterSummary;
  readonly poison: boolean;
  private readonly pool: BufferPool;
  private readonly queue: CommandQueue;
  private readonly owned: Set<Storage> = new Set();
  private disposedFlag = false;
  private lostMessage: string | null = null;
  private gpuError: string | null = null;
  // Dawn's GPU object: it must stay referenced for the engine's life (collecting it crashes Node).
  private readonly keepAlive: unknown;

  /** @internal use createEngine(). */
  constructor(device: GPUDevice, adapterInfo: AdapterSummary, keepAlive: unknown, opts: EngineOptions) {
    this.device = device;
    this.adapterInfo = adapterInfo;
    this.keepAlive = keepAlive;
    this.poison = opts.poison ?? false;
    this.pool = new BufferPool(device);
    this.queue = new CommandQueue(device, () => this.pool.trim(MAX_POOLED_BYTES));
    device.lost.then((info) => {
      if (!this.disposedFlag) this.lostMessage = `${info.reason}: ${info.message}`;
    });
    device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
      this.gpuError ??= ev.error.message;
    };
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  get isDisposed(): boolean {
    return this.disposedFlag;
  }

  /** Keeps the Node GPU instance reachable from the engine (see constructor). */
  get nativeInstance(): unknown {
    return this.keepAlive;
  }

  assertAlive(what: string): void {
    if (this.disposedFlag) throw new TensorStateError(`${what}: the engine was disposed`);
    if (this.lostMessage !== null) throw new DeviceLostError(`${what}: the GPU device was lost (${this.lostMessage}); create a new engine`);
  }

  // ---- tensors -------------------------------------------------------------------------------

  tensor(data: TensorData, shape: number[]): Tensor {
    this.assertAlive('engine.tensor');
    const dtype = dtypeOf('engine.tensor', data);
    const dims = checkDims('engine.tensor', shape);
    const size = dims.reduce((a, b) => a * b, 1);
    if (data.length !== size) {
      throw new ShapeError(`engine.tensor: data has ${data.length} elements but shape [${dims}] needs ${size}`);
    }
    const t = this.allocate(dims, dtype, 'engine.tensor');
    this.queue.write(t.storage.buffer, toTyped(data, dtype));
    return t;
  }

  zeros(shape: number[], dtype: DType = 'float32'): Tensor {
    this.assertAlive('engine.zeros');
    const t = this.allocate(checkDims('engine.zeros', shape), dtype, 'engine.zeros');
    this.queue.clear(t.storage.buffer, t.byteLength);
    return t;
  }

  /** A tensor whose contents are undefined (NaN-poisoned when the engine poisons): for op outputs. */
  empty(shape: readonly number[], dtype: DType = 'float32', what = 'output'): Tensor {
    this.assertAlive(what);
    const t = this.allocate(checkDims(what, shape), dtype, what);
    if (this.poison) this.fill(t, POISON_BITS);
    return t;
  }

  /** Wraps a caller's buffer without copying; fullconv never destroys or reuses it. */
  fromBuffer(buffer: GPUBuffer, shape: number[], dtype: DType = 'float32'): Tensor {
    this.assertAlive('engine.fromBuffer');
    if (dtype !== 'float32' && dtype !== 'int32') throw new OptionError(`engine.fromBuffer: dtype must be 'float32' or 'int32', got ${String(dtype)}`);
    const dims = checkDims('engine.fromBuffer', shape);
    const bytes = dims.reduce((a, b) => a * b, 1) * 4;
    if (buffer.size < bytes) throw new ShapeError(`engine.fromBuffer: shape [${dims}] needs ${bytes} bytes but the buffer has ${buffer.size}`);
    if (!(buffer.usage & GPUBufferUsage.STORAGE)) throw new OptionError('engine.fromBuffer: the buffer needs GPUBufferUsage.STORAGE');
    return new Tensor(this, { buffer, bytes, disposed: false, owned: false }, dims, dtype);
  }

  /** Fills a tensor with a 32-bit pattern (queued). */
  fill(t: Tensor, bits: number): void {
    const n = t.size;
    this.run(fillKernel, { out: t }, { count: n, bits: bits >>> 0 }, Math.ceil(n / 256));
  }

  /** Fills a float32 tensor with a value (queued). */
  fillValue(t: Tensor, value: number): void {
    const f = new Float32Array([value]);
    this.fill(t, new Uint32Array(f.buffer)[0]!);
  }

  /** Copies a tensor's bytes into another of the same element count (queued). */
  copy(src: Tensor, dst: Tensor): void {
    src.assertUsable('copy');
    dst.assertUsable('copy');
    if (src.size !== dst.size) throw new ShapeError(`copy: ${src.size} elements into ${dst.size}`);
    this.queue.copy(src.storage.buffer, dst.storage.buffer, src.byteLength);
  }

  private allocate(dims: number[], dtype: DType, what: string): Tensor {
    const size = dims.reduce((a, b) => a * b, 1);
    const bytes = size * 4;
    const limit = Math.min(this.device.limits.maxBufferSize, this.device.limits.maxStorageBufferBindingSize);
    if (bytes > limit) {
      throw new LimitError(`${what}: shape [${dims}] needs ${bytes} bytes, over the device's limit of ${limit} bytes for one storage buffer`);
    }
    const storage: Storage = { buffer: this.pool.acquire(bytes), bytes, disposed: false, owned: true };
    this.owned.add(storage);
    return new Tensor(this, storage, dims, dtype);
  }

  /** @internal Tensor.dispose() */
  releaseStorage(storage: Storage): void {
    if (storage.disposed) return;
    storage.disposed = true;
    if (!storage.owned) return;
    this.owned.delete(storage);
    // Safe while queued work still reads it: later work that reuses the buffer is recorded, and so runs, after.
    this.pool.release(storage.buffer);
  }

  /** @internal Tensor.reshape() */
  reshapeTensor(t: Tensor, shape: number[]): Tensor {
    t.assertUsable('reshape');
    const dims = checkDims('reshape', shape);
    const size = dims.reduce((a, b) => a * b, 1);
    if (size !== t.size) throw new ShapeError(`reshape: [${t.shape}] has ${t.size} elements, [${dims}] has ${size}`);
    return new Tensor(this, t.storage, dims, t.dtype, true);
  }

  /** @internal Tensor.read() */
  async readTensor(t: Tensor): Promise<Float32Array | Int32Array> {
    t.assertUsable('read');
    const bytes = await this.queue.read(t.storage.buffer, t.byteLength);
    this.throwIfFailed('read');
    return t.dtype === 'int32' ? new Int32Array(bytes) : new Float32Array(bytes);
  }

  /** @internal Tensor.write() */
  writeTensor(t: Tensor, data: TensorData): void {
    t.assertUsable('write');
    const dtype = dtypeOf('write', data);
    if (data instanceof Float32Array || data instanceof Int32Array) {
      if (dtype !== t.dtype) throw new OptionError(`write: a ${dtype} array into a ${t.dtype} tensor`);
    }
    if (data.length !== t.size) throw new ShapeError(`write: data has ${data.length} elements, the tensor [${t.shape}] has ${t.size}`);
    this.queue.write(t.storage.buffer, toTyped(data, t.dtype));
  }

  // ---- dispatch ------------------------------------------------------------------------------

  /**
   * Records one dispatch. Bindings and uniform fields are named as in the WGSL. A number of
   * workgroups over the per-dimension limit is folded into a 2-D grid: kernels then use
   * `wid.x + wid.y * nwg.x` as their linear workgroup index and guard against the tail.
   */
  run(kernel: Kernel, bindings: Record<string, Tensor | GPUBuffer>, uniforms: UniformValues, workgroups: number | Workgroups, overrides: Record<string, number> = {}): void {
    this.assertAlive(kernel.label);
    this.throwIfFailed(kernel.label);
    const layout = kernel.layout;
    const resolved: Binding[] = [];
    const names = new Set(Object.keys(bindings));
    for (const b of layout.bindings) {
      if (b.kind === 'uniform') continue;
      const value = bindings[b.name];
      if (value === undefined) throw new FullconvError(`${kernel.label}: binding '${b.name}' is missing`);
      names.delete(b.name);
      let buffer: GPUBuffer;
      if (value instanceof Tensor) {
        value.assertUsable(`${kernel.label} '${b.name}'`);
        if (value.engine !== this) throw new TensorStateError(`${kernel.label}: '${b.name}' is a tensor of another engine`);
        buffer = value.storage.buffer;
        resolved.push({ binding: b.binding, buffer, size: value.byteLength, writable: b.kind === 'storage' });
      } else {
        buffer = value;
        resolved.push({ binding: b.binding, buffer, size: value.size, writable: b.kind === 'storage' });
      }
    }
    if (names.size > 0) throw new FullconvError(`${kernel.label}: unknown binding(s) ${[...names].join(', ')} (the entry point uses: ${layout.bindings.map((b) => b.name).join(', ')})`);
    for (const w of resolved) {
      if (!w.writable) continue;
      if (resolved.some((o) => o !== w && o.buffer === w.buffer)) {
        throw new FullconvError(`${kernel.label}: a buffer bound for writing is also bound as another argument (in-place use is not supported here)`);
      }
    }
    for (const name of Object.keys(overrides)) {
      if (!layout.overrides.has(name)) throw new FullconvError(`${kernel.label}: unknown override '${name}'`);
    }
    const uniformBytes = kernel.packUniforms(uniforms);
    const grid = this.fold(kernel.label, workgroups);
    if (grid[0] * grid[1] * grid[2] === 0) return;
    this.queue.dispatch(kernel, overrides, resolved, uniformBytes, grid);
  }

  private fold(label: string, workgroups: number | Workgroups): Workgroups {
    const max = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (typeof workgroups === 'number') {
      if (workgroups <= max) return [workgroups, 1, 1];
      const y = Math.ceil(workgroups / max);
      if (y > max) throw new LimitError(`${label}: ${workgroups} workgroups exceed ${max}² `);
      return [Math.ceil(workgroups / y), y, 1];
    }
    for (const n of workgroups) if (n > max) throw new LimitError(`${label}: a grid of [${workgroups}] workgroups has a dimension over ${max}`);
    return workgroups;
  }

  /** Submits all queued work; resolves when the GPU has finished it. */
  async flush(): Promise<void> {
    this.assertAlive('flush');
    await this.queue.flush(true);
    this.throwIfFailed('flush');
  }

  private throwIfFailed(what: string): void {
    if (this.lostMessage !== null) throw new DeviceLostError(`${what}: the GPU device was lost (${this.lostMessage}); create a new engine`);
    if (this.gpuError !== null) {
      const msg = this.gpuError;
      this.gpuError = null;
      throw new FullconvError(`${what}: the GPU reported an error: ${msg}`);
    }
  }

  stats(): EngineStats {
    return {
      liveBytes: this.pool.liveBytes,
      pooledBytes: this.pool.pooledBytes,
      peakLiveBytes: this.pool.peakLiveBytes,
      bufferAllocations: this.pool.allocations,
      pipelinesCompiled: this.queue.pipelinesCompiled,
      dispatches: this.queue.dispatchesSubmitted,
    };
  }

  /** Starts a new peak for stats().peakLiveBytes. */
  resetPeak(): void {
    this.pool.peakLiveBytes = this.pool.liveBytes;
  }

  /** Compiles (or finds) a kernel's pipeline ahead of its first use. */
  precompile(kernel: Kernel, overrides: Record<string, number> = {}): Promise<void> {
    return this.queue.pipeline(kernel, overrides).promise.then(() => undefined);
  }

  /** Frees every buffer; later use of the engine or its tensors throws. Twice is a no-op. */
  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    for (const s of this.owned) {
      s.disposed = true;
      s.buffer.destroy();
    }
    this.owned.clear();
    this.pool.destroyAll();
    this.queue.dispose();
  }
}

export async function createEngine(opts: EngineOptions = {}): Promise<Engine> {
  const known = ['device', 'powerPreference', 'poison'];
  for (const k of Object.keys(opts)) if (!known.includes(k)) throw new OptionError(`createEngine: unknown option '${k}' (known: ${known.join(', ')})`);
  const acquired = await acquireDevice(opts);
  return new Engine(acquired.device, acquired.adapterInfo, acquired.keepAlive, opts);
}

function dtypeOf(what: string, data: unknown): DType {
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Float32Array) return 'float32';
  if (Array.isArray(data)) {
    for (let i = 0; i < data.length; i++) {
      if (typeof data[i] !== 'number') throw new OptionError(`${what}: data[${i}] is ${typeof data[i]}, not a number`);
    }
    return 'float32';
  }
  const name = (data as { constructor?: { name?: string } } | null)?.constructor?.name ?? typeof data;
  throw new OptionError(`${what}: data must be a Float32Array, an Int32Array or a number[], got ${name}`);
}

function toTyped(data: TensorData, dtype: DType): Float32Array | Int32Array {
  if (data instanceof Float32Array || data instanceof Int32Array) return data;
  return dtype === 'int32' ? Int32Array.from(data) : Float32Array.from(data);
}

function checkDims(what: string, shape: readonly number[]): number[] {
  if (!Array.isArray(shape)) throw new ShapeError(`${what}: shape must be an array of positive integers, got ${String(shape)}`);
  shape.forEach((d, i) => {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 1) {
      throw new ShapeError(`${what}: shape [${shape.join(', ')}] has dimension ${i} = ${d}; dimensions are positive integers`);
    }
  });
  return [...shape];
}
