// Which GPU buffers a model run owns, keyed by storage: views (Flatten, reshapes) share their
// base's buffer, so a buffer is freed once, when the last activation on it is no longer needed.
import type { Storage } from '../tensor.js';
import { Tensor } from '../tensor.js';

export class Ownership {
  private readonly owners = new Map<Storage, Tensor>();

  /** Takes ownership of a fresh op output (a view would not free its buffer on dispose). */
  add(t: Tensor): void {
    if (this.owners.has(t.storage)) return;
    this.owners.set(t.storage, t.isView ? new Tensor(t.engine, t.storage, t.shape, t.dtype) : t);
  }

  owns(t: Tensor): boolean {
    return this.owners.has(t.storage);
  }

  /** Frees t's buffer (and so every view on it). */
  free(t: Tensor): void {
    const owner = this.owners.get(t.storage);
    if (!owner) return;
    this.owners.delete(t.storage);
    owner.dispose();
  }

  /** Hands t's buffer to the caller: the result is no view, so disposing it frees the buffer. */
  release(t: Tensor): Tensor {
    if (!this.owners.delete(t.storage)) return t;
    return t.isView ? new Tensor(t.engine, t.storage, t.shape, t.dtype) : t;
  }

  freeAll(): void {
    for (const owner of this.owners.values()) owner.dispose();
    this.owners.clear();
  }

  get size(): number {
    return this.owners.size;
  }
}
