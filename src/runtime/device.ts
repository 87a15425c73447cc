// Adapter and device for the browser (navigator.gpu) and Node (the `webgpu` package, Dawn).
// The only place that knows where a GPU comes from.
import { FullconvError } from '../errors.js';

export interface AcquiredDevice {
  device: GPUDevice;
  adapterInfo: AdapterSummary;
  /** Keeps Node's GPU object alive for the device's life: once it is collected the process crashes. */
  keepAlive: unknown;
}

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** 'swiftshader' when the adapter is a CPU emulation, else 'gpu'. */
  kind: 'gpu' | 'swiftshader';
  runtime: 'browser' | 'node';
}

/** Software Vulkan drivers fullconv looks for when Node finds no hardware adapter. */
const SOFTWARE_ICDS = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
  '/opt/google/chrome/vk_swiftshader_icd.json',
];

const INSTALL_HINT =
  'Install a WebGPU-capable GPU driver, or on Linux without a GPU the software driver from ' +
  "Chromium and the Vulkan loader: 'apt-get install -y chromium libvulkan1' (Debian/Ubuntu). " +
  'You can also point VK_ICD_FILENAMES at a vk_swiftshader_icd.json.';

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

interface NodeGpuModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

// Held module-wide: every engine in the process shares the instance (Dawn's GPU object must stay
// referenced for as long as any device made from it lives).
let nodeGpu: { gpu: GPU; software: boolean } | null = null;

function summarize(adapter: GPUAdapter, runtime: 'browser' | 'node'): AdapterSummary {
  const info = adapter.info;
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.toLowerCase();
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    kind: text.includes('swiftshader') ? 'swiftshader' : 'gpu',
    runtime,
  };
}

async function fileExists(path: string): Promise<boolean> {
  const fs = await import('node:fs');
  return fs.existsSync(path);
}

async function puppeteerIcds(): Promise<string[]> {
  // A Chrome downloaded by puppeteer ships SwiftShader too (~/.cache/puppeteer/chrome/<ver>/chrome-linux64/).
  try {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const root = path.join(os.homedir(), '.cache', 'puppeteer', 'chrome');
    if (!fs.existsSync(root)) return [];
    return fs
      .readdirSync(root)
      .map((version) => path.join(root, version, 'chrome-linux64', 'vk_swiftshader_icd.json'))
      .filter((p) => fs.existsSync(p));
  } catch {
    return [];
  }
}

async function nodeAdapter(powerPreference: GPUPowerPreference | undefined): Promise<GPUAdapter> {
  let mod: NodeGpuModule;
  try {
    // A variable specifier keeps bundlers from pulling Dawn into browser bundles.
    const name = 'webgpu';
    mod = (await import(/* @vite-ignore */ name)) as NodeGpuModule;
  } catch (e) {
    throw new FullconvError(`createEngine: the 'webgpu' package (Dawn for Node) could not be loaded: ${String(e)}. Run 'npm install webgpu'.`);
  }
  // GPUBufferUsage, GPUMapMode, GPUShaderStage... are globals in browsers; Dawn for Node exports them.
  for (const [name, value] of Object.entries(mod.globals)) {
    if (!(name in globalThis)) (globalThis as Record<string, unknown>)[name] = value;
  }
  const request = async (gpu: GPU) => gpu.requestAdapter(powerPreference ? { powerPreference } : {});
  const looksLikeHardware = (await fileExists('/dev/dri')) || (await fileExists('/dev/nvidia0')) || process.platform !== 'linux';
  const userChoseIcd = typeof process.env.VK_ICD_FILENAMES === 'string' && process.env.VK_ICD_FILENAMES !== '';

  if (nodeGpu === null && (looksLikeHardware || userChoseIcd)) {
    const gpu = mod.create([]);
    const adapter = await request(gpu);
    if (adapter) {
      nodeGpu = { gpu, software: false };
      return adapter;
    }
  }
  if (nodeGpu !== null) {
    const adapter = await request(nodeGpu.gpu);
    if (adapter) return adapter;
  }
  const candidates = [...SOFTWARE_ICDS, ...(await puppeteerIcds())];
  for (const icd of candidates) {
    if (!(await fileExists(icd))) continue;
    // The Vulkan loader reads VK_ICD_FILENAMES when an instance is created.
    process.env.VK_ICD_FILENAMES = icd;
    const gpu = mod.create([]);
    const adapter = await request(gpu);
    if (adapter) {
      nodeGpu = { gpu, software: true };
      return adapter;
    }
  }
  const loaderMissing = !(await fileExists('/usr/lib/x86_64-linux-gnu/libvulkan.so.1')) && !(await fileExists('/usr/lib/aarch64-linux-gnu/libvulkan.so.1'));
  throw new FullconvError(
    `createEngine: Node found no WebGPU adapter${loaderMissing ? ' (the Vulkan loader libvulkan.so.1 is missing)' : ''}. ${INSTALL_HINT}`,
  );
}

export async function acquireDevice(opts: { device?: GPUDevice; powerPreference?: GPUPowerPreference }): Promise<AcquiredDevice> {
  if (opts.device) {
    return {
      device: opts.device,
      adapterInfo: { vendor: 'unknown', architecture: 'unknown', device: 'unknown', description: 'device given by the caller', kind: 'gpu', runtime: isNode ? 'node' : 'browser' },
      keepAlive: null,
    };
  }
  let adapter: GPUAdapter | null;
  let runtime: 'browser' | 'node';
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu && !isNode) {
    runtime = 'browser';
    adapter = await nav.gpu.requestAdapter(opts.powerPreference ? { powerPreference: opts.powerPreference } : {});
    if (!adapter) throw new FullconvError('createEngine: navigator.gpu returned no adapter. Enable WebGPU (chrome://flags, or --enable-unsafe-webgpu) or use a browser that supports it.');
  } else if (isNode) {
    runtime = 'node';
    adapter = await nodeAdapter(opts.powerPreference);
  } else {
    throw new FullconvError('createEngine: WebGPU is not available here (no navigator.gpu). Use a browser with WebGPU, served from a secure context (https or localhost).');
  }
  // The defaults are far below what real adapters allow: ask for the adapter's maxima.
  const L = adapter.limits;
  const requiredLimits: Record<string, number> = {
    maxStorageBufferBindingSize: L.maxStorageBufferBindingSize,
    maxBufferSize: L.maxBufferSize,
    maxComputeWorkgroupStorageSize: L.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: L.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: L.maxComputeWorkgroupSizeX,
    maxComputeWorkgroupSizeY: L.maxComputeWorkgroupSizeY,
    maxComputeWorkgroupSizeZ: L.maxComputeWorkgroupSizeZ,
    maxComputeWorkgroupsPerDimension: L.maxComputeWorkgroupsPerDimension,
    maxStorageBuffersPerShaderStage: L.maxStorageBuffersPerShaderStage,
  };
  const requiredFeatures: GPUFeatureName[] = [];
  if (adapter.features.has('timestamp-query')) requiredFeatures.push('timestamp-query');
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  return { device, adapterInfo: summarize(adapter, runtime), keepAlive: runtime === 'node' ? nodeGpu : null };
}
