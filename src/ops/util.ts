// Small checks every op shares: tensors alive, of one engine, of the right dtype.
import { OptionError, ShapeError, TensorStateError } from '../errors.js';
import { Tensor } from '../tensor.js';
import type { Engine } from '../engine.js';

/** Checks that `t` is a usable float32 (or `dtype`) tensor of `engine` (the first tensor's when omitted). */
export function checkTensor(op: string, name: string, t: unknown, engine?: Engine, dtype: 'float32' | 'int32' = 'float32'): Tensor {
  if (!(t instanceof Tensor)) throw new OptionError(`${op}: '${name}' must be a Tensor, got ${t === null ? 'null' : typeof t}`);
  t.assertUsable(`${op} '${name}'`);
  if (engine && t.engine !== engine) throw new TensorStateError(`${op}: '${name}' is a tensor of another engine`);
  if (t.dtype !== dtype) throw new OptionError(`${op}: '${name}' must be ${dtype}, got ${t.dtype}`);
  return t;
}

export function checkRank(op: string, name: string, t: Tensor, rank: number): void {
  if (t.shape.length !== rank) throw new ShapeError(`${op}: '${name}' must have rank ${rank}, got shape [${t.shape.join(', ')}]`);
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
