// Records GPU work in call order and submits it in batches: one command encoder per batch, runs of
// dispatches in one compute pass, all uniforms of a batch in one buffer. Pipelines compile with
// createComputePipelineAsync; a batch waits for its pipelines before it is encoded.
import { FullconvError } from '../errors.js';
import type { Kernel } from './kernels.js';

export type Workgroups = [number, number, number];

export interface Binding {
  binding: number;
  buffer: GPUBuffer;
  size: number;
  writable: boolean;
}

interface PipelineEntry {
  promise: Promise<GPUComputePipeline>;
  pipeline: GPUComputePipeline | null;
  layout: GPUBindGroupLayout;
  uniformBinding: number | null;
}

type Command =
  | { kind: 'dispatch'; entry: PipelineEntry; bindings: Binding[]; uniformOffset: number; uniformSize: number; grid: Workgroups }
  | { kind: 'copy'; src: GPUBuffer; dst: GPUBuffer; bytes: number; srcOffset: number; dstOffset: number }
  | { kind: 'clear'; buffer: GPUBuffer; bytes: number };

interface Batch {
  commands: Command[];
  uniforms: Uint8Array;
  uniformBytes: number;
  dispatches: number;
  /** Staging buffers destroyed once the batch has run. */
  staging: GPUBuffer[];
}

/** A batch is submitted by itself once it holds this many dispatches. */
const BATCH_DISPATCHES = 128;

export class CommandQueue {
  private batch: Batch = newBatch();
  private chain: Promise<void> = Promise.resolve();
  private readonly pipelines = new Map<string, PipelineEntry>();
  private readonly layouts = new Map<Kernel, GPUBindGroupLayout>();
  private readonly uniformAlign: number;
  private unsubmitted = 0;
  private disposed = false;
  pipelinesCompiled = 0;
  dispatchesSubmitted = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly afterSubmit: () => void,
  ) {
    this.uniformAlign = device.limits.minUniformBufferOffsetAlignment;
  }

  /** The pipeline for (kernel, overrides), compiled once. */
  pipeline(kernel: Kernel, overrides: Record<string, number>): PipelineEntry {
    const keys = Object.keys(overrides).sort();
    const key = `${kernel.id}|${keys.map((k) => `${k}=${overrides[k]}`).join(',')}`;
    let entry = this.pipelines.get(key);
    if (entry) return entry;
    const layout = this.bindGroupLayout(kernel);
    const module = this.device.createShaderModule({ label: kernel.label, code: kernel.source });
    const promise = this.device
      .createComputePipelineAsync({
        label: `${kernel.label}:${kernel.entryPoint}`,
        layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
        compute: { module, entryPoint: kernel.entryPoint, constants: overrides },
      })
      .catch((e: unknown) => {
        this.pipelines.delete(key);
        throw new FullconvError(`${kernel.label}:${kernel.entryPoint} failed to compile: ${e instanceof Error ? e.message : String(e)}`);
      });
    const uniform = kernel.layout.bindings.find((b) => b.kind === 'uniform');
    const created: PipelineEntry = { promise, pipeline: null, layout, uniformBinding: uniform ? uniform.binding : null };
    promise.then(
      (p) => {
        created.pipeline = p;
      },
      () => undefined,
    );
    this.pipelines.set(key, created);
    this.pipelinesCompiled++;
    return created;
  }

  private bindGroupLayout(kernel: Kernel): GPUBindGroupLayout {
    let layout = this.layouts.get(kernel);
    if (layout) return layout;
    layout = this.device.createBindGroupLayout({
      label: kernel.label,
      entries: kernel.layout.bindings.map((b) => ({
        binding: b.binding,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: b.kind, hasDynamicOffset: false },
      })),
    });
    this.layouts.set(kernel, layout);
    return layout;
  }

  dispatch(kernel: Kernel, overrides: Record<string, number>, bindings: Binding[], uniformBytes: ArrayBuffer | null, grid: Workgroups): void {
    const entry = this.pipeline(kernel, overrides);
    let uniformOffset = 0;
    let uniformSize = 0;
    if (uniformBytes) {
      uniformOffset = this.appendUniforms(new Uint8Array(uniformBytes));
      uniformSize = uniformBytes.byteLength;
    }
    this.batch.commands.push({ kind: 'dispatch', entry, bindings, uniformOffset, uniformSize, grid });
    this.batch.dispatches++;
    if (this.batch.dispatches >= BATCH_DISPATCHES) void this.flush(false).catch(() => undefined);
  }

  private appendUniforms(bytes: Uint8Array): number {
    const b = this.batch;
    const offset = Math.ceil(b.uniformBytes / this.uniformAlign) * this.uniformAlign;
    if (offset + bytes.length > b.uniforms.length) {
      const grown = new Uint8Array(Math.max(b.uniforms.length * 2, offset + bytes.length));
      grown.set(b.uniforms);
      b.uniforms = grown;
    }
    b.uniforms.set(bytes, offset);
    b.uniformBytes = offset + bytes.length;
    return offset;
  }

  copy(src: GPUBuffer, dst: GPUBuffer, bytes: number, srcOffset = 0, dstOffset = 0): void {
    this.batch.commands.push({ kind: 'copy', src, dst, bytes: align4(bytes), srcOffset, dstOffset });
  }

  clear(buffer: GPUBuffer, bytes: number): void {
    this.batch.commands.push({ kind: 'clear', buffer, bytes: align4(bytes) });
  }

  /** Writes data into a buffer in order with the recorded work (queue.writeBuffer when nothing is pending). */
  write(buffer: GPUBuffer, data: Float32Array | Int32Array): void {
    if (this.batch.commands.length === 0 && this.unsubmitted === 0) {
      this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
      return;
    }
    // Work recorded earlier may still read this buffer's old contents: copy from a staging buffer in order.
    const staging = this.device.createBuffer({ size: align4(data.byteLength), usage: GPUBufferUsage.COPY_SRC, mappedAtCreation: true });
    new Uint8Array(staging.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    staging.unmap();
    this.batch.staging.push(staging);
    this.copy(staging, buffer, data.byteLength);
  }

  /** Copies a buffer's first bytes back to the CPU after all work recorded so far. */
  async read(buffer: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    const size = align4(bytes);
    const staging = this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.copy(buffer, staging, size);
    try {
      await this.flush(false);
      await staging.mapAsync(GPUMapMode.READ);
      return staging.getMappedRange().slice(0, bytes);
    } finally {
      staging.destroy();
    }
  }

  /** Submits the current batch after those before it; with `wait`, resolves when the GPU is done. */
  flush(wait: boolean): Promise<void> {
    const batch = this.batch;
    this.batch = newBatch();
    const submitted = batch.commands.length > 0 ? this.submitAfter(batch) : this.chain;
    return wait ? submitted.then(() => this.device.queue.onSubmittedWorkDone()) : submitted;
  }

  private submitAfter(batch: Batch): Promise<void> {
    this.unsubmitted++;
    const run = this.chain.then(() => this.submit(batch)).finally(() => {
      this.unsubmitted--;
    });
    // A failed batch (a shader that did not compile) rejects its own flush, not every later one.
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async submit(batch: Batch): Promise<void> {
    if (this.disposed) return;
    for (const c of batch.commands) if (c.kind === 'dispatch' && !c.entry.pipeline) await c.entry.promise;
    let uniformBuffer: GPUBuffer | null = null;
    if (batch.uniformBytes > 0) {
      uniformBuffer = this.device.createBuffer({ size: align4(batch.uniformBytes), usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
      this.device.queue.writeBuffer(uniformBuffer, 0, batch.uniforms.buffer, 0, align4(batch.uniformBytes));
    }
    const encoder = this.device.createCommandEncoder();
    let pass: GPUComputePassEncoder | null = null;
    for (const c of batch.commands) {
      if (c.kind === 'dispatch') {
        pass ??= encoder.beginComputePass();
        const entries: GPUBindGroupEntry[] = c.bindings.map((b) => ({ binding: b.binding, resource: { buffer: b.buffer, size: align4(b.size) } }));
        if (c.entry.uniformBinding !== null && uniformBuffer) {
          entries.push({ binding: c.entry.uniformBinding, resource: { buffer: uniformBuffer, offset: c.uniformOffset, size: c.uniformSize } });
        }
        pass.setPipeline(c.entry.pipeline!);
        pass.setBindGroup(0, this.device.createBindGroup({ layout: c.entry.layout, entries }));
        pass.dispatchWorkgroups(c.grid[0], c.grid[1], c.grid[2]);
        continue;
      }
      if (pass) {
        pass.end();
        pass = null;
      }
      if (c.kind === 'copy') encoder.copyBufferToBuffer(c.src, c.srcOffset, c.dst, c.dstOffset, c.bytes);
      else encoder.clearBuffer(c.buffer, 0, c.bytes);
    }
    pass?.end();
    this.device.queue.submit([encoder.finish()]);
    this.dispatchesSubmitted += batch.dispatches;
    const toDestroy = uniformBuffer ? [...batch.staging, uniformBuffer] : batch.staging;
    if (toDestroy.length > 0) void this.device.queue.onSubmittedWorkDone().then(() => toDestroy.forEach((b) => b.destroy()));
    if (this.unsubmitted <= 1 && this.batch.commands.length === 0) this.afterSubmit();
  }

  dispose(): void {
    this.disposed = true;
    this.batch = newBatch();
  }
}

function newBatch(): Batch {
  return { commands: [], uniforms: new Uint8Array(4096), uniformBytes: 0, dispatches: 0, staging: [] };
}

function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}
