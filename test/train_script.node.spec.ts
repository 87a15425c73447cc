// scripts/train.mjs end to end on a tiny synthetic IDX data set: checkpoint + optimizer state + record,
// Ctrl-C keeps the last checkpoint whole, 1 epoch + --resume equals 2 epochs, a truncated file fails
// with a message naming it. Node only (child processes).
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { decodeSafetensors } from '../src/index.js';
import { allClose } from './reference.js';
import { ok, equal, deepEqual } from './assert.js';

/** An IDX file of uint8 values. */
function idx(dims: number[], values: Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(header.length + values.length);
  out.set(header);
  out.set(values, header.length);
  return out;
}

/** 28×28 images whose class is the row band of a bright bar, plus noise. */
function images(count: number, seed: number): { pixels: Uint8Array; labels: Uint8Array } {
  let s = seed;
  const rand = (): number => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const pixels = new Uint8Array(count * 784);
  const labels = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    const label = n % 10;
    labels[n] = label;
    for (let i = 0; i < 784; i++) pixels[n * 784 + i] = Math.floor(rand() * 60);
    for (let x = 2; x < 26; x++) for (let dy = 0; dy < 2; dy++) pixels[n * 784 + (2 + label * 2 + dy + 1) * 28 + x] = 255;
  }
  return { pixels, labels };
}

const TINY_ARCH = {
  inputShape: [1, 28, 28],
  layers: [
    { type: 'Conv2d', cin: 1, cout: 4, kernel: 3, padding: 1 }, { type: 'ReLU' }, { type: 'MaxPool2d', kernel: 4 },
    { type: 'Flatten' }, { type: 'Linear', in: 196, out: 10 },
  ],
};

function runTrain(args: string[]): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, ['scripts/train.mjs', ...args], { encoding: 'utf8', timeout: 240000 });
  return { status: r.status, output: `${r.stdout}\n${r.stderr}` };
}

describe('train: scripts/train.mjs end to end', () => {
  let dir: string;
  let data: string;
  let out: string;
  let common: string[];

  before(function () {
    this.timeout(300000);
    // The script imports dist/: build the library as `npm run train` does.
    const build = spawnSync(process.execPath, ['scripts/build.mjs', '--lib-only', '--no-types'], { encoding: 'utf8' });
    equal(build.status, 0, `build failed: ${build.stderr}`);
    dir = mkdtempSync(path.join(tmpdir(), 'fullconv-train-'));
    data = path.join(dir, 'data');
    out = path.join(dir, 'models', 'tiny');
    const train = images(96, 1);
    const test = images(30, 2);
    spawnSync('mkdir', ['-p', data]);
    // Training files gzipped, test files raw: the script reads both.
    writeFileSync(path.join(data, 'train-images-idx3-ubyte.gz'), gzipSync(idx([96, 28, 28], train.pixels)));
    writeFileSync(path.join(data, 'train-labels-idx1-ubyte.gz'), gzipSync(idx([96], train.labels)));
    writeFileSync(path.join(data, 't10k-images-idx3-ubyte'), idx([30, 28, 28], test.pixels));
    writeFileSync(path.join(data, 't10k-labels-idx1-ubyte'), idx([30], test.labels));
    writeFileSync(path.join(dir, 'tiny.json'), JSON.stringify(TINY_ARCH));
    common = ['--data', data, '--arch', path.join(dir, 'tiny.json'), '--batch', '16', '--seed', '3', '--lr', '0.01', '--log-every', '1', '--out', out];
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('trains, writes the safetensors checkpoint and a record with the test accuracy', () => {
    const r = runTrain([...common, '--epochs', '1']);
    equal(r.status, 0, `train.mjs failed:\n${r.output}`);
    ok(/epoch 1\/1 \[#+\] 6\/6 loss [\d.]+ acc [\d.]+% [\d.]+ img\/s/.test(r.output), `progress line missing:\n${r.output}`);
    ok(/test accuracy: [\d.]+% on 30 images/.test(r.output), `accuracy line missing:\n${r.output}`);
    const { tensors } = decodeSafetensors(new Uint8Array(readFileSync(`${out}.safetensors`)));
    deepEqual([...tensors.keys()], ['0.weight', '0.bias', '4.weight', '4.bias']);
    deepEqual(tensors.get('4.weight')!.shape, [10, 196]);
    const record = JSON.parse(readFileSync(`${out}.json`, 'utf8'));
    equal(record.epochsCompleted, 1);
    ok(typeof record.testAccuracy === 'number' && record.testAccuracy >= 0 && record.testAccuracy <= 1, `testAccuracy ${record.testAccuracy}`);
    equal(record.training.seed, 3);
    equal(record.training.epochs, 1);
    ok(record.training.command.startsWith('npm run train -- --data '), `command ${record.training.command}`);
    ok(record.adapter.length > 0 && !Number.isNaN(Date.parse(record.date)), 'adapter and date');
    ok(record.history.length === 1 && record.trainSeconds >= 0, 'history per epoch');
    deepEqual(record.architecture.layers, TINY_ARCH.layers);
    const optim = decodeSafetensors(new Uint8Array(readFileSync(`${out}.optim.safetensors`)));
    deepEqual([...optim.tensors.keys()], ['0.weight.exp_avg', '0.weight.exp_avg_sq', '0.bias.exp_avg', '0.bias.exp_avg_sq', '4.weight.exp_avg', '4.weight.exp_avg_sq', '4.bias.exp_avg', '4.bias.exp_avg_sq']);
    deepEqual(optim.metadata, { epoch: '1', optimizer: 'adam', steps: '6' });
    deepEqual(readdirSync(path.dirname(out)).sort(), ['tiny.json', 'tiny.optim.safetensors', 'tiny.safetensors'], 'no temporary files left');
  });

  it('Ctrl-C during a resumed run (--resume) stops cleanly and leaves the last checkpoint intact', async () => {
    const weightsBefore = readFileSync(`${out}.safetensors`);
    const optimBefore = readFileSync(`${out}.optim.safetensors`);
    const recordBefore = readFileSync(`${out}.json`, 'utf8');
    const child = spawn(process.execPath, ['scripts/train.mjs', ...common, '--epochs', '3', '--resume'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    let interrupted = false;
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      // Interrupt at the first progress line of epoch 2: the epoch-1 checkpoint is the last whole one.
      if (!interrupted && /epoch 2\/3 \[/.test(output)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    const code = await exited;
    equal(code, 130, `exit code after Ctrl-C; output:\n${output}`);
    ok(/resuming .* after epoch 1/.test(output) && /stopped; the last checkpoint is .*tiny\.safetensors after epoch 1/.test(output), `messages:\n${output}`);
    ok(Buffer.compare(readFileSync(`${out}.safetensors`), weightsBefore) === 0, 'the checkpoint is byte-identical');
    ok(Buffer.compare(readFileSync(`${out}.optim.safetensors`), optimBefore) === 0, 'the optimizer state is byte-identical');
    equal(readFileSync(`${out}.json`, 'utf8'), recordBefore, 'the record is unchanged');
  });

  it('1 epoch + --resume to 2 equals 2 uninterrupted epochs; without the optimizer state it does not', () => {
    // The epoch-1 checkpoint of the first test, copied without its optimizer state: an old checkpoint.
    const old = path.join(dir, 'models', 'old');
    copyFileSync(`${out}.safetensors`, `${old}.safetensors`);
    copyFileSync(`${out}.json`, `${old}.json`);
    const whole = path.join(dir, 'models', 'whole');
    const runs = [
      runTrain([...common, '--epochs', '2', '--out', whole]),
      runTrain([...common, '--epochs', '2', '--resume']),
      runTrain([...common, '--epochs', '2', '--resume', '--out', old]),
    ];
    runs.forEach((r, i) => equal(r.status, 0, `run ${i} failed:\n${r.output}`));
    ok(/resuming .*tiny\.safetensors after epoch 1 \(optimizer state restored \(step 6\)\)/.test(runs[1]!.output), runs[1]!.output);
    ok(/resuming .*old\.safetensors after epoch 1 \(no old\.optim\.safetensors: the optimizer's state restarts\)/.test(runs[2]!.output), runs[2]!.output);
    const weights = (base: string) => decodeSafetensors(new Uint8Array(readFileSync(`${base}.safetensors`))).tensors;
    const [w, resumed, restarted] = [weights(whole), weights(out), weights(old)];
    for (const [name, t] of w) {
      const problem = allClose(resumed.get(name)!.data, t.data);
      ok(problem === null, `${name}: the resumed run differs from the uninterrupted one: ${problem}`);
    }
    ok([...w].some(([name, t]) => allClose(restarted.get(name)!.data, t.data) !== null), 'restarting the optimizer state changed nothing: the test cannot tell');
    equal(decodeSafetensors(new Uint8Array(readFileSync(`${out}.optim.safetensors`))).metadata.steps, '12', 'steps after 2 epochs of 6 batches');
  });

  it('a truncated or corrupt data file fails with a message naming it', () => {
    const labels = readFileSync(path.join(data, 't10k-labels-idx1-ubyte'));
    writeFileSync(path.join(data, 't10k-labels-idx1-ubyte'), labels.subarray(0, labels.length - 3));
    const truncated = runTrain([...common, '--epochs', '1']);
    equal(truncated.status, 1, 'exit status');
    ok(/t10k-labels-idx1-ubyte: truncated: dims \[30\] of uint8 need 38 bytes, the file has 35/.test(truncated.output), truncated.output);
    writeFileSync(path.join(data, 't10k-labels-idx1-ubyte'), labels);
    const gz = readFileSync(path.join(data, 'train-labels-idx1-ubyte.gz'));
    writeFileSync(path.join(data, 'train-labels-idx1-ubyte.gz'), gz.subarray(0, 20));
    const corrupt = runTrain([...common, '--epochs', '1']);
    equal(corrupt.status, 1, 'exit status');
    ok(/train-labels-idx1-ubyte\.gz: corrupt gzip data/.test(corrupt.output), corrupt.output);
  });
});
