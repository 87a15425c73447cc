// Convolution playground: one filter over the current image, then a pool, with the shape
// arithmetic, parameter count and receptive field written out and the GPU's answer beside it.
import { avgPool2d, conv2d, lpPool2d, maxPool2d, type Engine, type Tensor } from '../../src/index.js';
import { drawPlane } from './draw.js';
import type { GrayImage } from './image-input.js';
import { coalesced, type GpuLock } from './gpu-lock.js';
import { KERNEL_PRESETS } from './kernels.js';
import {
  axisSize, convFormulaText, convParameterCount, poolFormulaText, receptiveField, type ConvSettings, type PoolMode, type PoolSettings,
} from './playground-math.js';

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`demo page: #${id} is missing`);
  return el as T;
};

export interface PlaygroundState {
  preset: string;
  weights: number[];
  conv: ConvSettings;
  pool: PoolSettings;
}

export interface PlaygroundResult {
  sizeText: string;
  convShape: readonly number[] | null;
  poolShape: readonly number[] | null;
  error: string | null;
}

export class Playground {
  private state: PlaygroundState;
  last: PlaygroundResult | null = null;

  constructor(
    private readonly engine: () => Engine | null, private readonly image: () => GrayImage | null,
    private readonly onError: (e: unknown) => void, lock: GpuLock,
  ) {
    this.update = coalesced(lock, () => this.run());
    const select = $<HTMLSelectElement>('pg-kernel');
    for (const [key, preset] of Object.entries(KERNEL_PRESETS)) select.add(new Option(preset.name, key));
    select.value = 'edge';
    this.state = this.readControls();
    for (const id of ['pg-kernel', 'pg-stride', 'pg-padding', 'pg-dilation', 'pg-pool', 'pg-pool-size', 'pg-pool-stride']) {
      $(id).addEventListener('input', () => {
        if (id === 'pg-kernel') this.state.weights = [...(KERNEL_PRESETS[select.value]?.weights ?? [])];
        this.state = this.readControls();
        if (id === 'pg-kernel') this.renderWeightGrid();
        void this.update();
      });
    }
    this.state.weights = [...KERNEL_PRESETS.edge!.weights];
    this.renderWeightGrid();
  }

  private readControls(): PlaygroundState {
    const num = (id: string, min: number): number => Math.max(min, Math.floor(Number($<HTMLInputElement>(id).value) || min));
    const preset = $<HTMLSelectElement>('pg-kernel').value;
    const kernel = KERNEL_PRESETS[preset]?.size ?? 3;
    const weights = this.state?.weights.length === kernel * kernel ? this.state.weights : [...(KERNEL_PRESETS[preset]?.weights ?? [])];
    return {
      preset,
      weights,
      conv: { kernel, stride: num('pg-stride', 1), padding: num('pg-padding', 0), dilation: num('pg-dilation', 1), inChannels: 1, outChannels: 1 },
      pool: { mode: $<HTMLSelectElement>('pg-pool').value as PoolMode, size: num('pg-pool-size', 1), stride: num('pg-pool-stride', 1) },
    };
  }

  /** The weight grid: editable for the custom kernels, read-only numbers for the presets. */
  private renderWeightGrid(): void {
    const grid = $('pg-weights');
    const { kernel } = this.state.conv;
    const editable = this.state.preset.startsWith('custom');
    grid.replaceChildren();
    grid.style.gridTemplateColumns = `repeat(${kernel}, 3.6em)`;
    this.state.weights.forEach((w, i) => {
      const cell = document.createElement('input');
      cell.type = 'number';
      cell.step = '0.1';
      cell.value = String(Math.round(w * 1000) / 1000);
      cell.readOnly = !editable;
      cell.addEventListener('input', () => {
        this.state.weights[i] = Number(cell.value) || 0;
        void this.update();
      });
      grid.append(cell);
    });
  }

  /** Runs with the latest settings (calls while one waits share it). */
  readonly update: () => Promise<PlaygroundResult>;

  private async run(): Promise<PlaygroundResult> {
    if ($('pg-weights').childElementCount !== this.state.weights.length) this.renderWeightGrid();
    const img = this.image();
    const engine = this.engine();
    const { conv, pool } = this.state;
    const result: PlaygroundResult = { sizeText: '', convShape: null, poolShape: null, error: null };
    if (!img) return result;
    this.writeMath(img);
    const convH = axisSize(img.height, conv.kernel, conv.stride, conv.padding, conv.dilation).out;
    const convW = axisSize(img.width, conv.kernel, conv.stride, conv.padding, conv.dilation).out;
    const poolOn = pool.mode !== 'none';
    const poolH = poolOn && convH !== null ? axisSize(convH, pool.size, pool.stride, 0).out : convH;
    const poolW = poolOn && convW !== null ? axisSize(convW, pool.size, pool.stride, 0).out : convW;
    const formulaSize = convH === null || convW === null ? 'the kernel does not fit' : `conv ${convH}×${convW}` + (poolOn ? (poolH === null || poolW === null ? ' → the pool window does not fit' : ` → pool ${poolH}×${poolW}`) : '');
    if (!engine) {
      result.sizeText = `${formulaSize} (no GPU: formula only)`;
      $('pg-size').textContent = result.sizeText;
      return result;
    }
    const owned: Tensor[] = [];
    try {
      const x = engine.tensor(img.data, [1, 1, img.height, img.width]);
      const w = engine.tensor(new Float32Array(this.state.weights), [1, 1, conv.kernel, conv.kernel]);
      owned.push(x, w);
      const started = performance.now();
      const y = conv2d(x, w, null, { stride: conv.stride, padding: conv.padding, dilation: conv.dilation });
      owned.push(y);
      const p = poolOn ? this.pool(y) : null;
      if (p) owned.push(p);
      const convData = await y.read();
      const poolData = p ? await p.read() : null;
      const ms = performance.now() - started;
      result.convShape = y.shape;
      result.poolShape = p?.shape ?? null;
      drawPlane($<HTMLCanvasElement>('pg-conv'), convData, y.shape[3]!, y.shape[2]!);
      $('pg-conv-cap').textContent = `conv output [${y.shape.join(', ')}]`;
      const poolCanvas = $<HTMLCanvasElement>('pg-pool-out');
      poolCanvas.hidden = !p;
      if (p && poolData) drawPlane(poolCanvas, poolData, p.shape[3]!, p.shape[2]!);
      $('pg-pool-cap').textContent = p ? `${pool.mode} pool output [${p.shape.join(', ')}]` : 'no pooling';
      const gpuShape = (p ?? y).shape;
      result.sizeText = `${formulaSize}; computed on the GPU: [${gpuShape.join(', ')}] in ${ms.toFixed(1)} ms`;
    } catch (e) {
      result.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      result.sizeText = `${formulaSize}; the GPU says: ${result.error}`;
      this.onError(e);
    } finally {
      for (const t of owned) t.dispose();
    }
    $('pg-size').textContent = result.sizeText;
    this.last = result;
    return result;
  }

  private pool(y: Tensor): Tensor {
    const { size, stride, mode } = this.state.pool;
    if (mode === 'max') return maxPool2d(y, { kernel: size, stride });
    if (mode === 'avg') return avgPool2d(y, { kernel: size, stride });
    return lpPool2d(y, { p: 2, kernel: size, stride });
  }

  private writeMath(img: GrayImage): void {
    const { conv, pool } = this.state;
    const convH = axisSize(img.height, conv.kernel, conv.stride, conv.padding, conv.dilation).out;
    const convW = axisSize(img.width, conv.kernel, conv.stride, conv.padding, conv.dilation).out;
    $('pg-conv-formula').textContent = `${convFormulaText('W', img.width, conv)}\n${convFormulaText('H', img.height, conv)}`;
    $('pg-pool-formula').textContent =
      pool.mode === 'none' ? 'no pooling' : convH === null || convW === null ? '—' : `${poolFormulaText('W', convW, pool)}\n${poolFormulaText('H', convH, pool)}`;
    $('pg-params').textContent = `${convParameterCount(conv).text} (the bias is 0 here); pooling has no parameters`;
    const rf = receptiveField(conv, pool);
    $('pg-rf').textContent = `${rf.size}×${rf.size} input pixels, one output every ${rf.jump} pixels (${rf.text})`;
    drawPlane($<HTMLCanvasElement>('pg-input'), img.data, img.width, img.height);
    $('pg-input-cap').textContent = `input [1, 1, ${img.height}, ${img.width}]`;
  }
}
