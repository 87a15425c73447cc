// Trains a LeNet-style network on MNIST or Fashion-MNIST with fullconv's own gradients, on the GPU
// (or SwiftShader). Usage:
//   npm run train -- --data /usr/share/datasets/fashion-mnist [--epochs 4] [--batch 64] [--seed 1]
//                    [--pool max|l2] [--lr 0.001] [--optimizer adam|sgd] [--out demo/models/lenet-max]
//                    [--arch NAME|FILE.json] [--limit N] [--log-every 50] [--resume] [--eval-only]
// --pool max trains ARCHITECTURES.lenet (src/app/architectures.ts), --pool l2 'lenet-l2'; --arch
// names another entry or a spec file (src/nn/spec.ts). --limit trains on the first N images only.
// --resume continues NAME's checkpoint up to --epochs in all, with the optimizer's state (Adam's
// moments, SGD's momentum, the step count) from NAME.optim.safetensors; a checkpoint without it
// resumes with that state restarted. --eval-only loads it and writes the test accuracy into NAME.json.
// Debian/Ubuntu: `apt-get install dataset-fashion-mnist` puts the four .gz IDX files in
// /usr/share/datasets/fashion-mnist. Writes NAME.safetensors (+ NAME.optim.safetensors, NAME.json)
// atomically after every epoch, so Ctrl-C leaves the last checkpoint whole; the final JSON holds the
// test accuracy.
import { parseArgs } from 'node:util';
import { readFileSync, writeFileSync, renameSync, mkdirSync, existsSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createEngine, Adam, SGD, softmaxCrossEntropy, parseIdx, idxImageSet, saveSafetensors, loadSafetensors, modelFromSpec, parseModelSpec,
  encodeSafetensors, decodeSafetensors, ARCHITECTURES,
} from '../dist/index.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      data: { type: 'string' }, epochs: { type: 'string', default: '4' }, batch: { type: 'string', default: '64' },
      seed: { type: 'string', default: '1' }, pool: { type: 'string', default: 'max' }, lr: { type: 'string', default: '0.001' },
      optimizer: { type: 'string', default: 'adam' }, momentum: { type: 'string', default: '0.9' }, out: { type: 'string' },
      arch: { type: 'string' }, limit: { type: 'string' }, resume: { type: 'boolean' }, 'eval-only': { type: 'boolean' }, 'log-every': { type: 'string', default: '50' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(0, 14).join('\n'));
    process.exit(0);
  }
  if (!values.data) throw new Error('--data DIR is required: the folder with the four IDX files (e.g. /usr/share/datasets/fashion-mnist)');
  const int = (name, min) => {
    const v = Number(values[name]);
    if (!Number.isSafeInteger(v) || v < min) throw new Error(`--${name} must be an integer >= ${min}, got ${values[name]}`);
    return v;
  };
  const num = (name) => {
    const v = Number(values[name]);
    if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a number >= 0, got ${values[name]}`);
    return v;
  };
  if (!(values.pool in POOLS)) throw new Error(`--pool must be one of ${Object.keys(POOLS).join(', ')}, got ${values.pool}`);
  if (!['adam', 'sgd'].includes(values.optimizer)) throw new Error(`--optimizer must be adam or sgd, got ${values.optimizer}`);
  return {
    data: values.data, epochs: int('epochs', 1), batch: int('batch', 1), seed: int('seed', 0), pool: values.pool, arch: values.arch ?? POOLS[values.pool],
    lr: num('lr'), optimizer: values.optimizer, momentum: num('momentum'),
    out: values.out ?? `demo/models/lenet-${values.pool}`, limit: values.limit === undefined ? null : int('limit', 1),
    logEvery: int('log-every', 1), resume: values.resume ?? false, evalOnly: values['eval-only'] ?? false,
  };
}

/** --pool picks one of the library's built-in LeNets. */
const POOLS = { max: 'lenet', l2: 'lenet-l2' };

/** A built-in architecture's name or a spec file (JSON; a training record's architecture is read too). */
function loadArchitecture(arch) {
  if (arch in ARCHITECTURES) return ARCHITECTURES[arch];
  if (!existsSync(arch)) throw new Error(`--arch must name one of ${Object.keys(ARCHITECTURES).join(', ')} or a spec file; ${arch} is neither`);
  return parseModelSpec(readFileSync(arch, 'utf8'));
}

/** One IDX file, gunzipped when it is compressed (by name or by its 1f 8b magic). */
function readIdxFile(dir, base) {
  const candidates = [base, `${base}.gz`].map((f) => path.join(dir, f));
  const file = candidates.find(existsSync);
  if (!file) throw new Error(`${dir}: neither ${base} nor ${base}.gz exists`);
  let bytes = readFileSync(file);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new Error(`${file}: corrupt gzip data (${e.message})`);
    }
  }
  return parseIdx(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path.basename(file));
}

function loadSet(dir, prefix) {
  return idxImageSet(readIdxFile(dir, `${prefix}-images-idx3-ubyte`), readIdxFile(dir, `${prefix}-labels-idx1-ubyte`), `${dir}/${prefix}`);
}

/** The record and weights of an earlier run of the same architecture, loaded into `model`. */
function loadCheckpoint(files, model, spec) {
  for (const f of [files.weights, files.meta]) if (!existsSync(f)) throw new Error(`--resume/--eval-only: ${f} does not exist`);
  const previous = JSON.parse(readFileSync(files.meta, 'utf8'));
  if (JSON.stringify(previous.architecture?.layers) !== JSON.stringify(spec.layers)) {
    throw new Error(`--resume/--eval-only: ${files.meta} records another architecture than --arch ${JSON.stringify(spec.layers)}`);
  }
  loadSafetensors(model, readFileSync(files.weights));
  return previous;
}

/** The optimizer's state as safetensors (torch's names, '0.weight.exp_avg'), with the step count and epoch as metadata. */
async function saveOptimizerState(optimizer, metadata) {
  const state = await optimizer.stateDict();
  return encodeSafetensors([...state.tensors].map(([name, t]) => [name, t.shape, t.data]), { ...metadata, steps: String(state.steps) });
}

/** Restores the optimizer from NAME.optim.safetensors when it belongs to this checkpoint; says which happened. */
function loadOptimizerState(file, optimizer, optimizerName, epoch) {
  if (!existsSync(file)) return `no ${path.basename(file)}: the optimizer's state restarts`;
  const { tensors, metadata } = decodeSafetensors(readFileSync(file));
  if (metadata.optimizer !== optimizerName) return `${path.basename(file)} holds ${metadata.optimizer}'s state, not ${optimizerName}'s: the optimizer's state restarts`;
  // Weights and state are two renames: a stop between them leaves the state of another epoch.
  if (Number(metadata.epoch) !== epoch) return `${path.basename(file)} is from epoch ${metadata.epoch}, the weights from epoch ${epoch}: the optimizer's state restarts`;
  optimizer.loadStateDict({ steps: Number(metadata.steps), tensors });
  return `optimizer state restored (step ${optimizer.steps})`;
}

/** mulberry32, for the shuffle order (the model's init has its own seeded RNG). */
function makeRng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled(count, rng) {
  const order = Int32Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** Normalised pixels and labels of the samples order[from .. from + n). */
function gatherBatch(set, order, from, n, norm) {
  const plane = set.height * set.width;
  const x = new Float32Array(n * plane);
  const labels = new Int32Array(n);
  for (let b = 0; b < n; b++) {
    const i = order ? order[from + b] : from + b;
    const src = set.images.subarray(i * plane, (i + 1) * plane);
    for (let k = 0; k < plane; k++) x[b * plane + k] = (src[k] - norm.mean) / norm.std;
    labels[b] = set.labels[i];
  }
  return { x, labels };
}

function countCorrect(logits, labels, classes) {
  let correct = 0;
  for (let b = 0; b < labels.length; b++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (logits[b * classes + k] > logits[b * classes + best]) best = k;
    if (best === labels[b]) correct++;
  }
  return correct;
}

/** Writes a file whole or not at all: tmp in the same folder, then rename (atomic on POSIX). */
function writeAtomic(file, bytes) {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, file);
}

function formatDuration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** `done`/`total` count batches; `imagesLeft` / `rate` (images per second) gives the epoch's ETA. */
function progressLine(epoch, epochs, done, total, imagesLeft, loss, accuracy, rate) {
  const width = 24;
  const filled = Math.round((done / total) * width);
  const eta = rate > 0 ? imagesLeft / rate : 0;
  return `epoch ${epoch}/${epochs} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ` +
    `loss ${loss.toFixed(4)} acc ${(accuracy * 100).toFixed(1)}% ${rate.toFixed(0)} img/s ETA ${formatDuration(eta)}`;
}

async function evaluate(engine, model, set, norm, batch, classes) {
  model.eval();
  let correct = 0;
  for (let from = 0; from < set.count; from += batch) {
    const n = Math.min(batch, set.count - from);
    const { x: data, labels } = gatherBatch(set, null, from, n, norm);
    const x = engine.tensor(data, [n, 1, set.height, set.width]);
    const y = model.forward(x);
    correct += countCorrect(await y.read(), labels, classes);
    x.dispose();
    y.dispose();
  }
  model.train();
  return correct / set.count;
}

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  const command = `npm run train -- ${process.argv.slice(2).join(' ')}`;
  const spec = loadArchitecture(opts.arch);
  if (!spec.inputShape || spec.inputShape[0] !== 1) throw new Error(`the architecture must take grey images: inputShape [1, H, W], got ${JSON.stringify(spec.inputShape)}`);
  const norm = { mean: spec.mean?.[0] ?? 0, std: spec.std?.[0] ?? 1 };
  const train = loadSet(opts.data, 'train');
  const test = loadSet(opts.data, 't10k');
  const trainCount = Math.min(opts.limit ?? train.count, train.count);
  console.log(`data: ${train.count} training and ${test.count} test images of ${train.height}x${train.width} from ${opts.data}` +
    (trainCount < train.count ? ` (training on the first ${trainCount})` : ''));

  const engine = await createEngine();
  const a = engine.adapterInfo;
  const adapter = `${a.vendor} ${a.architecture} ${a.device} (${a.description})`.replace(/\s+/g, ' ').trim();
  console.log(`adapter: ${adapter}`);
  if (spec.inputShape[1] !== train.height || spec.inputShape[2] !== train.width) {
    throw new Error(`the architecture takes ${spec.inputShape[1]}x${spec.inputShape[2]} images, the data has ${train.height}x${train.width}`);
  }
  const model = modelFromSpec(engine, spec, { seed: opts.seed });
  const classes = model.shapesFor([1, ...spec.inputShape]).at(-1)[1];
  const optimizer = opts.optimizer === 'adam'
    ? new Adam(model, { lr: opts.lr })
    : new SGD(model, { lr: opts.lr, momentum: opts.momentum });
  console.log(`${model}\n${opts.optimizer} lr ${opts.lr}, batch ${opts.batch}, ${opts.epochs} epochs, seed ${opts.seed}`);

  const outBase = path.resolve(root, opts.out);
  mkdirSync(path.dirname(outBase), { recursive: true });
  const files = { weights: `${outBase}.safetensors`, optim: `${outBase}.optim.safetensors`, meta: `${outBase}.json` };
  const fresh = {
    name: path.basename(outBase),
    architecture: { inputShape: spec.inputShape, layers: spec.layers },
    input: { channels: 1, size: [train.height, train.width], mean: [norm.mean], std: [norm.std] },
    classes: spec.classes ?? Array.from({ length: classes }, (_, k) => String(k)),
    training: {
      command, arch: opts.arch, seed: opts.seed, epochs: opts.epochs, batch: opts.batch, optimizer: opts.optimizer, lr: opts.lr,
      ...(opts.optimizer === 'sgd' ? { momentum: opts.momentum } : {}), data: opts.data, trainImages: trainCount,
    },
    epochsCompleted: 0, testAccuracy: null, date: null, adapter, trainSeconds: 0, imagesPerSecond: null, history: [],
  };
  const meta = opts.resume || opts.evalOnly ? loadCheckpoint(files, model, spec) : fresh;
  if (opts.resume) {
    // Later runs are appended, so the record says how the weights came to be.
    meta.training.resumed = [...(meta.training.resumed ?? []), { command, fromEpoch: meta.epochsCompleted, date: new Date().toISOString(), adapter }];
    meta.training.epochs = opts.epochs;
    meta.testAccuracy = null;
    const restored = loadOptimizerState(files.optim, optimizer, opts.optimizer, meta.epochsCompleted);
    console.log(`resuming ${path.relative(root, files.weights)} after epoch ${meta.epochsCompleted} (${restored})`);
  }

  let stopRequested = false;
  // SIGTERM (kill, a job runner) stops the same way as Ctrl-C.
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      if (stopRequested) process.exit(130); // a second signal: the last checkpoint is whole either way
      stopRequested = true;
      console.log(`\n${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping after this batch (again to quit at once)`);
    });
  }

  const steps = Math.ceil(trainCount / opts.batch);
  const isTTY = process.stdout.isTTY;
  let trainSeconds = meta.trainSeconds ?? 0;
  let imagesSeen = Math.round((meta.imagesPerSecond ?? 0) * trainSeconds);
  const firstEpoch = opts.evalOnly ? opts.epochs + 1 : meta.epochsCompleted + 1;
  for (let epoch = firstEpoch; epoch <= opts.epochs && !stopRequested; epoch++) {
    // One RNG per epoch from (seed, epoch): a resumed run shuffles as the uninterrupted one would.
    const order = shuffled(trainCount, makeRng(opts.seed * 7919 + epoch));
    let windowStart = performance.now();
    let windowImages = 0;
    let sampled = { correct: 0, count: 0, lossSum: 0, lossCount: 0 };
    const epochStart = performance.now();
    let inFlight = null;
    for (let step = 0; step < steps && !stopRequested; step++) {
      const from = step * opts.batch;
      const n = Math.min(opts.batch, trainCount - from);
      const { x: data, labels } = gatherBatch(train, order, from, n, norm);
      const x = engine.tensor(data, [n, 1, train.height, train.width]);
      const logits = model.forward(x);
      const { loss, dLogits } = softmaxCrossEntropy(logits, labels);
      model.zeroGrad();
      model.backward(dLogits).dispose();
      optimizer.step();
      // Keep the GPU at most one step behind: Ctrl-C then stops within a step, and queued work stays small.
      const submitted = engine.flush();
      if (inFlight) await inFlight;
      inFlight = submitted;
      windowImages += n;
      const last = step === steps - 1;
      if ((step + 1) % opts.logEvery === 0 || last) {
        // The only reads of a training step, every log-every steps: the loss and this batch's logits.
        const [lossValue, logitValues] = await Promise.all([loss.read(), logits.read()]);
        sampled.lossSum += lossValue[0];
        sampled.lossCount++;
        sampled.correct += countCorrect(logitValues, labels, classes);
        sampled.count += n;
        if (!Number.isFinite(lossValue[0])) throw new Error(`the loss is ${lossValue[0]} at epoch ${epoch} step ${step + 1}: lower --lr`);
        const now = performance.now();
        const rate = windowImages / ((now - windowStart) / 1000);
        const line = progressLine(epoch, opts.epochs, step + 1, steps, trainCount - from - n, sampled.lossSum / sampled.lossCount, sampled.correct / sampled.count, rate);
        if (isTTY) process.stdout.write(`\r${line}`);
        else console.log(line);
        windowStart = now;
        windowImages = 0;
      }
      [x, logits, loss, dLogits].forEach((t) => t.dispose());
      imagesSeen += n;
    }
    await engine.flush();
    trainSeconds += (performance.now() - epochStart) / 1000;
    if (isTTY) process.stdout.write('\n');
    if (stopRequested) break;
    writeAtomic(files.weights, await saveSafetensors(model, { epoch: String(epoch), seed: String(opts.seed), command }));
    writeAtomic(files.optim, await saveOptimizerState(optimizer, { epoch: String(epoch), optimizer: opts.optimizer }));
    meta.history = [...(meta.history ?? []), {
      epoch, sampledLoss: Number((sampled.lossSum / sampled.lossCount).toFixed(4)), sampledAccuracy: Number((sampled.correct / sampled.count).toFixed(4)),
      seconds: Math.round((performance.now() - epochStart) / 1000),
    }];
    Object.assign(meta, { epochsCompleted: epoch, date: new Date().toISOString(), trainSeconds: Math.round(trainSeconds), imagesPerSecond: Number((imagesSeen / trainSeconds).toFixed(1)) });
    writeAtomic(files.meta, JSON.stringify(meta, null, 2) + '\n');
    console.log(`checkpoint: ${path.relative(root, files.weights)} (epoch ${epoch}, ${formatDuration(trainSeconds)} training)`);
    sampled = { correct: 0, count: 0, lossSum: 0, lossCount: 0 };
  }

  if (stopRequested) {
    console.log(meta.epochsCompleted > 0
      ? `stopped; the last checkpoint is ${path.relative(root, files.weights)} after epoch ${meta.epochsCompleted}`
      : 'stopped before the first epoch ended; nothing was written');
    engine.dispose();
    process.exitCode = 130;
    return;
  }

  const evalStart = performance.now();
  const accuracy = await evaluate(engine, model, test, norm, 500, classes);
  Object.assign(meta, {
    testAccuracy: Number(accuracy.toFixed(4)), date: new Date().toISOString(),
    evaluation: { command, adapter, testImages: test.count, seconds: Math.round((performance.now() - evalStart) / 1000) },
  });
  writeAtomic(files.meta, JSON.stringify(meta, null, 2) + '\n');
  console.log(`test accuracy: ${(accuracy * 100).toFixed(2)}% on ${test.count} images; wrote ${path.relative(root, files.weights)} and ${path.relative(root, files.meta)}`);
  engine.dispose();
}

main().catch((e) => {
  console.error(`train: ${e && e.message ? e.message : e}`);
  process.exitCode = 1;
});
