import { Engine, FullconvError, ShapeError, OptionError, TensorStateError, LimitError, createEngine, relu, reluGrad } from '../src/index.js';
import { Kernel } from '../src/runtime/kernels.js';
import { bucketBytes } from '../src/runtime/buffers.js';
import { getEngine } from './setup.js';
import { ok, equal, deepEqual, throws, rejects } from './assert.js';
import fillSource from '../shaders/fill.wgsl';

function randomData(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

describe('runtime: engine and tensors', () => {
  let engine: Engine;
  before(async () => {
    engine = await getEngine();
  });

  it('reports its adapter', () => {
    ok(engine.adapterInfo.vendor.length > 0 || engine.adapterInfo.description.length > 0, 'adapter info');
    ok(engine.limits.maxStorageBufferBindingSize >= 128 * 1024 * 1024, `asked for the adapter's storage limit, got ${engine.limits.maxStorageBufferBindingSize}`);
  });

  it('round-trips float32 and int32 data', async () => {
    const f = randomData(1001, 7);
    const t = engine.tensor(f, [7, 11, 13]);
    deepEqual(Array.from(await t.read()), Array.from(f));
    equal(t.dtype, 'float32');
    const i = new Int32Array([5, -3, 2147483647, -2147483648, 0, 42]);
    const ti = engine.tensor(i, [2, 3]);
    equal(ti.dtype, 'int32');
    const back = await ti.read();
    ok(back instanceof Int32Array, 'int32 read');
    deepEqual(Array.from(back), Array.from(i));
    const fromList = engine.tensor([1.5, -2, 3], [3]);
    deepEqual(Array.from(await fromList.read()), [1.5, -2, 3]);
    t.dispose();
    ti.dispose();
    fromList.dispose();
  });

  it('zeros, write in place, reshape views', async () => {
    const z = engine.zeros([3, 5]);
    deepEqual(Array.from(await z.read()), new Array(15).fill(0));
    const data = randomData(15, 3);
    z.write(data);
    deepEqual(Array.from(await z.read()), Array.from(data));
    const v = z.reshape([5, 3]);
    deepEqual(v.shape, [5, 3]);
    deepEqual(Array.from(await v.read()), Array.from(data));
    v.dispose();
    deepEqual(Array.from(await z.read()), Array.from(data), 'disposing a view keeps the base');
    const v2 = z.reshape([15]);
    z.dispose();
    await rejects(() => v2.read(), /view of a disposed/, TensorStateError);
    throws(() => z.reshape([15]), /disposed/, TensorStateError);
  });

  it('writes after queued work without disturbing what that work reads', async () => {
    const x = engine.tensor([-1, 2, -3, 4], [4]);
    const y = relu(x);
    x.write([5, -6, 7, -8]);
    const y2 = relu(x);
    deepEqual(Array.from(await y.read()), [0, 2, 0, 4]);
    deepEqual(Array.from(await y2.read()), [5, 0, 7, 0]);
    [x, y, y2].forEach((t) => t.dispose());
  });

  it('dispatches a real WGSL kernel (relu and its gradient) and checks it elementwise', async () => {
    const n = 70001; // over 256 workgroups of 256, not a multiple of the workgroup size
    const xs = randomData(n, 11);
    const dys = randomData(n, 12);
    const x = engine.tensor(xs, [n]);
    const dy = engine.tensor(dys, [n]);
    const y = relu(x);
    const dx = reluGrad(dy, x);
    const [yv, dxv] = [await y.read(), await dx.read()];
    for (let i = 0; i < n; i++) {
      const ey = Math.max(xs[i]!, 0);
      const edx = xs[i]! > 0 ? dys[i]! : 0;
      if (yv[i] !== ey || dxv[i] !== edx) throw new Error(`element ${i}: relu ${yv[i]} vs ${ey}, grad ${dxv[i]} vs ${edx}`);
    }
    [x, dy, y, dx].forEach((t) => t.dispose());
  });

  it('compiles one pipeline for three shapes through one kernel', async () => {
    const before = engine.stats().pipelinesCompiled;
    const shapes = [[3, 17], [2, 4, 9, 9], [1, 1000]];
    for (const s of shapes) {
      const x = engine.tensor(randomData(s.reduce((a, b) => a * b, 1), 5), s);
      const y = relu(x);
      await y.read();
      x.dispose();
      y.dispose();
    }
    const compiled = engine.stats().pipelinesCompiled - before;
    ok(compiled <= 1, `expected at most one new pipeline (relu may already be cached), got ${compiled}`);
    const again = engine.stats().pipelinesCompiled;
    const x = engine.tensor(randomData(123, 1), [123]);
    await relu(x).read();
    equal(engine.stats().pipelinesCompiled, again, 'a fourth shape compiles nothing');
  });

  it('reuses a disposed tensor\'s buffer (allocation count unchanged)', async () => {
    const a = engine.tensor(randomData(4096, 1), [64, 64]);
    await a.read();
    a.dispose();
    const pooled = engine.stats().pooledBytes;
    ok(pooled >= 4096 * 4, 'the buffer went back to the pool');
    const allocs = engine.stats().bufferAllocations;
    const b = engine.tensor(randomData(4000, 2), [4000]); // same size bucket
    equal(engine.stats().bufferAllocations, allocs, 'no new buffer');
    b.dispose();
    equal(bucketBytes(4000 * 4), bucketBytes(4096 * 4));
  });

  it('folds more than 65535 workgroups into a 2-D grid', async () => {
    const n = 65536 * 256 + 300; // 65537 workgroups of 256
    const t = engine.zeros([n]);
    const fill = new Kernel('fill.wgsl', fillSource, 'main');
    engine.run(fill, { out: t }, { count: n, bits: 0x3f800000 }, Math.ceil(n / 256));
    const v = await t.read();
    ok(v[0] === 1 && v[n - 1] === 1 && v[65535 * 256] === 1, 'both ends written');
    let ones = 0;
    for (let i = 0; i < n; i++) if (v[i] === 1) ones++;
    equal(ones, n, 'every element');
    t.dispose();
  });

  it('counts dispatches and reports bytes', async () => {
    const s0 = engine.stats();
    const x = engine.tensor(randomData(10, 1), [10]);
    const y = relu(x);
    await engine.flush();
    const s1 = engine.stats();
    ok(s1.dispatches > s0.dispatches, 'dispatches counted');
    ok(s1.liveBytes >= s0.liveBytes + 80, 'live bytes grow');
    x.dispose();
    y.dispose();
  });
});

describe('runtime: bad calls throw FullconvError naming the problem', () => {
  let engine: Engine;
  before(async () => {
    engine = await getEngine();
  });

  it('data length not matching the shape', () => {
    throws(() => engine.tensor([1, 2, 3], [2, 2]), /3 elements.*\[2,2\] needs 4/, ShapeError);
  });
  it('negative, zero or fractional dimensions', () => {
    throws(() => engine.zeros([2, -1]), /dimension 1 = -1/, ShapeError);
    throws(() => engine.zeros([2.5]), /dimension 0 = 2.5/, ShapeError);
    throws(() => engine.tensor([1], [0]), /dimension 0 = 0/, ShapeError);
  });
  it('data of another type', () => {
    throws(() => engine.tensor(new Float64Array(4) as unknown as Float32Array, [4]), /Float64Array/, OptionError);
    throws(() => engine.tensor(['a'] as unknown as number[], [1]), /data\[0\]/, OptionError);
  });
  it('read or use after dispose, dispose twice', async () => {
    const t = engine.tensor([1, 2], [2]);
    t.dispose();
    t.dispose();
    await rejects(() => t.read(), /disposed/, TensorStateError);
    throws(() => relu(t), /disposed/, TensorStateError);
    throws(() => t.write([1, 2]), /disposed/, TensorStateError);
  });
  it('writes of the wrong length or dtype', () => {
    const t = engine.tensor([1, 2], [2]);
    throws(() => t.write([1, 2, 3]), /3 elements/, ShapeError);
    throws(() => t.write(new Int32Array(2)), /int32 array into a float32/, OptionError);
    t.dispose();
  });
  it('a tensor of another engine', async () => {
    const other = await createEngine();
    const a = engine.tensor([1, -1], [2]);
    const b = other.tensor([1, -1], [2]);
    throws(() => reluGrad(a, b), /another engine/, TensorStateError);
    other.dispose();
    other.dispose();
    throws(() => relu(b), /engine was disposed/, TensorStateError);
    throws(() => other.zeros([1]), /engine was disposed/, TensorStateError);
    a.dispose();
  });
  it('an unknown or missing uniform field, an unknown binding', () => {
    const fill = new Kernel('fill.wgsl', fillSource, 'main');
    const t = engine.zeros([4]);
    throws(() => engine.run(fill, { out: t }, { count: 4, bits: 0, extra: 1 }, 1), /unknown uniform field 'extra'/);
    throws(() => engine.run(fill, { out: t }, { count: 4 }, 1), /'bits' is missing/);
    throws(() => engine.run(fill, { out: t, other: t }, { count: 4, bits: 0 }, 1), /unknown binding/);
    throws(() => engine.run(fill, {}, { count: 4, bits: 0 }, 1), /binding 'out' is missing/);
    t.dispose();
  });
  it('a tensor over the device limit, before allocating', () => {
    const allocs = engine.stats().bufferAllocations;
    const huge = Math.floor(engine.limits.maxStorageBufferBindingSize / 4) + 16;
    throws(() => engine.zeros([huge]), /over the device's limit/, LimitError);
    equal(engine.stats().bufferAllocations, allocs);
  });
  it('unknown engine options', async () => {
    await rejects(() => createEngine({ poisson: true } as unknown as Parameters<typeof createEngine>[0]), /unknown option 'poisson'/, OptionError);
  });
  it('errors are FullconvErrors', () => {
    ok(new ShapeError('x') instanceof FullconvError);
  });
});
