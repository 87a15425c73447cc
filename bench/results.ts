// The shape of a bench run's results: what the page (or the Node run) reports and what the
// report writer turns into JSON, Markdown and SVG.
import type { Ceilings } from './ceilings.js';
import type { Family, ImplName, Metric, Work } from './cases/types.js';
import type { Timing } from './timing.js';

export type ImplStatus = 'ok' | 'unsupported' | 'not-available' | 'failed' | 'wrong';

export interface CheckRecord {
  passed: boolean;
  /** What the output was compared with: peers' names, or 'float64 reference'. */
  against: string;
  tolerance: string;
  maxAbsError: number;
  message?: string;
}

export interface ImplResult {
  status: ImplStatus;
  reason?: string;
  note?: string;
  /** Session / model / upload setup before the first run, ms (not part of any timing). */
  setupMs?: number;
  timing?: Timing;
  /** GFLOP/s or GB/s from the GPU-kept median. */
  rate?: number;
  /** rate / the adapter's ceiling (FMA peak or copy bandwidth). */
  fractionOfPeak?: number;
  check?: CheckRecord;
}

export interface CaseResult {
  id: string;
  family: Family;
  title: string;
  shape: string;
  work?: Work;
  impls?: Partial<Record<ImplName, ImplResult>>;
  /** fastest peer's GPU-kept ms / fullconv's: > 1 means fullconv is faster. */
  speedup?: number;
  /** The same with read-back. */
  speedupRead?: number;
  fasterPeer?: ImplName;
  /** Custom cases (dispatcher, fully convolutional). */
  status?: ImplStatus;
  reason?: string;
  metrics?: Metric[];
  variants?: { name: string; gpuMs: number; readMs: number; runs: number; firstMs: number }[];
  check?: CheckRecord;
  notes?: string[];
  wallMs: number;
}

export interface RunMeta {
  date: string;
  runtime: 'browser' | 'node';
  browser?: string;
  adapter: { vendor: string; architecture: string; device: string; description: string; kind: string };
  peers: Partial<Record<ImplName, { version?: string; status: string }>>;
  options: { cases: string | null; repeats: number | null; quick: boolean; smoke: boolean; budgetMs: number; capMs: number };
  tolerance: { peer: string; reference: string };
  timingRule: string;
}

export interface BenchResults {
  meta: RunMeta;
  ceilings: Ceilings | null;
  cases: CaseResult[];
  totalMs: number;
  /** Set when the run stopped early (a crash, a hang): the cases so far are still written. */
  incomplete?: boolean;
}

export type BenchEvent =
  | { kind: 'meta'; meta: RunMeta }
  | { kind: 'ceilings'; ceilings: Ceilings }
  | { kind: 'start'; id: string; index: number; total: number }
  | { kind: 'case'; result: CaseResult; index: number; total: number }
  | { kind: 'log'; text: string }
  | { kind: 'done'; totalMs: number }
  | { kind: 'fatal'; error: string };
