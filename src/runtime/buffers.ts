// Size-bucketed buffer pool: a disposed tensor's buffer serves the next tensor of a similar size.
// Buckets are 2^k·{1, 1.25, 1.5, 1.75}, so a reused buffer wastes at most a quarter of its bytes.

/** Usage of every tensor buffer (read lazily: Node installs the GPU* globals when the engine starts). */
export function storageUsage(): number {
  return GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
}

export function bucketBytes(bytes: number): number {
  const b = Math.max(16, Math.ceil(bytes / 4) * 4);
  if (b <= 256) return Math.ceil(b / 16) * 16;
  const pow = 2 ** Math.floor(Math.log2(b));
  const step = pow / 4;
  return Math.ceil(b / step) * step;
}

export class BufferPool {
  private free = new Map<number, GPUBuffer[]>();
  pooledBytes = 0;
  liveBytes = 0;
  peakLiveBytes = 0;
  allocations = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: number = storageUsage(),
  ) {}

  acquire(bytes: number): GPUBuffer {
    const size = bucketBytes(bytes);
    const list = this.free.get(size);
    let buffer = list?.pop();
    if (buffer) this.pooledBytes -= size;
    else {
      buffer = this.device.createBuffer({ size, usage: this.usage });
      this.allocations++;
    }
    this.liveBytes += size;
    this.peakLiveBytes = Math.max(this.peakLiveBytes, this.liveBytes);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    const size = buffer.size;
    this.liveBytes -= size;
    this.pooledBytes += size;
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(buffer);
  }

  /** Destroys pooled buffers until at most `maxPooledBytes` stay; only call when no unsubmitted work names them. */
  trim(maxPooledBytes: number): void {
    const sizes = [...this.free.keys()].sort((a, b) => b - a);
    for (const size of sizes) {
      const list = this.free.get(size)!;
      while (list.length > 0 && this.pooledBytes > maxPooledBytes) {
        list.pop()!.destroy();
        this.pooledBytes -= size;
      }
    }
  }

  destroyAll(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.pooledBytes = 0;
  }
}
