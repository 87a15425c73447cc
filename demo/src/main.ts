// The demo page: wires the image input, the fully convolutional run against the sliding window,
// the activation maps and the convolution playground, and exposes window.fullconvDemo for tests.
import { createEngine, tensorFromImage, type Engine, type ModelGeometry } from '../../src/index.js';
import { renderActivations } from './activations.js';
import { DEFAULT_COLLAGE, type CollageOptions, type PlacedItem, type SpriteIndex } from './collage.js';
import { context2d } from './draw.js';
import { ProblemBanner, classify, webgpuMissingMessage } from './errors-ui.js';
import { argmaxCells, compareScoreMaps, forwardByLayer, runFullyConvolutional, runSlidingWindow, softmaxCells, warmUp, type ScoreMap } from './fcn.js';
import { emptyWindows, withEmptyChannel } from './empty-windows.js';
import { drawOverlay, formatMs, renderLegend, renderTimings, type Overlay, type ViewSettings } from './fcn-view.js';
import { ImageInput } from './image-input.js';
import { disposeModel, type DemoModel } from './model.js';
import { UNTRAINED, listModels, loadDemoModel } from './model-loader.js';
import { Playground, type PlaygroundResult } from './playground.js';
import { GpuLock, coalesced } from './gpu-lock.js';

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`demo page: #${id} is missing`);
  return el as T;
};

/** Sliding-window crops beyond which the baseline is skipped (SwiftShader runs a few hundred LeNet crops a second). */
const MAX_WINDOWS = { gpu: 200_000, swiftshader: 3_000 };

export interface RunReport {
  /** Counts the runs since the page loaded. */
  runId: number;
  /** The engine's number: a retry after a lost device makes a new one. */
  engineId: number;
  trained: boolean;
  modelSource: string;
  padded: boolean;
  classes: string[];
  imageWidth: number;
  imageHeight: number;
  /** Size of the label map: the image's, times labelScale (< 1 only for large images). */
  width: number;
  height: number;
  labelScale: number;
  /** [K, h, w] of the score map; cell (i, j) is centred at offset + jump·(i, j). */
  scoreShape: [number, number, number];
  jump: [number, number];
  offset: [number, number];
  fcnMs: number;
  slidingMs: number | null;
  windows: number;
  layers: { name: string; outputShape: number[]; ms: number }[];
  /** Class per label-map pixel from the fully convolutional run (row-major height×width). */
  labels: number[];
  /** Class per score-map cell, both ways. */
  fcnCells: number[];
  slidingCells: number[] | null;
  maxAbsDiff: number | null;
  maxAbsScore: number;
  agreement: number | null;
}

interface State {
  engine: Engine | null;
  model: DemoModel | null;
  compileMs: number | null;
  warmed: boolean;
  /** Engines we dispose on purpose: their device loss is no news. */
  retired: WeakSet<Engine>;
}

const state: State = { engine: null, model: null, compileMs: null, warmed: false, retired: new WeakSet() };
const lock = new GpuLock();
const banner = new ProblemBanner($('problem'));
let input: ImageInput;
let playground: Playground;
let spriteIndex: SpriteIndex;
let lastReport: RunReport | null = null;
let runCount = 0;
let engineCount = 0;

function viewSettings(): ViewSettings {
  const mode = (document.querySelector<HTMLInputElement>('input[name=view]:checked')?.value ?? 'argmax') as 'argmax' | 'heat';
  return { mode, classIndex: Number($<HTMLSelectElement>('class-picker').value) || 0, opacity: Number($<HTMLInputElement>('opacity').value) };
}

function showError(e: unknown): void {
  const kind = banner.showError(e, `${input.width}×${input.height}`, {
    retry: () => void restart(),
    shrink: () => input.shrinkByHalf(),
  });
  if (kind === 'device-lost') $('adapter').textContent = 'the GPU device was lost';
}

async function startEngine(): Promise<void> {
  if (state.engine) state.retired.add(state.engine);
  disposeModel(state.model);
  state.model = null;
  state.engine?.dispose();
  state.engine = null;
  const engine = await createEngine();
  state.engine = engine;
  engineCount++;
  state.warmed = false;
  const a = engine.adapterInfo;
  $('adapter').textContent = `adapter: ${[a.vendor, a.architecture, a.description].filter(Boolean).join(' · ')}${a.kind === 'swiftshader' ? ' (SwiftShader, a CPU emulation: slow)' : ''}`;
  engine.device.lost.then((info) => {
    if (state.retired.has(engine)) return;
    $('adapter').textContent = `the GPU device was lost (${info.reason})`;
    // The next use raises the engine's DeviceLostError, which shows the retry button.
    void refresh();
  });
  await loadModel(engine);
}

/** Loads the picked model onto the engine, replacing the current one. */
async function loadModel(engine: Engine): Promise<void> {
  disposeModel(state.model);
  state.model = null;
  state.warmed = false;
  const picker = $<HTMLSelectElement>('model-picker');
  const loaded = await loadDemoModel(engine, spriteIndex.classes, picker.value || null);
  state.model = loaded.model;
  const note = $('model-note');
  note.textContent = state.model.trained
    ? `Trained weights: ${state.model.source}.`
    : `Untrained weights: ${state.model.source}. ${loaded.problem ?? 'No trained model is in demo/models/ yet'}, so the classes are arbitrary; the fully convolutional and sliding-window answers must still agree.`;
  note.className = state.model.trained ? 'note' : 'note warn';
}

async function switchModel(): Promise<RunReport | null> {
  const engine = state.engine;
  if (!engine) return null;
  try {
    await lock.run(() => loadModel(engine));
  } catch (e) {
    showError(e);
    return null;
  }
  return refresh();
}

async function restart(): Promise<void> {
  try {
    await lock.run(startEngine);
    await refresh();
  } catch (e) {
    showError(e);
  }
}

/** The pixels the network reads: the image, inverted when asked. */
function networkPixels(): ImageData {
  const pixels = context2d(input.display).getImageData(0, 0, input.width, input.height);
  if (input.invert) for (let i = 0; i < pixels.data.length; i += 4) for (let c = 0; c < 3; c++) pixels.data[i + c] = 255 - pixels.data[i + c]!;
  return pixels;
}

async function runModels(): Promise<RunReport | null> {
  const { engine, model } = state;
  if (!engine || !model) return null;
  const [C, H, W] = model.inputShape;
  if (input.height < H || input.width < W) {
    $('fcn-summary').textContent = `The image (${input.width}×${input.height}) is smaller than one ${W}×${H} window.`;
    return null;
  }
  if (!state.warmed) {
    state.compileMs = await warmUp(engine, model);
    state.warmed = true;
  }
  const x = tensorFromImage(engine, networkPixels(), { channels: C as 1 | 3, mean: model.mean, std: model.std });
  try {
    const byLayer = await forwardByLayer(model.fcn, x);
    const fcn = await runFullyConvolutional(model, x);
    const geometry = model.geometryFor(input.height, input.width);
    const windows = fcn.h * fcn.w;
    const slidingWanted = $<HTMLInputElement>('run-sliding').checked;
    const sliding = slidingWanted && windows <= MAX_WINDOWS[engine.adapterInfo.kind] ? await runSlidingWindow(model, x) : null;
    const inputPlane = x.size <= 16 * 1024 * 1024
      ? { data: (await x.read()) as Float32Array, width: input.width, height: input.height, mean: model.mean, std: model.std }
      : null;
    shown = { engine, fcn, sliding, geometry, classes: model.classes };
    const overlay = await drawOverlays(shown);
    renderTimings($('fcn-layers'), byLayer.layers, fcn.ms, state.compileMs, byLayer.skipped);
    renderActivations($('activations'), inputPlane, byLayer.activations);
    const cmp = sliding ? compareScoreMaps(fcn, sliding) : null;
    writeSummaries(model, fcn, sliding, cmp, slidingWanted);
    return {
      runId: ++runCount, engineId: engineCount,
      trained: model.trained, modelSource: model.source, padded: model.padded, classes: model.classes,
      imageWidth: input.width, imageHeight: input.height, width: overlay.width, height: overlay.height, labelScale: overlay.scale,
      scoreShape: [fcn.K, fcn.h, fcn.w],
      jump: geometry.jump, offset: geometry.offset, fcnMs: fcn.ms, slidingMs: sliding?.ms ?? null, windows,
      layers: byLayer.layers, labels: Array.from(overlay.labels),
      fcnCells: Array.from(argmaxCells(fcn)), slidingCells: sliding ? Array.from(argmaxCells(sliding)) : null,
      maxAbsDiff: cmp?.maxAbsDiff ?? null, maxAbsScore: cmp?.maxAbsScore ?? 0, agreement: cmp?.agreement ?? null,
    };
  } finally {
    x.dispose();
  }
}

/** What the overlays were drawn from, so a change of view redraws them without running the models. */
interface Shown {
  engine: Engine;
  fcn: ScoreMap;
  sliding: ScoreMap | null;
  geometry: ModelGeometry;
  classes: string[];
}
let shown: Shown | null = null;

async function drawOverlays(s: Shown): Promise<Overlay> {
  const view = viewSettings();
  const maskEmpty = view.mode === 'argmax' && $<HTMLInputElement>('mask-empty').checked;
  renderLegend($('legend'), s.classes, view, maskEmpty);
  const gray = maskEmpty ? input.gray() : null;
  const draw = (canvas: HTMLCanvasElement, scores: ScoreMap): Promise<Overlay> => {
    const probabilities = softmaxCells(scores);
    if (!gray) return drawOverlay(s.engine, canvas, input.display, probabilities, scores.K, scores, s.geometry, view, input.items);
    const empty = emptyWindows(gray.data, gray.width, gray.height, scores, s.geometry);
    return drawOverlay(s.engine, canvas, input.display, withEmptyChannel(probabilities, scores, empty), scores.K + 1, scores, s.geometry, view, input.items);
  };
  const overlay = await draw($('fcn-canvas'), s.fcn);
  $('sw-canvas').hidden = !s.sliding;
  if (s.sliding) await draw($('sw-canvas'), s.sliding);
  return overlay;
}

/** A change of view: redraw from the last scores (calls while one waits share it, so a dragged slider does not pile up). */
const redrawOnce = coalesced(lock, async (): Promise<void> => {
  const s = shown;
  if (s && s.engine === state.engine) await drawOverlays(s);
});

function redrawOverlays(): void {
  redrawOnce().catch(showError);
}

function writeSummaries(model: DemoModel, fcn: ScoreMap, sliding: ScoreMap | null, cmp: ReturnType<typeof compareScoreMaps> | null, wanted: boolean): void {
  const [, H, W] = model.inputShape;
  const windows = fcn.h * fcn.w;
  $('fcn-summary').textContent = `Score map ${fcn.K}×${fcn.h}×${fcn.w} in ${formatMs(fcn.ms)} ms.`;
  if (!sliding || !cmp) {
    $('sw-summary').textContent = wanted
      ? `Skipped: ${windows} crops of ${W}×${H} would take too long on this adapter.`
      : `Off: tick “compare with the sliding window” to classify the ${windows} crops one by one.`;
    $('speedup').textContent = '';
    return;
  }
  $('sw-summary').textContent = `${windows} crops of ${W}×${H} in ${formatMs(sliding.ms)} ms.`;
  const same = `largest score difference ${cmp.maxAbsDiff.toExponential(1)} (scores up to ${cmp.maxAbsScore.toFixed(2)}); the class agrees on ${(100 * cmp.agreement).toFixed(1)}% of cells`;
  const caveat = model.padded ? ' (the model pads its convolutions, so windows see zeros at their edges where the whole image has neighbours: small differences are expected)' : '';
  $('speedup').textContent = `${(sliding.ms / fcn.ms).toFixed(1)}× faster fully convolutionally. Same answer: ${same}${caveat}.`;
}

/** Runs the models on the current image (calls while a run waits share it), then the playground. */
const runModelsOnce = coalesced(lock, async (): Promise<RunReport | null> => {
  try {
    lastReport = await runModels();
    if (banner.kind !== 'no-webgpu') banner.clear();
    return lastReport;
  } catch (e) {
    showError(e);
    return null;
  }
});

async function refresh(): Promise<RunReport | null> {
  const report = await runModelsOnce();
  await playground.update();
  return report;
}

function wireControls(): void {
  const seed = $<HTMLInputElement>('collage-seed');
  const collageOptions = (): Partial<CollageOptions> => {
    const [w, h] = $<HTMLSelectElement>('collage-size').value.split('x').map(Number);
    return { width: w, height: h, count: Number($<HTMLInputElement>('collage-count').value) || 12 };
  };
  $('btn-collage').addEventListener('click', () => {
    seed.value = String(Number(seed.value) + 1);
    input.collage(Number(seed.value), collageOptions());
  });
  $('collage-size').addEventListener('change', () => input.collage(Number(seed.value), collageOptions()));
  $('collage-count').addEventListener('change', () => input.collage(Number(seed.value), collageOptions()));
  $('btn-draw').addEventListener('click', () => input.blank());
  $('brush').addEventListener('input', () => (input.brush = Number($<HTMLInputElement>('brush').value) || 3));
  $('keep-size').addEventListener('change', () => (input.keepOriginalSize = $<HTMLInputElement>('keep-size').checked));
  $('invert').addEventListener('change', () => {
    input.invert = $<HTMLInputElement>('invert').checked;
    void refresh();
  });
  $<HTMLInputElement>('file').addEventListener('change', (ev) => {
    const file = (ev.target as HTMLInputElement).files?.[0];
    if (file) input.load(file).catch(showError);
  });
  const drop = $('drop');
  drop.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    drop.classList.remove('over');
    const file = ev.dataTransfer?.files[0];
    if (file) input.load(file).catch(showError);
  });
  for (const el of [...document.querySelectorAll('input[name=view]'), $('class-picker'), $('opacity'), $('mask-empty')]) el.addEventListener('input', redrawOverlays);
  $('btn-run').addEventListener('click', () => void refresh());
  $('run-sliding').addEventListener('change', () => void refresh());
  $('model-picker').addEventListener('change', () => void switchModel());
  input.onChange(() => {
    $('invert').toggleAttribute('checked', input.invert);
    $<HTMLInputElement>('invert').checked = input.invert;
    $('input-info').textContent = `Now: ${input.kind}, ${input.width}×${input.height} pixels.`;
    void refresh();
  });
}

async function boot(): Promise<void> {
  const [index, sprite] = await Promise.all([
    fetch('./assets/fashion-mnist-sprite.json').then((r) => r.json() as Promise<SpriteIndex>),
    new Promise<HTMLImageElement>((resolve, reject) => {
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = () => reject(new Error('the sample sprite did not load'));
      img.src = './assets/fashion-mnist-sprite.png';
    }),
  ]);
  spriteIndex = index;
  input = new ImageInput($('input-canvas'), sprite, index);
  // The playground writes its own shape errors; only a lost device or a limit needs the banner.
  playground = new Playground(() => state.engine, () => input.gray(), (e) => classify(e) !== 'other' && showError(e), lock);
  const picker = $<HTMLSelectElement>('class-picker');
  index.classes.forEach((name, k) => picker.add(new Option(`${k} ${name}`, String(k))));
  renderLegend($('legend'), index.classes, viewSettings(), $<HTMLInputElement>('mask-empty').checked);
  const modelPicker = $<HTMLSelectElement>('model-picker');
  for (const name of await listModels()) modelPicker.add(new Option(name, name));
  modelPicker.add(new Option('untrained (random weights)', UNTRAINED));
  const askedModel = new URLSearchParams(location.search).get('model');
  if (askedModel && [...modelPicker.options].some((o) => o.value === askedModel)) modelPicker.value = askedModel;
  const missing = webgpuMissingMessage();
  if (!missing) {
    try {
      await startEngine();
    } catch (e) {
      banner.show('no-webgpu', e instanceof Error ? e.message : String(e));
      $('adapter').textContent = 'no WebGPU adapter';
    }
  } else {
    banner.show('no-webgpu', missing);
    $('adapter').textContent = 'no WebGPU in this browser';
  }
  wireControls();
  const first = initialCollage();
  input.collage(first.seed, first.options);
  await refresh();
}

/** The first collage: ?seed=&width=&height=&count=&minSize=&maxSize=&gap= (links and tests), else seed 1 at the default size. */
function initialCollage(): { seed: number; options: Partial<CollageOptions> } {
  const params = new URLSearchParams(location.search);
  const number = (name: string): number | undefined => {
    const v = Number(params.get(name) ?? NaN);
    return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  };
  const seed = number('seed') ?? 1;
  $<HTMLInputElement>('collage-seed').value = String(seed);
  const options: Partial<CollageOptions> = {};
  for (const key of ['width', 'height', 'count', 'minSize', 'maxSize', 'gap'] as const) {
    const v = number(key);
    if (v !== undefined && (v > 0 || key === 'gap')) options[key] = v;
  }
  // Show what was asked in the controls, so "New sample collage" goes on from there.
  if (options.count) $<HTMLInputElement>('collage-count').value = String(options.count);
  if (options.width || options.height) {
    const size = `${options.width ?? DEFAULT_COLLAGE.width}x${options.height ?? DEFAULT_COLLAGE.height}`;
    const select = $<HTMLSelectElement>('collage-size');
    if (![...select.options].some((o) => o.value === size)) select.add(new Option(size.replace('x', '×'), size));
    select.value = size;
  }
  return { seed, options };
}

const ready = boot();

/** The test hook: deterministic collages and the last run's numbers. */
const hook = {
  ready,
  /** Builds the collage for `seed`, runs everything, and returns the placed items. */
  async collage(seed: number, opts: Partial<CollageOptions> = {}): Promise<PlacedItem[]> {
    await ready;
    $<HTMLInputElement>('collage-seed').value = String(seed);
    const items = input.collage(seed, opts);
    await refresh();
    return items;
  },
  /** Runs the models on the current image again; resolves to what the page now shows. */
  run: (): Promise<RunReport | null> => refresh(),
  /** The model names the picker offers ('untrained' last). */
  models: (): string[] => [...$<HTMLSelectElement>('model-picker').options].map((o) => o.value),
  /** Switches to a model and runs it on the current image. */
  async useModel(name: string): Promise<RunReport | null> {
    const picker = $<HTMLSelectElement>('model-picker');
    if (picker.value === name && state.model && lastReport) return lastReport;
    picker.value = name;
    return switchModel();
  },
  /** The items of the collage on show (empty for uploads and drawings). */
  items: (): PlacedItem[] => input.items,
  report: (): RunReport | null => lastReport,
  playground: (): Promise<PlaygroundResult> => playground.update(),
  problem: (): { kind: string | null; text: string } => ({ kind: banner.kind, text: $('problem').textContent ?? '' }),
  /** Destroys the GPU device, as a driver reset would; resolves once the loss is known. */
  async loseDevice(): Promise<void> {
    const device = state.engine?.device;
    if (!device) return;
    device.destroy();
    await device.lost;
  },
};
(window as unknown as { fullconvDemo: typeof hook }).fullconvDemo = hook;
