// The fullconv command line (Node): a classifier's weights + a picture of any size -> the score-map
// picture, through the fully convolutional conversion.
//   fullconv infer [MODEL.safetensors] IMAGE.(png|jpg) [--out heatmap.png] [--arch NAME|FILE.json]
//                  [--class K|NAME | --argmax] [--train-size C,H,W] [--min-score P] [--opacity A]
//   fullconv infer demo            a Fashion-MNIST collage and the demo model -> test-artifacts/
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createEngine, type Engine } from '../engine.js';
import { FullconvError } from '../errors.js';
import { loadSafetensors } from '../nn/safetensors.js';
import type { Sequential } from '../nn/sequential.js';
import { modelFromSpec, parseModelSpec, type ModelSpec } from '../nn/spec.js';
import type { Tensor } from '../tensor.js';
import { ARCHITECTURES, FASHION_MNIST_CLASSES } from './architectures.js';
import { CLASS_PALETTE, readRGBA, rgbaTensor } from './colorize.js';
import { spriteCollage, syntheticCollage, type Collage } from './collage.js';
import { tensorFromImage } from './image.js';
import { decodeImage, encodePng, type DecodedImage } from './image_node.js';
import { scoreMapPicture } from './render.js';

export const USAGE = `usage:
  fullconv infer [MODEL.safetensors] IMAGE.(png|jpg) [options]
  fullconv infer demo [options]        a Fashion-MNIST collage and the demo model

Runs a classifier's weights, converted to a fully convolutional network, on a picture of any
size and writes its score map as a picture of the same size.
  MODEL              weights; the architecture is MODEL.json beside it, or --arch.
                     Omitted: the trained demo model (demo/models/), else random weights.
  --out FILE         the PNG to write (default heatmap.png; demo: test-artifacts/heatmap.png)
  --arch NAME|FILE   ${Object.keys(ARCHITECTURES).join(', ')}, or a JSON architecture file
  --class K          heat map of class K's probability (an index or a class name)
  --argmax           each pixel in its most likely class's colour (the default)
  --train-size C,H,W the classifier's input size, when the architecture does not say
  --min-score P      argmax: leave pixels whose best probability is below P uncoloured
  --opacity A        weight of the colours over the picture, 0..1 (default 0.6)
  --seed N           random weights / collage layout seed (default 1)`;

/** A mistake in the command line: printed with the usage, exit code 2. */
class UsageError extends Error {}

interface Options {
  model: string | null;
  image: string | 'demo';
  out: string;
  arch: string | null;
  show: { classArg: string } | 'argmax';
  trainSize: [number, number, number] | null;
  minScore: number | null;
  opacity: number;
  seed: number;
}

/** The package root: dist/ (or dist-test/) is one level below it. */
function packageRoot(): string {
  return path.dirname(path.dirname(fileURLToPath(import.meta.url)));
}

function parseOptions(argv: string[]): Options {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: {
        out: { type: 'string' }, arch: { type: 'string' }, class: { type: 'string' }, argmax: { type: 'boolean' },
        'train-size': { type: 'string' }, 'min-score': { type: 'string' }, opacity: { type: 'string' }, seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  const { values, positionals } = parsed;
  if (values.help) throw new UsageError('');
  const [command, ...rest] = positionals;
  if (command !== 'infer') throw new UsageError(command === undefined ? 'no command given' : `unknown command '${command}'`);
  if (rest.length < 1 || rest.length > 2) throw new UsageError(`infer takes [MODEL] IMAGE or demo, got ${rest.length} arguments`);
  if (values.class !== undefined && values.argmax) throw new UsageError('--class and --argmax exclude each other');
  const number = (name: string, text: string | undefined, min: number, max: number): number | null => {
    if (text === undefined) return null;
    const v = Number(text);
    if (!Number.isFinite(v) || v < min || v > max) throw new UsageError(`--${name} must be a number in [${min}, ${max}], got '${text}'`);
    return v;
  };
  let trainSize: Options['trainSize'] = null;
  if (values['train-size'] !== undefined) {
    const dims = values['train-size'].split(',').map(Number);
    if (dims.length !== 3 || !dims.every((d) => Number.isSafeInteger(d) && d >= 1)) throw new UsageError(`--train-size must be C,H,W (three integers >= 1), got '${values['train-size']}'`);
    trainSize = dims as [number, number, number];
  }
  const seed = number('seed', values.seed, 0, 2 ** 32 - 1) ?? 1;
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got '${values.seed}'`);
  const image = rest[rest.length - 1]!;
  const isDemo = image === 'demo';
  return {
    model: rest.length === 2 ? rest[0]! : null,
    image,
    out: values.out ?? (isDemo ? path.join('test-artifacts', 'heatmap.png') : 'heatmap.png'),
    arch: values.arch ?? null,
    show: values.class !== undefined ? { classArg: values.class } : 'argmax',
    trainSize,
    minScore: number('min-score', values['min-score'], 0, 1),
    opacity: number('opacity', values.opacity, 0, 1) ?? 0.6,
    seed,
  };
}

/** The model's files, read and checked before any GPU work. */
interface ModelFiles {
  spec: ModelSpec;
  trainSize: [number, number, number];
  weights: Uint8Array | null;
  source: string;
}

function readSpecFile(file: string): ModelSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new FullconvError(`${file}: cannot read the architecture (${e instanceof Error ? e.message : String(e)})`);
  }
  try {
    return parseModelSpec(text);
  } catch (e) {
    if (e instanceof FullconvError) throw new FullconvError(`${file}: ${e.message}`);
    throw e;
  }
}

function architecture(arch: string): ModelSpec {
  const named = ARCHITECTURES[arch];
  if (named) return named;
  if (arch.endsWith('.json') || existsSync(arch)) return readSpecFile(arch);
  throw new UsageError(`--arch must be one of ${Object.keys(ARCHITECTURES).join(', ')} or a JSON file, got '${arch}'`);
}

/** demo/models/NAME.json with NAME.safetensors beside it; lenet-max first. */
function findDemoModel(): string | null {
  const dir = path.join(packageRoot(), 'demo', 'models');
  if (!existsSync(dir)) return null;
  const names = readdirSync(dir).filter((f) => f.endsWith('.safetensors') && existsSync(path.join(dir, f.replace(/\.safetensors$/, '.json')))).sort();
  const pick = names.find((n) => n.startsWith('lenet-max')) ?? names[0];
  return pick === undefined ? null : path.join(dir, pick);
}

function shortPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative === '' || relative.startsWith('..') ? file : relative;
}

function sizeText(bytes: number): string {
  return bytes < 10240 ? `${bytes} bytes` : `${(bytes / 1024).toFixed(0)} KB`;
}

function readModelFiles(opts: Options): ModelFiles {
  const weightsFile = opts.model ?? findDemoModel();
  let spec: ModelSpec;
  if (opts.arch !== null) spec = architecture(opts.arch);
  else if (weightsFile !== null) {
    const beside = weightsFile.replace(/\.safetensors$/i, '') + '.json';
    if (!existsSync(beside)) throw new FullconvError(`no architecture for ${weightsFile}: ${beside} does not exist; pass --arch ${Object.keys(ARCHITECTURES).join('|')}|FILE.json`);
    spec = readSpecFile(beside);
  } else spec = ARCHITECTURES.lenet!;
  const trainSize = opts.trainSize ?? spec.inputShape ?? null;
  if (!trainSize) throw new FullconvError('the architecture gives no inputShape: pass --train-size C,H,W');
  if (trainSize[0] !== 1 && trainSize[0] !== 3) throw new FullconvError(`the classifier takes ${trainSize[0]} channels; pictures give 1 (grey) or 3 (RGB)`);
  if (weightsFile === null) return { spec, trainSize, weights: null, source: `random weights (seed ${opts.seed})` };
  let weights: Uint8Array;
  try {
    weights = readFileSync(weightsFile);
  } catch (e) {
    throw new FullconvError(`${weightsFile}: cannot read the weights (${e instanceof Error ? e.message : String(e)})`);
  }
  return { spec, trainSize, weights, source: `${shortPath(weightsFile)} (${sizeText(weights.length)})` };
}

function buildClassifier(engine: Engine, files: ModelFiles, seed: number): Sequential {
  const classifier = modelFromSpec(engine, files.spec, { seed });
  if (files.weights === null) return classifier;
  try {
    loadSafetensors(classifier, files.weights);
  } catch (e) {
    classifier.dispose();
    if (e instanceof FullconvError) throw new FullconvError(`${files.source}: ${e.message}`);
    throw e;
  }
  return classifier;
}

function readPicture(file: string): DecodedImage {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new FullconvError(`${file}: cannot read the image (${e instanceof Error ? e.message : String(e)})`);
  }
  try {
    return decodeImage(bytes);
  } catch (e) {
    if (e instanceof FullconvError) throw new FullconvError(`${file}: ${e.message}`);
    throw e;
  }
}

function demoCollage(classes: string[], seed: number): { collage: Collage; from: string } {
  const dir = path.join(packageRoot(), 'demo', 'assets');
  const indexFile = path.join(dir, 'fashion-mnist-sprite.json');
  if (existsSync(indexFile)) {
    const index = JSON.parse(readFileSync(indexFile, 'utf8')) as { sprite: string; tileHeight: number; tileWidth: number; perClass: number; classes: string[] };
    const sprite = decodeImage(readFileSync(path.join(dir, index.sprite)));
    return { collage: spriteCollage({ ...index, width: sprite.width, rgba: sprite.rgba }, seed), from: 'Fashion-MNIST test crops (demo/assets)' };
  }
  return { collage: syntheticCollage(classes, seed), from: 'synthetic silhouettes (demo/assets not found)' };
}

async function elapsed(engine: Engine, run: () => Tensor): Promise<{ y: Tensor; ms: number }> {
  const start = performance.now();
  const y = run();
  await engine.flush();
  return { y, ms: performance.now() - start };
}

/** Each layer on its own, flushed and timed (unfused: a Conv2d's ReLU is its own row here). */
async function timeLayers(engine: Engine, model: Sequential, x: Tensor): Promise<{ name: string; shape: readonly number[]; ms: number }[]> {
  const rows = [];
  let current = x;
  for (const layer of model.layers) {
    const { y, ms } = await elapsed(engine, () => layer.forward(current, false).y);
    rows.push({ name: layer.describe(), shape: y.shape, ms });
    if (current !== x && y.storage !== current.storage) current.dispose();
    current = y;
  }
  if (current !== x) current.dispose();
  return rows;
}

function softmaxAt(scores: Float32Array, K: number, plane: number, cell: number): number[] {
  const logits = Array.from({ length: K }, (_, k) => scores[k * plane + cell]!);
  const top = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - top));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

function resolveClass(arg: string, classes: string[], K: number): number {
  const byName = classes.findIndex((c) => c.toLowerCase() === arg.toLowerCase());
  if (byName >= 0) return byName;
  const k = Number(arg);
  if (!Number.isSafeInteger(k) || k < 0 || k >= K) throw new UsageError(`--class must be a class index in [0, ${K - 1}] or a name (${classes.join(', ')}), got '${arg}'`);
  return k;
}

function hex([r, g, b]: readonly number[]): string {
  return '#' + [r!, g!, b!].map((v) => v.toString(16).padStart(2, '0')).join('');
}

async function infer(opts: Options, log: (line: string) => void): Promise<void> {
  // Files first: a missing or broken file fails before the GPU starts.
  const files = readModelFiles(opts);
  const { spec, trainSize } = files;
  const outputs = spec.layers.filter((l): l is Extract<typeof l, { type: 'Linear' }> => l.type === 'Linear').pop()?.out;
  const classes = spec.classes ?? (outputs === 10 && trainSize[0] === 1 ? FASHION_MNIST_CLASSES : []);
  let picture: DecodedImage;
  let items: Collage['items'] = [];
  let imageLine: string;
  if (opts.image === 'demo') {
    const { collage, from } = demoCollage(classes.length > 0 ? classes : FASHION_MNIST_CLASSES, opts.seed);
    picture = collage;
    items = collage.items;
    const collageFile = path.join(path.dirname(opts.out), 'collage.png');
    mkdirSync(path.dirname(collageFile), { recursive: true });
    writeFileSync(collageFile, encodePng(collage.width, collage.height, collage.rgba));
    imageLine = `image: ${collageFile}, ${collage.width}×${collage.height}, ${items.length} items from ${from}`;
  } else {
    picture = readPicture(opts.image);
    imageLine = `image: ${opts.image}, ${picture.width}×${picture.height}`;
  }
  const [C, H, W] = trainSize;
  if (picture.height < H || picture.width < W) throw new FullconvError(`the image ${picture.width}×${picture.height} is smaller than the classifier's input ${W}×${H}`);

  const engine = await createEngine();
  try {
    const a = engine.adapterInfo;
    log(`adapter: ${[a.vendor, a.architecture, a.device].filter(Boolean).join(' ')} (${a.description || a.kind}) via ${a.runtime}${a.kind === 'swiftshader' ? ', a CPU emulation: timings are not GPU timings' : ''}`);
    if (files.weights === null) {
      log('WARNING: no trained demo model under demo/models/ (train one: npm run train -- --data DIR);');
      log('WARNING: using RANDOM weights, so the picture shows nothing meaningful.');
    }
    const classifier = buildClassifier(engine, files, opts.seed);
    log(`model: ${files.source}, trained on [${trainSize.join(', ')}]`);
    log(imageLine);

    const fcn = classifier.toFullyConvolutional(trainSize).eval();
    const x = tensorFromImage(engine, picture, {
      channels: C as 1 | 3, mean: spec.mean?.length === C ? spec.mean : (spec.mean?.[0] ?? 0), std: spec.std?.length === C ? spec.std : (spec.std?.[0] ?? 1),
    });
    const geometry = fcn.geometry(x.shape);
    const [K, outH, outW] = [geometry.outputShape[1]!, geometry.outputShape[2]!, geometry.outputShape[3]!];
    log(`input [${x.shape.join(', ')}] -> score map [${geometry.outputShape.join(', ')}]: ${outH * outW} cells of ${K} classes ` +
      `(each sees ${geometry.receptiveField.join('×')} pixels, ${geometry.jump.join('×')} apart, first centred at ${geometry.offset.join(', ')})`);

    const cold = await elapsed(engine, () => fcn.forward(x));
    cold.y.dispose();
    await timeLayers(engine, fcn, x); // compiles the unfused layers' pipelines
    const layers = await timeLayers(engine, fcn, x);
    const width = Math.max(...layers.map((l) => l.name.length));
    log('per layer (each run and flushed alone, unfused):');
    layers.forEach((l, i) => log(`  ${String(i).padStart(2)} ${l.name.padEnd(width)}  [${l.shape.join(', ')}]`.padEnd(width + 28) + `${l.ms.toFixed(2).padStart(9)} ms`));
    const runs = 3;
    let total = 0;
    let scores: Tensor | null = null;
    for (let r = 0; r < runs; r++) {
      const warm = await elapsed(engine, () => fcn.forward(x));
      total += warm.ms;
      scores?.dispose();
      scores = warm.y;
    }
    log(`total: ${(total / runs).toFixed(2)} ms per forward (warm, fused Conv+ReLU, mean of ${runs}); first run ${cold.ms.toFixed(1)} ms (compiles the pipelines)`);

    const show = opts.show === 'argmax' ? 'argmax' : resolveClass(opts.show.classArg, classes, K);
    const image = rgbaTensor(engine, picture.width, picture.height, picture.rgba);
    const pictureTensor = scoreMapPicture(scores!, {
      size: [picture.height, picture.width], show, placement: { jump: geometry.jump, offset: geometry.offset },
      softmax: !(fcn.layers[fcn.layers.length - 1]?.type === 'Softmax'), image, opacity: opts.opacity,
      ...(opts.minScore !== null ? { minScore: opts.minScore } : {}),
    });
    const rgba = await readRGBA(pictureTensor);
    mkdirSync(path.dirname(path.resolve(opts.out)), { recursive: true });
    writeFileSync(opts.out, encodePng(picture.width, picture.height, rgba));
    const name = (k: number) => classes[k] ?? `class ${k}`;
    log(`wrote ${opts.out}: ${picture.width}×${picture.height}, ${show === 'argmax' ? `most likely class per pixel${opts.minScore !== null ? ` (uncoloured below ${opts.minScore})` : ''}` : `heat map of P(${name(show)})`} over the image`);

    const values = (await scores!.read()) as Float32Array;
    const plane = outH * outW;
    const counts = new Array<number>(K).fill(0);
    for (let cell = 0; cell < plane; cell++) {
      const p = softmaxAt(values, K, plane, cell);
      counts[p.indexOf(Math.max(...p))]! += 1;
    }
    if (show === 'argmax') log(`classes (colour: cells where most likely): ${counts.map((n, k) => `${name(k)} ${hex(CLASS_PALETTE[k % CLASS_PALETTE.length]!)}: ${n}`).join(', ')}`);
    if (items.length > 0) {
      let right = 0;
      for (const item of items) {
        // The cell whose window is centred nearest the item's centre.
        const cell = [0, 1].map((axis) => {
          const centre = (axis === 0 ? item.y : item.x) + item.size / 2 - 0.5;
          const n = axis === 0 ? outH : outW;
          return Math.min(n - 1, Math.max(0, Math.round((centre - geometry.offset[axis]!) / geometry.jump[axis]!)));
        });
        const p = softmaxAt(values, K, plane, cell[0]! * outW + cell[1]!);
        const best = p.indexOf(Math.max(...p));
        right += best === item.label ? 1 : 0;
        log(`  ${item.className.padEnd(12)} at (${item.x}, ${item.y}): cell (${cell[0]}, ${cell[1]}) says ${name(best)} (p ${p[best]!.toFixed(2)})${best === item.label ? '' : '  ✗'}`);
      }
      log(`${right} of ${items.length} items classified right at their centres${files.weights !== null ? '' : ' (random weights: chance is 1 in 10)'}`);
    }
    for (const t of [x, scores!, image, pictureTensor]) t.dispose();
    fcn.dispose();
    classifier.dispose();
  } finally {
    engine.dispose();
  }
}

/** Runs the command line; returns the process exit code (0 ok, 1 failed, 2 usage). */
export async function main(argv: string[], log: (line: string) => void = console.log, logError: (line: string) => void = console.error): Promise<number> {
  let opts: Options;
  try {
    opts = parseOptions(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    if (e.message) logError(`fullconv: ${e.message}`);
    logError(USAGE);
    return e.message ? 2 : 0;
  }
  try {
    await infer(opts, log);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      logError(`fullconv: ${e.message}`);
      return 2;
    }
    if (e instanceof FullconvError) {
      logError(`fullconv: ${e.name}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
