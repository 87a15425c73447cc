// Runs the selected cases on whatever engines this runtime has, checks each output before
// timing it, and reports one event per case. Shared by the browser page and the Node run.
import { NotAvailable, Unsupported, type Engine } from './api.js';
import { measureCeilings, type Ceilings } from './ceilings.js';
import { compare, crossCheck, PEER_TOLERANCE, REFERENCE_TOLERANCE } from './check.js';
import { convCases, convSmokeCase } from './cases/conv.js';
import { convGradCases, convGradSmokeCase } from './cases/conv_grad.js';
import { netCases, netSmokeCase } from './cases/nets.js';
import { poolCases, poolGradCases, poolGradSmokeCase, poolSmokeCase } from './cases/pool.js';
import { dispatchCase, fcnCase } from './cases/special.js';
import { FAMILIES, IMPLS, isCustom, type AnyCase, type CaseDef, type CustomCase, type CustomContext, type ImplName, type Prepared } from './cases/types.js';
import type { OrtPeer } from './peers/ort.js';
import type { TfPeer } from './peers/tfjs.js';
import type { BenchEvent, CaseResult, ImplResult, RunMeta } from './results.js';
import { firstRun, now, timeRuns, type TimingPlan } from './timing.js';

export interface RunOptions {
  /** Comma-separated family names, case ids, or regular expressions over ids. */
  cases: string | null;
  repeats: number | null;
  quick: boolean;
  smoke: boolean;
  /** Per engine and case: keep timing past the minimum runs while under this many ms. */
  budgetMs: number;
  /** Per engine and case: a slow one runs only as many timed runs as fit in this many ms (at least 1). */
  capMs: number;
}

export interface Peers {
  tf?: TfPeer;
  ort?: OrtPeer;
  /** Why a peer is absent from this run. */
  reasons: Partial<Record<ImplName, string>>;
}

export interface RunEnv {
  engine: Engine;
  /** A NaN-poisoning engine: fullconv's checked output comes from here. */
  checkEngine: Engine;
  peers: Peers;
  runtime: 'browser' | 'node';
  browser?: string;
  emit(e: BenchEvent): void | Promise<void>;
  /** Frees memory between cases where the runtime allows it. */
  collectGarbage?: () => void;
}

export const ALL_CASES: AnyCase[] = [...convCases, ...poolCases, ...convGradCases, ...poolGradCases, ...netCases, fcnCase, dispatchCase];
/** Small cases on the same code paths, one per family: what --smoke runs (and `npm test`). */
export const SMOKE_CASES: AnyCase[] = [convSmokeCase, poolSmokeCase, convGradSmokeCase, poolGradSmokeCase, netSmokeCase, fcnCase, dispatchCase];

export function selectCases(opts: Pick<RunOptions, 'cases' | 'smoke'>): AnyCase[] {
  let list = opts.smoke ? SMOKE_CASES : ALL_CASES;
  if (opts.cases) {
    const tokens = opts.cases.split(',').map((t) => t.trim()).filter(Boolean);
    list = list.filter((c) =>
      tokens.some((t) => ((FAMILIES as string[]).includes(t) ? c.family === t : c.id === t || new RegExp(t).test(c.id))),
    );
  }
  return list;
}

export function timingPlan(opts: RunOptions): TimingPlan {
  if (opts.repeats !== null) return { minRuns: opts.repeats, maxRuns: opts.repeats, budgetMs: 0 };
  if (opts.smoke) return { minRuns: 2, maxRuns: 2, budgetMs: 0 };
  if (opts.quick) return { minRuns: 3, maxRuns: 3, budgetMs: 0 };
  return { minRuns: 10, maxRuns: 40, budgetMs: opts.budgetMs, capMs: opts.capMs, floorRuns: 1 };
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n').slice(0, 4).join(' ').slice(0, 600);

function classify(e: unknown): ImplResult {
  if (e instanceof NotAvailable) return { status: 'not-available', reason: e.message };
  if (e instanceof Unsupported) return { status: 'unsupported', reason: e.message };
  return { status: 'failed', reason: errorText(e) };
}

async function prepare(impl: ImplName, def: CaseDef<unknown>, d: unknown, env: RunEnv, engine: Engine): Promise<Prepared> {
  if (impl === 'fullconv') return def.fullconv(engine, d);
  const factory = def[impl];
  if (typeof factory === 'string') throw new Unsupported(factory);
  if (impl === 'tfjs') {
    if (!env.peers.tf) throw new Unsupported(env.peers.reasons.tfjs ?? 'TensorFlow.js is not loaded');
    return (factory as (p: TfPeer, d: unknown) => Prepared | Promise<Prepared>)(env.peers.tf, d);
  }
  if (!env.peers.ort) throw new Unsupported(env.peers.reasons.ort ?? 'ONNX Runtime is not loaded');
  return (factory as (p: OrtPeer, d: unknown) => Prepared | Promise<Prepared>)(env.peers.ort, d);
}

async function runOpCase(def: CaseDef<unknown>, env: RunEnv, plan: TimingPlan, ceilings: Ceilings | null): Promise<CaseResult> {
  const start = now();
  const impls: Partial<Record<ImplName, ImplResult>> = {};
  const result: CaseResult = { id: def.id, family: def.family, title: def.title, shape: def.shape, work: def.work, impls, wallMs: 0 };
  const d = def.data();
  const prepared = new Map<ImplName, Prepared>();
  const outputs = new Map<ImplName, Float32Array>();
  const firstMs = new Map<ImplName, number>();
  try {
    for (const impl of IMPLS) {
      const r: ImplResult = { status: 'ok' };
      impls[impl] = r;
      try {
        const t0 = now();
        const p = await prepare(impl, def, d, env, env.engine);
        prepared.set(impl, p);
        r.setupMs = now() - t0;
        if (p.note) r.note = p.note;
        const first = await firstRun(p.runnable);
        firstMs.set(impl, first.firstMs);
        let out = p.canonical ? p.canonical(first.output) : first.output;
        if (impl === 'fullconv') {
          // The checked output comes from a NaN-poisoned engine, so an element no kernel wrote fails.
          const pc = await def.fullconv(env.checkEngine, d);
          const poisoned = await firstRun(pc.runnable);
          await pc.dispose();
          const differs = compare(out, poisoned.output, 'float', REFERENCE_TOLERANCE);
          if (differs) {
            r.status = 'wrong';
            r.reason = `output differs between the timed engine and a NaN-poisoned one (unwritten elements?): ${differs.message}`;
          }
          out = poisoned.output;
        }
        outputs.set(impl, out);
      } catch (e) {
        Object.assign(r, classify(e));
      }
    }
    const checks = crossCheck(outputs, () => def.reference(d), def.comparison, 'fullconv');
    for (const [impl, c] of checks) {
      const r = impls[impl as ImplName]!;
      r.check = c;
      if (!c.passed && r.status === 'ok') {
        r.status = 'wrong';
        r.reason = `wrong result vs ${c.against}: ${c.message ?? ''}`;
      }
    }
    for (const impl of IMPLS) {
      const r = impls[impl]!;
      const p = prepared.get(impl);
      if (r.status !== 'ok' || !p) continue;
      try {
        r.timing = await timeRuns(p.runnable, firstMs.get(impl)!, plan);
        r.rate = def.work.amount / (r.timing.gpuMs * 1e6);
        const ceiling = ceilings ? (def.work.unit === 'GFLOP/s' ? ceilings.fmaGflops : ceilings.copyGBps) : 0;
        if (ceiling > 0) r.fractionOfPeak = r.rate / ceiling;
      } catch (e) {
        Object.assign(r, classify(e));
        delete r.timing;
      }
    }
  } finally {
    for (const p of prepared.values()) {
      try {
        await p.dispose();
      } catch {
        // a failed engine may not dispose cleanly; the case result already says why
      }
    }
  }
  const fc = impls.fullconv?.timing;
  const peers = (['tfjs', 'ort'] as ImplName[]).filter((i) => impls[i]?.timing);
  if (fc && peers.length > 0) {
    const fastest = peers.reduce((a, b) => (impls[a]!.timing!.gpuMs <= impls[b]!.timing!.gpuMs ? a : b));
    result.fasterPeer = fastest;
    result.speedup = impls[fastest]!.timing!.gpuMs / fc.gpuMs;
    const fastestRead = Math.min(...peers.map((i) => impls[i]!.timing!.readMs));
    result.speedupRead = fastestRead / fc.readMs;
  }
  result.wallMs = now() - start;
  return result;
}

async function runCustomCase(c: CustomCase, env: RunEnv, ctx: CustomContext): Promise<CaseResult> {
  const start = now();
  const result: CaseResult = { id: c.id, family: c.family, title: c.title, shape: c.shape, wallMs: 0 };
  try {
    const out = await c.run(env.engine, ctx);
    result.status = out.check && !out.check.passed ? 'wrong' : 'ok';
    result.metrics = out.metrics;
    if (out.shape) result.shape = out.shape;
    if (out.variants) result.variants = out.variants;
    if (out.check) result.check = { ...out.check, tolerance: `rtol = atol·max = ${REFERENCE_TOLERANCE}` };
    if (out.notes?.length) result.notes = out.notes;
  } catch (e) {
    const r = classify(e);
    result.status = r.status;
    if (r.reason) result.reason = r.reason;
  }
  result.wallMs = now() - start;
  return result;
}

export function runMeta(env: RunEnv, opts: RunOptions): RunMeta {
  const a = env.engine.adapterInfo;
  const peers: RunMeta['peers'] = { fullconv: { status: 'loaded' } };
  peers.tfjs = env.peers.tf ? { version: env.peers.tf.version, status: 'loaded' } : { status: env.peers.reasons.tfjs ?? 'not loaded' };
  peers.ort = env.peers.ort ? { version: env.peers.ort.version, status: 'loaded' } : { status: env.peers.reasons.ort ?? 'not loaded' };
  return {
    date: new Date().toISOString(),
    runtime: env.runtime,
    ...(env.browser ? { browser: env.browser } : {}),
    adapter: { vendor: a.vendor, architecture: a.architecture, device: a.device, description: a.description, kind: a.kind },
    peers,
    options: { cases: opts.cases, repeats: opts.repeats, quick: opts.quick, smoke: opts.smoke, budgetMs: opts.budgetMs, capMs: opts.capMs },
    tolerance: {
      peer: `float32 engines against each other: |a−b| ≤ ${PEER_TOLERANCE}·|b| + ${PEER_TOLERANCE}·max|b| (API.md's rule 10× looser: different float32 summation orders); max-pool values exactly`,
      reference: `against the float64 reference (when engines disagree or only one ran): fullconv by API.md, |got−exp| ≤ ${REFERENCE_TOLERANCE}·|exp| + ${REFERENCE_TOLERANCE}·max|exp|; peers by the float32 rule`,
    },
    timingRule: `median of timed runs after a first run (compiles, uploads; the run whose output is checked): ${opts.repeats ?? (opts.smoke ? 2 : opts.quick ? 3 : 10)} runs${opts.repeats === null && !opts.smoke && !opts.quick ? ` (more while under ${opts.budgetMs} ms; fewer, at least 1, where 10 would pass ${opts.capMs / 1000} s — the runs column says)` : ''}; "GPU" = launch → GPU queue idle with the output kept on the GPU; "read" = the same runs continued until the output is on the CPU`,
  };
}

export async function runBench(env: RunEnv, opts: RunOptions): Promise<void> {
  const t0 = now();
  try {
    await env.emit({ kind: 'meta', meta: runMeta(env, opts) });
    const selected = selectCases(opts);
    const ceilings = await measureCeilings(env.engine.device, opts.quick || opts.smoke);
    await env.emit({ kind: 'ceilings', ceilings });
    const plan = timingPlan(opts);
    for (let i = 0; i < selected.length; i++) {
      const c = selected[i]!;
      await env.emit({ kind: 'start', id: c.id, index: i, total: selected.length });
      const result = isCustom(c) ? await runCustomCase(c, env, { plan, smoke: opts.smoke }) : await runOpCase(c, env, plan, ceilings);
      await env.emit({ kind: 'case', result, index: i, total: selected.length });
      env.collectGarbage?.();
    }
    await env.emit({ kind: 'done', totalMs: now() - t0 });
  } catch (e) {
    await env.emit({ kind: 'fatal', error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
}
