// Turns a bench run into its files: results JSON, a Markdown table per family, an SVG bar chart,
// and the terminal's progress line per case. Runs in Node (scripts/bench.mjs).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { IMPLS, IMPL_LABEL, type Family, type ImplName } from './cases/types.js';
import type { BenchResults, CaseResult, ImplResult, RunMeta } from './results.js';

const FAMILY_TITLE: Record<Family, string> = {
  conv: 'conv2d forward',
  pool: 'pooling forward',
  'conv-grad': 'conv2d gradients',
  'pool-grad': 'pooling gradients',
  net: 'whole networks, forward',
  fcn: 'fully convolutional vs sliding window',
  dispatch: 'dispatcher costs (fullconv)',
};

const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const rate = (v: number): string => (v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3));
const pct = (v: number): string => `${(100 * v).toFixed(v >= 0.1 ? 1 : 2)}%`;
const sci = (v: number): string => (Number.isFinite(v) ? v.toExponential(1) : String(v));
const value = (v: number): string => (Number.isInteger(v) ? String(v) : rate(v));

function statusWord(r: ImplResult): string {
  switch (r.status) {
    case 'ok':
      return 'ok';
    case 'not-available':
      return 'not yet available';
    case 'unsupported':
      return 'unsupported';
    case 'wrong':
      return 'WRONG RESULT';
    case 'failed':
      return 'FAILED';
  }
}

export function progressLine(r: CaseResult, index: number, total: number): string {
  const head = `[${String(index + 1).padStart(String(total).length)}/${total}] ${r.id} (${r.shape})`;
  const secs = `${(r.wallMs / 1000).toFixed(1)} s`;
  if (r.impls) {
    const parts = IMPLS.map((i) => {
      const x = r.impls![i];
      if (!x) return `${IMPL_LABEL[i]} -`;
      if (x.status === 'ok' && x.timing) {
        const p = x.fractionOfPeak !== undefined ? `, ${pct(x.fractionOfPeak)} of peak` : '';
        return `${IMPL_LABEL[i]} ${ms(x.timing.gpuMs)} ms (${rate(x.rate!)} ${r.work!.unit}${p})`;
      }
      return `${IMPL_LABEL[i]} ${statusWord(x)}`;
    });
    const fc = r.impls.fullconv;
    const check = fc?.check ? (fc.check.passed ? `check ok vs ${fc.check.against}` : `CHECK FAILED vs ${fc.check.against}`) : '';
    const sp = r.speedup !== undefined ? `fullconv ${r.speedup.toFixed(2)}× ${IMPL_LABEL[r.fasterPeer!]}` : '';
    return [head, ...parts, sp, check, secs].filter(Boolean).join(' | ');
  }
  if (r.status !== 'ok') return `${head} | ${r.status}: ${r.reason ?? ''} | ${secs}`;
  const m = (r.metrics ?? []).map((x) => `${x.name}: ${x.value === null ? '-' : value(x.value)} ${x.unit}`);
  const v = (r.variants ?? []).map((x) => `${x.name} ${ms(x.gpuMs)} ms`);
  return [head, ...v, ...m, secs].join(' | ');
}

/** Numbered footnotes for reasons and notes, deduplicated. */
class Notes {
  private readonly list: string[] = [];
  ref(text: string): string {
    let i = this.list.indexOf(text);
    if (i < 0) i = this.list.push(text) - 1;
    return `[${i + 1}]`;
  }
  render(): string {
    return this.list.map((t, i) => `${i + 1}. ${t.replace(/\|/g, '\\|')}`).join('\n');
  }
  get size(): number {
    return this.list.length;
  }
}

function implCell(x: ImplResult | undefined, notes: Notes): string {
  if (!x) return '–';
  if (x.status === 'ok' && x.timing) return `${ms(x.timing.gpuMs)} / ${ms(x.timing.readMs)}${x.note ? ` ${notes.ref(x.note)}` : ''}`;
  return `${statusWord(x)} ${notes.ref(x.reason ?? statusWord(x))}`;
}

function rateCell(x: ImplResult | undefined): string {
  if (!x || x.status !== 'ok' || x.rate === undefined) return '–';
  return x.fractionOfPeak !== undefined ? `${rate(x.rate)} (${pct(x.fractionOfPeak)})` : rate(x.rate);
}

function checkCell(r: CaseResult, notes: Notes): string {
  const c = r.impls?.fullconv?.check ?? r.check;
  if (!c) {
    const other = IMPLS.map((i) => r.impls?.[i]?.check).find(Boolean);
    return other ? `peers only: ${other.passed ? 'agree' : 'disagree'}` : '–';
  }
  const text = `${c.passed ? '✓' : '✗'} vs ${c.against} (max err ${sci(c.maxAbsError)}, ${c.tolerance})`;
  return c.message ? `${text} ${notes.ref(c.message)}` : text;
}

function opTable(cases: CaseResult[], notes: Notes): string {
  const unit = cases[0]?.work?.unit ?? 'GFLOP/s';
  const head = `| case | shape | fullconv ms (GPU / read) | TensorFlow.js ms | ONNX Runtime ms | fullconv ${unit} (of peak) | TF.js ${unit} | ORT ${unit} | fullconv ÷ faster peer (GPU / read) | runs | first run ms (fullconv) | check (fullconv) |`;
  const sep = `|${' --- |'.repeat(12)}`;
  const rows = cases.map((r) => {
    const i = r.impls ?? {};
    const ratio = r.speedup !== undefined ? `${r.speedup.toFixed(2)}× / ${r.speedupRead!.toFixed(2)}× (vs ${IMPL_LABEL[r.fasterPeer!]})` : '–';
    const runs = IMPLS.map((n) => i[n]?.timing?.runs ?? '–').join('/');
    const first = i.fullconv?.timing ? ms(i.fullconv.timing.firstMs) : '–';
    return `| ${r.title} | ${r.shape} | ${implCell(i.fullconv, notes)} | ${implCell(i.tfjs, notes)} | ${implCell(i.ort, notes)} | ${rateCell(i.fullconv)} | ${rateCell(i.tfjs)} | ${rateCell(i.ort)} | ${ratio} | ${runs} | ${first} | ${checkCell(r, notes)} |`;
  });
  const rules = [...new Set(cases.map((c) => c.work?.rule).filter(Boolean))];
  return [head, sep, ...rows, '', `${unit} counts ${rules.join('; ')}.`].join('\n');
}

/**
 * Each gradient's time per FLOP over its layer's forward's, both from this run (a conv-grad case
 * `conv-grad/<which>-<layer>` pairs with `conv/<layer>`); fullconv's GPU-kept medians.
 */
function gradRatioTable(all: CaseResult[]): string | null {
  const perFlop = (c: CaseResult | undefined): number | undefined => {
    const t = c?.impls?.fullconv;
    return t?.status === 'ok' && t.timing && c!.work ? t.timing.gpuMs / c!.work.amount : undefined;
  };
  const rows: string[] = [];
  for (const c of all.filter((x) => x.family === 'conv-grad')) {
    const m = /^conv-grad\/(input|weight)-(.+)$/.exec(c.id);
    if (!m) continue;
    const fwd = all.find((x) => x.id === `conv/${m[2]}`);
    const [g, f] = [perFlop(c), perFlop(fwd)];
    if (g === undefined || f === undefined) continue;
    const r = g / f;
    rows.push(`| ${c.title} | ${ms(fwd!.impls!.fullconv!.timing!.gpuMs)} | ${ms(c.impls!.fullconv!.timing!.gpuMs)} | ${r.toFixed(2)}×${r > 1.5 ? ' ⚠' : ''} |`);
  }
  if (rows.length === 0) return null;
  const caveat = 'The forward cases run minutes before the gradients: under a changing load (SwiftShader shares the CPU) the ratio drifts; `node bench/grad-probe.mjs` times them interleaved in one process.';
  return [`Gradient ÷ forward, fullconv time per FLOP (same run; ⚠ over 1.5×). ${caveat}`, '', '| case | forward ms | gradient ms | time per FLOP ÷ forward\'s |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

function customTable(cases: CaseResult[], notes: Notes): string {
  const out: string[] = [];
  for (const r of cases) {
    out.push(`**${r.title}** — ${r.shape}`, '');
    if (r.status !== 'ok') {
      out.push(`${statusWord({ status: r.status ?? 'failed' })}: ${r.reason ?? ''}`, '');
      continue;
    }
    if (r.variants?.length) {
      out.push('| variant | GPU ms | read ms | first run ms | runs |', '| --- | --- | --- | --- | --- |');
      for (const v of r.variants) out.push(`| ${v.name} | ${ms(v.gpuMs)} | ${ms(v.readMs)} | ${ms(v.firstMs)} | ${v.runs} |`);
      out.push('');
    }
    if (r.metrics?.length) {
      out.push('| metric | value | target |', '| --- | --- | --- |');
      for (const m of r.metrics) {
        const bad = m.expect !== undefined && m.value !== m.expect ? ' ⚠' : '';
        out.push(`| ${m.name} | ${m.value === null ? '–' : value(m.value)} ${m.unit}${bad}${m.note ? ` ${notes.ref(m.note)}` : ''} | ${m.expect ?? ''} |`);
      }
      out.push('');
    }
    if (r.check) out.push(`Check: ${r.check.passed ? '✓' : '✗'} vs ${r.check.against} (max err ${sci(r.check.maxAbsError)})${r.check.message ? ` — ${r.check.message}` : ''}`, '');
    for (const n of r.notes ?? []) out.push(`- ${n}`);
  }
  return out.join('\n');
}

function describeAdapter(meta: RunMeta): string {
  const a = meta.adapter;
  return [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / ') + (a.kind === 'swiftshader' ? ' (SwiftShader, CPU emulation)' : '');
}

export function toMarkdown(res: BenchResults): string {
  const { meta, ceilings } = res;
  const notes = new Notes();
  const lines: string[] = [
    `# fullconv bench — ${meta.date.slice(0, 10)}, ${meta.adapter.kind === 'swiftshader' ? 'SwiftShader' : meta.adapter.vendor} via ${meta.runtime === 'browser' ? meta.browser ?? 'Chromium' : 'Node (Dawn)'}`,
    '',
    `- Adapter: ${describeAdapter(meta)}`,
    `- Runtime: ${meta.runtime === 'browser' ? `headless ${meta.browser ?? 'Chromium'}` : 'Node, Dawn (`webgpu` package)'}`,
    `- Peers: ${(['tfjs', 'ort'] as ImplName[]).map((i) => `${IMPL_LABEL[i]} ${meta.peers[i]?.version ?? ''} (${meta.peers[i]?.status ?? 'n/a'})`).join('; ')}`,
    `- Options: ${JSON.stringify(meta.options)}; whole run ${(res.totalMs / 1000).toFixed(0)} s`,
    `- Timing: ${meta.timingRule}.`,
    `- Checks: ${meta.tolerance.peer}; ${meta.tolerance.reference}.`,
    '',
  ];
  if (ceilings) {
    lines.push(
      '## Adapter ceilings',
      '',
      '| FP32 FMA peak | per kernel | copy, WGSL kernel | copy, copyBufferToBuffer |',
      '| --- | --- | --- | --- |',
      `| ${rate(ceilings.fmaGflops)} GFLOP/s | ${Object.entries(ceilings.fmaByVariant).map(([k, v]) => `${k} ${rate(v)}`).join(', ')} | ${rate(ceilings.copyGBps)} GB/s | ${rate(ceilings.copyBufferGBps)} GB/s |`,
      '',
      ...ceilings.notes.map((n) => `- ${n}`),
      '',
      'Fractions of peak below: GFLOP/s over the FMA peak, GB/s over the WGSL copy kernel.',
      '',
    );
  }
  const families = [...new Set(res.cases.map((c) => c.family))];
  for (const f of families) {
    const cases = res.cases.filter((c) => c.family === f);
    lines.push(`## ${FAMILY_TITLE[f]}`, '');
    lines.push(cases[0]!.impls ? opTable(cases, notes) : customTable(cases, notes), '');
    const ratios = f === 'conv-grad' ? gradRatioTable(res.cases) : null;
    if (ratios) lines.push(ratios, '');
  }
  if (notes.size > 0) lines.push('## Notes', '', notes.render(), '');
  return lines.join('\n');
}

const COLORS: Record<ImplName, string> = { fullconv: '#1f77b4', tfjs: '#ff7f0e', ort: '#2ca02c' };
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Grouped horizontal bars: each engine's fraction of the adapter's peak, per case. */
export function toSvg(res: BenchResults): string {
  const cases = res.cases.filter((c) => c.impls && IMPLS.some((i) => c.impls![i]?.timing));
  const width = 1000;
  const labelW = 250;
  const barW = 480;
  const barH = 12;
  const groupGap = 12;
  const top = 64;
  const maxFrac = Math.max(1e-6, ...cases.flatMap((c) => IMPLS.map((i) => c.impls![i]?.fractionOfPeak ?? 0)));
  const scaleMax = niceCeil(maxFrac);
  const x = (f: number): number => labelW + (barW * f) / scaleMax;
  const groupH = IMPLS.length * barH + groupGap;
  const height = top + cases.length * groupH + 40;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="18" font-size="14" font-weight="bold">${esc(`fullconv vs peers — fraction of the adapter's peak (${res.meta.adapter.kind === 'swiftshader' ? 'SwiftShader' : res.meta.adapter.vendor}, ${res.meta.runtime === 'browser' ? res.meta.browser ?? 'Chromium' : 'Node/Dawn'})`)}</text>`,
    `<text x="10" y="34">${esc(`GFLOP/s over the FMA peak (${res.ceilings ? rate(res.ceilings.fmaGflops) : '?'} GFLOP/s); GB/s over copy bandwidth (${res.ceilings ? rate(res.ceilings.copyGBps) : '?'} GB/s). GPU-kept medians. Right: fullconv speed ÷ faster peer.`)}</text>`,
  ];
  IMPLS.forEach((i, k) => {
    out.push(`<rect x="${10 + k * 130}" y="42" width="10" height="10" fill="${COLORS[i]}"/><text x="${24 + k * 130}" y="51">${IMPL_LABEL[i]}</text>`);
  });
  for (let t = 0; t <= 4; t++) {
    const f = (scaleMax * t) / 4;
    out.push(`<line x1="${x(f)}" y1="${top - 4}" x2="${x(f)}" y2="${height - 36}" stroke="#ddd"/><text x="${x(f)}" y="${height - 22}" text-anchor="middle">${pct(f)}</text>`);
  }
  cases.forEach((c, gi) => {
    const y0 = top + gi * groupH;
    out.push(`<text x="${labelW - 8}" y="${y0 + (IMPLS.length * barH) / 2 + 4}" text-anchor="end">${esc(c.title)}</text>`);
    IMPLS.forEach((i, k) => {
      const r = c.impls![i];
      const y = y0 + k * barH;
      if (r?.timing && r.fractionOfPeak !== undefined) {
        out.push(`<rect x="${labelW}" y="${y + 1}" width="${Math.max(1, x(r.fractionOfPeak) - labelW).toFixed(1)}" height="${barH - 2}" fill="${COLORS[i]}"/>`);
        out.push(`<text x="${x(r.fractionOfPeak) + 4}" y="${y + barH - 2}" font-size="9">${esc(`${rate(r.rate!)} ${c.work!.unit}, ${ms(r.timing.gpuMs)} ms`)}</text>`);
      } else {
        out.push(`<text x="${labelW + 4}" y="${y + barH - 2}" font-size="9" fill="#888">${esc(`${IMPL_LABEL[i]}: ${r ? statusWord(r) : '–'}`)}</text>`);
      }
    });
    if (c.speedup !== undefined) {
      out.push(`<text x="${width - 10}" y="${y0 + (IMPLS.length * barH) / 2 + 4}" text-anchor="end" font-weight="bold" fill="${c.speedup >= 1 ? '#1a7f37' : '#b42318'}">${c.speedup.toFixed(2)}×</text>`);
    }
  });
  out.push('</svg>');
  return out.join('\n');
}

function niceCeil(v: number): number {
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function baseName(meta: RunMeta): string {
  const a = meta.adapter;
  const adapter = a.kind === 'swiftshader' ? 'swiftshader' : `${a.vendor}-${a.architecture || a.device || 'gpu'}`;
  const o = meta.options;
  const suffix = o.smoke ? '-smoke' : o.quick ? '-quick' : o.cases ? '-subset' : '';
  const slug = `${adapter}-${meta.runtime === 'browser' ? 'chromium' : 'node'}`.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return `${meta.date.slice(0, 10)}-${slug}${suffix}`;
}

export function writeResults(res: BenchResults, outDir: string): { json: string; md: string; svg: string } {
  mkdirSync(outDir, { recursive: true });
  const base = path.join(outDir, baseName(res.meta));
  const files = { json: `${base}.json`, md: `${base}.md`, svg: `${base}.svg` };
  writeFileSync(files.json, JSON.stringify(res, null, 1));
  writeFileSync(files.md, toMarkdown(res));
  writeFileSync(files.svg, toSvg(res));
  return files;
}
