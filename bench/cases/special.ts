// Cases that are not one op timed three ways: the dispatcher's own costs, and fully
// convolutional inference against a sliding window.
import { createEngine, need, type Engine, type Tensor } from '../api.js';
import { randomFloats } from '../data.js';
import { compare, maxAbsError, REFERENCE_TOLERANCE } from '../check.js';
import { firstRun, median, now, runOnce, timeRuns } from '../timing.js';
import { convData } from './conv.js';
import { layer } from './layers.js';
import { netCases } from './nets.js';
import { fullconvRunnable, type CustomCase, type Metric } from './types.js';

/** Counts device.createBuffer calls (pooled or not: uniforms, staging) while `body` runs. */
async function countDeviceBuffers(engine: Engine, body: () => Promise<void>): Promise<number> {
  const device = engine.device;
  const original = device.createBuffer;
  let created = 0;
  device.createBuffer = function (this: GPUDevice, desc: GPUBufferDescriptor): GPUBuffer {
    created++;
    return original.call(this, desc);
  };
  try {
    await body();
  } finally {
    // Drop the instance property: the prototype's method shows through again.
    delete (device as { createBuffer?: unknown }).createBuffer;
  }
  return created;
}

async function steadyRuns(engine: Engine, make: () => Tensor, runs: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = now();
    const y = make();
    await engine.flush();
    samples.push(now() - t0);
    y.dispose();
  }
  return samples;
}

export const dispatchCase: CustomCase = {
  id: 'dispatch/L2',
  family: 'dispatch',
  title: 'dispatcher costs',
  shape: 'conv2d L2 (64→64, 56×56, k3) on a fresh engine, then a VGG-style net',
  async run(_sharedEngine, { smoke }) {
    const { conv2d } = need('conv2d');
    const counts = smoke ? { encode: 4, steady: 4, net: 2 } : { encode: 12, steady: 8, net: 4 };
    const l = layer('L2');
    const d = convData(l, 900);
    const opts = { stride: 1, padding: 1 };
    // A fresh engine: its first run really compiles, and a new image size finds only the
    // pipelines L2 at 56×56 needed (the shared engine has seen every case before this one).
    const engine = await createEngine();
    const metrics: Metric[] = [];
    try {
      const x = engine.tensor(d.x, d.xShape);
      const w = engine.tensor(d.w, d.wShape);
      const b = engine.tensor(d.b, [l.cout]);
      await engine.flush();

      const t0 = now();
      const first = conv2d(x, w, b, opts);
      await engine.flush();
      const firstMs = now() - t0;
      first.dispose();
      const compiled = engine.stats().pipelinesCompiled;
      const steady = median(await steadyRuns(engine, () => conv2d(x, w, b, opts), 3));
      metrics.push({ name: 'first conv2d run on a fresh engine (compile + run)', value: firstMs, unit: 'ms' });
      metrics.push({ name: 'first-run overhead over steady state (≈ compile time)', value: firstMs - steady, unit: 'ms', note: `steady ${steady.toFixed(1)} ms; ${compiled} pipeline(s) compiled` });

      // CPU cost of recording one conv layer: the conv2d() call itself, GPU work excluded. Calls
      // are timed 4 at a time: a page's performance.now() ticks in 100 µs steps.
      const encode: number[] = [];
      const perSample = 4;
      for (let i = 0; i < counts.encode; i++) {
        const t1 = now();
        const ys = Array.from({ length: perSample }, () => conv2d(x, w, b, opts));
        encode.push((now() - t1) / perSample);
        await engine.flush();
        ys.forEach((y) => y.dispose());
      }
      metrics.push({ name: 'CPU time to encode one conv layer (conv2d call)', value: median(encode) * 1000, unit: 'µs', note: `median of ${encode.length} samples of ${perSample} back-to-back calls; the recorded work is encoded into a command buffer at flush` });

      const allocs0 = engine.stats().bufferAllocations;
      const created = await countDeviceBuffers(engine, async () => {
        await steadyRuns(engine, () => conv2d(x, w, b, opts), counts.steady);
      });
      metrics.push({ name: `buffers allocated over ${counts.steady} steady-state conv2d runs (engine.stats().bufferAllocations)`, value: engine.stats().bufferAllocations - allocs0, unit: 'buffers', expect: 0 });
      metrics.push({ name: `device.createBuffer calls over the same ${counts.steady} runs (each conv2d + flush)`, value: created, unit: 'GPUBuffers', note: 'every GPUBuffer the device made, pooled or not (uniform and staging buffers too)' });

      // Image sizes never seen before, same layer: the pipeline cache must not grow.
      const pipes0 = engine.stats().pipelinesCompiled;
      const sizes: [number, number][] = [[57, 45], [112, 112], [28, 28], [9, 200]];
      const perSize: string[] = [];
      for (const [h, wd] of sizes) {
        const before = engine.stats().pipelinesCompiled;
        const xi = engine.tensor(randomFloats(l.cin * h * wd, h * 1000 + wd), [1, l.cin, h, wd]);
        const y = conv2d(xi, w, b, opts);
        await engine.flush();
        y.dispose();
        xi.dispose();
        perSize.push(`${h}×${wd}: ${engine.stats().pipelinesCompiled - before}`);
      }
      metrics.push({ name: `pipelines compiled for ${sizes.length} new image sizes, same layer`, value: engine.stats().pipelinesCompiled - pipes0, unit: 'pipelines', expect: 0, note: perSize.join(', ') });
      [x, w, b].forEach((t) => t.dispose());

      // A whole net: intermediates are created and dropped every run, still no new buffers.
      const net = netCases[1]!;
      const prepared = await net.fullconv(engine, net.data());
      const r = prepared.runnable;
      const runNet = async (): Promise<void> => {
        await r.launch();
        await r.gpuDone();
        r.release();
      };
      await runNet();
      await runNet();
      const a0 = engine.stats().bufferAllocations;
      for (let i = 0; i < counts.net; i++) await runNet();
      metrics.push({ name: `buffers allocated over ${counts.net} steady-state runs of the ${net.title}`, value: engine.stats().bufferAllocations - a0, unit: 'buffers', expect: 0 });
      await prepared.dispose();
    } finally {
      engine.dispose();
    }
    return { metrics };
  },
};

/** The demo's classifier: src/app/architectures.ts 'lenet', what scripts/train.mjs trains for the demo. */
const DEMO_INPUT: [number, number, number] = [1, 28, 28];
const FCN_SIZE = 512;
/** --smoke keeps the whole suite quick: the same comparison on a smaller image. */
const FCN_SMOKE_SIZE = 96;
/** The image that compiles the pipelines before any timing: 2×2 windows. */
const WARM_SIZE = 32;
/** A sliding window over 512×512 takes tens of seconds on SwiftShader: each variant's timed runs stop at this budget (at least 1). */
const VARIANT_BUDGET_MS = 30000;

export const fcnCase: CustomCase = {
  id: 'fcn/sliding512',
  family: 'fcn',
  title: 'fully convolutional vs sliding window',
  shape: `demo classifier (LeNet, 1×28×28 → 10), ${FCN_SIZE}×${FCN_SIZE} input`,
  async run(engine, { plan, smoke }) {
    const size = smoke ? FCN_SMOKE_SIZE : FCN_SIZE;
    const api = need('Sequential', 'Conv2d', 'ReLU', 'MaxPool2d', 'Flatten', 'Linear', 'slidingWindow');
    const pool = { kernel: 2, stride: 2 };
    const classifier = new api.Sequential(engine, [
      new api.Conv2d(1, 16, 5), new api.ReLU(), new api.MaxPool2d(pool),
      new api.Conv2d(16, 32, 5), new api.ReLU(), new api.MaxPool2d(pool),
      new api.Flatten(), new api.Linear(512, 128), new api.ReLU(), new api.Linear(128, 10),
    ], { seed: 11 });
    classifier.eval();
    const fcn = classifier.toFullyConvolutional(DEMO_INPUT);
    fcn.eval();
    const x = engine.tensor(randomFloats(size * size, 77), [1, 1, size, size]);
    // A small image compiles every pipeline both paths use (sizes live in uniforms), so the first
    // run at full size is already a steady one: it is checked and counted as the first sample.
    const small = engine.tensor(randomFloats(WARM_SIZE * WARM_SIZE, 78), [1, 1, WARM_SIZE, WARM_SIZE]);
    try {
      const geo = fcn.geometry([1, 1, size, size]);
      const [outH, outW] = [geo.outputShape[2]!, geo.outputShape[3]!];
      const jump = classifier.geometry(DEMO_INPUT).jump;
      const paths = [
        { name: 'fully convolutional (one forward of toFullyConvolutional)', run: (t: Tensor) => fcn.forward(t) },
        { name: `sliding window (the classifier on each 28×28 crop at stride ${jump[0]}, batches of 256)`, run: (t: Tensor) => api.slidingWindow(classifier, t, DEMO_INPUT) },
      ];
      const warmMs = [];
      const firsts = [];
      for (const p of paths) warmMs.push((await firstRun(fullconvRunnable(engine, () => p.run(small)))).firstMs);
      for (const p of paths) firsts.push(await runOnce(fullconvRunnable(engine, () => p.run(x))));
      // No padding in this classifier, so the score maps must agree cell for cell.
      const mismatch = compare(firsts[0]!.out, firsts[1]!.out, 'float', REFERENCE_TOLERANCE);
      const check = { passed: mismatch === null, against: 'the sliding window\'s scores', maxAbsError: maxAbsError(firsts[0]!.out, firsts[1]!.out), ...(mismatch ? { message: mismatch.message } : {}) };
      const timed = [];
      if (check.passed) {
        const cap = { minRuns: plan.minRuns, maxRuns: plan.minRuns, budgetMs: 0, capMs: VARIANT_BUDGET_MS, floorRuns: 1 };
        for (let i = 0; i < paths.length; i++) {
          const t = await timeRuns(fullconvRunnable(engine, () => paths[i]!.run(x)), warmMs[i]!, cap, firsts[i]!);
          timed.push({ name: paths[i]!.name, gpuMs: t.gpuMs, readMs: t.readMs, runs: t.runs, firstMs: t.firstMs });
        }
      }
      const metrics: Metric[] = [{ name: 'windows (score-map cells)', value: outH * outW, unit: `cells (${outH}×${outW})` }];
      if (timed.length === 2) metrics.push({ name: 'fully convolutional speed-up over the sliding window', value: timed[1]!.gpuMs / timed[0]!.gpuMs, unit: '×' });
      return {
        metrics,
        variants: timed,
        check,
        ...(smoke ? { shape: `demo classifier (LeNet, 1×28×28 → 10), ${size}×${size} input (smoke run)` } : {}),
        notes: [
          `input ${size}×${size}; random weights (timing does not depend on them)`,
          `"first run" is each path's compiling run on a ${WARM_SIZE}×${WARM_SIZE} image; the first full-size run is checked and counted; timed runs stop at a ${VARIANT_BUDGET_MS / 1000} s budget per path (at least 1)`,
        ],
      };
    } finally {
      x.dispose();
      small.dispose();
      fcn.dispose();
      classifier.dispose();
    }
  },
};
