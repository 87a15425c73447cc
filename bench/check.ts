// Correctness before speed: every output is compared with the other engines' outputs on the
// same data, and with the float64 reference when they disagree or no peer can run the case.
import { allClose } from '../test/reference.js';

/** API.md's per-element rule, |got - exp| <= rtol·|exp| + atol·max|exp|, against float64. */
export const REFERENCE_TOLERANCE = 1e-5;
/**
 * Between two float32 engines: the same rule 10× looser. Each side may sit up to API.md's bound
 * from the truth, and their summation orders differ over reductions of up to 25 088 terms (L7).
 */
export const PEER_TOLERANCE = 1e-4;

export type Comparison = 'float' | 'exact';

export interface Mismatch {
  message: string;
  maxAbsError: number;
}

export function maxAbsError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i]! - b[i]!);
    if (!(e <= worst)) worst = e; // NaN propagates as the worst error
  }
  return worst;
}

/** null when got matches expected under the rule, else what differs. */
export function compare(got: ArrayLike<number>, expected: ArrayLike<number>, mode: Comparison, tolerance: number): Mismatch | null {
  const err = got.length === expected.length ? maxAbsError(got, expected) : Number.NaN;
  const message = mode === 'exact' ? allClose(got, expected, 0, 0) : allClose(got, expected, tolerance, tolerance);
  return message === null ? null : { message, maxAbsError: err };
}

export interface CheckOutcome {
  passed: boolean;
  against: string;
  tolerance: string;
  maxAbsError: number;
  message?: string;
}

const describeTolerance = (mode: Comparison, tol: number): string => (mode === 'exact' ? 'exact' : `rtol = atol·max = ${tol}`);

/**
 * Compares every engine's output with the others (the first name is the anchor: fullconv when it
 * ran). If all agree within PEER_TOLERANCE, all pass. If they disagree, or only one engine ran,
 * each is judged against the float64 reference: fullconv by API.md's tolerance, peers by the
 * looser float32 one (they promise no more).
 */
export function crossCheck(outputs: Map<string, Float32Array>, reference: () => ArrayLike<number>, mode: Comparison, strict: string): Map<string, CheckOutcome> {
  const names = [...outputs.keys()];
  const records = new Map<string, CheckOutcome>();
  if (names.length >= 2) {
    const anchor = outputs.get(names[0]!)!;
    const pairs = names.slice(1).map((n) => ({ name: n, mismatch: compare(outputs.get(n)!, anchor, mode, PEER_TOLERANCE), err: maxAbsError(outputs.get(n)!, anchor) }));
    if (pairs.every((p) => p.mismatch === null)) {
      for (const n of names) {
        const errs = n === names[0] ? pairs.map((p) => p.err) : [pairs.find((p) => p.name === n)!.err];
        records.set(n, { passed: true, against: names.filter((o) => o !== n).join(', '), tolerance: describeTolerance(mode, PEER_TOLERANCE), maxAbsError: Math.max(...errs) });
      }
      return records;
    }
  }
  const expected = reference();
  for (const n of names) {
    const tol = n === strict ? REFERENCE_TOLERANCE : PEER_TOLERANCE;
    const got = outputs.get(n)!;
    const mismatch = compare(got, expected, mode, tol);
    records.set(n, {
      passed: mismatch === null,
      against: names.length >= 2 ? 'float64 reference (the engines disagreed)' : 'float64 reference',
      tolerance: describeTolerance(mode, tol),
      maxAbsError: got.length === expected.length ? maxAbsError(got, expected) : Number.NaN,
      ...(mismatch ? { message: mismatch.message } : {}),
    });
  }
  return records;
}
