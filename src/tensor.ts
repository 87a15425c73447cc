// Tensor: a shape, a dtype and a GPU buffer owned by one Engine. Views (reshape) share storage.
import { TensorStateError } from './errors.js';
import type { Engine } from './engine.js';

export type DType = 'float32' | 'int32';
export type TensorData = Float32Array | Int32Array | number[];

/** The buffer behind a tensor and all its views. */
export interface Storage {
  buffer: GPUBuffer;
  /** Bytes the tensor uses (the buffer may be larger: pool buckets). */
  bytes: number;
  disposed: boolean;
  /** false for fromBuffer(): the caller owns the buffer and fullconv never reuses or destroys it. */
  owned: boolean;
}

const disposeSymbol: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('Symbol.dispose');

export class Tensor {
  readonly shape: readonly number[];
  private viewDisposed = false;

  /** @internal made by Engine; use engine.tensor / zeros / fromBuffer. */
  constructor(
    readonly engine: Engine,
    readonly storage: Storage,
    shape: readonly number[],
    readonly dtype: DType,
    readonly isView: boolean = false,
  ) {
    this.shape = Object.freeze([...shape]);
  }

  /** Number of elements. */
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  get byteLength(): number {
    return this.size * 4;
  }

  get disposed(): boolean {
    return this.viewDisposed || this.storage.disposed;
  }

  get buffer(): GPUBuffer {
    this.assertUsable('buffer');
    return this.storage.buffer;
  }

  /** Throws TensorStateError unless this tensor (and the engine behind it) can be used. */
  assertUsable(what: string): void {
    this.engine.assertAlive(what);
    if (this.viewDisposed) throw new TensorStateError(`${what}: the tensor [${this.shape}] was disposed`);
    if (this.storage.disposed) {
      throw new TensorStateError(
        this.isView
          ? `${what}: the tensor [${this.shape}] is a view of a disposed tensor`
          : `${what}: the tensor [${this.shape}] was disposed`,
      );
    }
  }

  read(): Promise<Float32Array | Int32Array> {
    return this.engine.readTensor(this);
  }

  write(data: TensorData): void {
    this.engine.writeTensor(this, data);
  }

  reshape(shape: number[]): Tensor {
    return this.engine.reshapeTensor(this, shape);
  }

  /** Returns the buffer to the engine's pool; safe while queued work still reads it. Twice is a no-op. */
  dispose(): void {
    if (this.isView) {
      this.viewDisposed = true;
      return;
    }
    if (this.storage.disposed || this.engine.isDisposed) return;
    this.engine.releaseStorage(this.storage);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  toString(): string {
    return `Tensor(${this.dtype}, [${this.shape.join(', ')}])`;
  }
}

// Where Symbol.dispose is missing (older runtimes), `using` cannot work anyway, but keep the method reachable.
if (disposeSymbol !== (Symbol as { dispose?: symbol }).dispose) {
  Object.defineProperty(Tensor.prototype, disposeSymbol, { value: Tensor.prototype.dispose });
}
