// Tiny assertions that work in Node and in the browser (node:assert is not bundled for Chromium).
import { FullconvError } from '../src/index.js';

export function ok(cond: unknown, message = 'assertion failed'): asserts cond {
  if (!cond) throw new Error(message);
}

export function equal<T>(got: T, exp: T, message = ''): void {
  if (got !== exp) throw new Error(`${message} expected ${String(exp)}, got ${String(got)}`);
}

export function deepEqual(got: unknown, exp: unknown, message = ''): void {
  const g = JSON.stringify(got);
  const e = JSON.stringify(exp);
  if (g !== e) throw new Error(`${message} expected ${e}, got ${g}`);
}

type ErrorClass = new (...args: never[]) => Error;

/** Expects `fn` to throw an instance of `cls` (FullconvError by default) whose message matches `pattern`. */
export function throws(fn: () => unknown, pattern?: RegExp, cls: ErrorClass = FullconvError): Error {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof cls)) throw new Error(`expected ${cls.name}, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    if (pattern && !pattern.test(e.message)) throw new Error(`error message ${JSON.stringify(e.message)} does not match ${pattern}`);
    return e;
  }
  throw new Error(`expected ${cls.name}${pattern ? ` matching ${pattern}` : ''}, but nothing was thrown`);
}

export async function rejects(fn: () => Promise<unknown>, pattern?: RegExp, cls: ErrorClass = FullconvError): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof cls)) throw new Error(`expected ${cls.name}, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    if (pattern && !pattern.test(e.message)) throw new Error(`error message ${JSON.stringify(e.message)} does not match ${pattern}`);
    return e;
  }
  throw new Error(`expected ${cls.name} to be thrown`);
}
