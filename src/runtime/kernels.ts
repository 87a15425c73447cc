// A kernel is one entry point of one .wgsl file. Everything the dispatcher needs to know about
// it — binding names and access, uniform field offsets, override names — is read from the WGSL
// itself with wgsl_reflect, so TypeScript never restates a layout the shader already declares.
import { WgslReflect } from 'wgsl_reflect/wgsl_reflect.module.js';
import { FullconvError } from '../errors.js';

export type UniformValue = number | readonly number[];
export type UniformValues = Record<string, UniformValue>;

interface UniformField {
  name: string;
  offset: number;
  /** 'u32' | 'i32' | 'f32' per component. */
  scalar: 'u32' | 'i32' | 'f32';
  components: number;
}

export interface BindingInfo {
  name: string;
  binding: number;
  kind: 'uniform' | 'read-only-storage' | 'storage';
}

export interface KernelLayout {
  bindings: BindingInfo[];
  /** The uniform struct's binding name, fields and byte size, when the entry point uses one. */
  uniform: { name: string; size: number; fields: UniformField[] } | null;
  overrides: Set<string>;
  /** Workgroup size with the overrides' defaults. */
  workgroupSize: [number, number, number];
}

let nextKernelId = 0;

export class Kernel {
  readonly id = nextKernelId++;
  private layoutCache: KernelLayout | null = null;

  /** `label` names the .wgsl file in errors and stats; `source` is its text (inlined by esbuild). */
  constructor(
    readonly label: string,
    readonly source: string,
    readonly entryPoint: string = 'main',
  ) {}

  get layout(): KernelLayout {
    if (!this.layoutCache) this.layoutCache = reflectKernel(this.label, this.source, this.entryPoint);
    return this.layoutCache;
  }

  /** Packs named values into the uniform struct's bytes; a missing or unknown field throws. */
  packUniforms(values: UniformValues): ArrayBuffer | null {
    const u = this.layout.uniform;
    const given = Object.keys(values);
    if (!u) {
      if (given.length > 0) throw new FullconvError(`${this.label}:${this.entryPoint} has no uniform struct, but uniforms were given: ${given.join(', ')}`);
      return null;
    }
    const known = new Set(u.fields.map((f) => f.name));
    for (const name of given) {
      if (!known.has(name)) throw new FullconvError(`${this.label}:${this.entryPoint}: unknown uniform field '${name}' (the struct has: ${[...known].join(', ')})`);
    }
    const bytes = new ArrayBuffer(u.size);
    const view = new DataView(bytes);
    for (const f of u.fields) {
      const v = values[f.name];
      if (v === undefined) throw new FullconvError(`${this.label}:${this.entryPoint}: uniform field '${f.name}' is missing`);
      const parts = typeof v === 'number' ? [v] : v;
      if (parts.length !== f.components) throw new FullconvError(`${this.label}:${this.entryPoint}: uniform field '${f.name}' needs ${f.components} values, got ${parts.length}`);
      parts.forEach((x, i) => {
        const at = f.offset + 4 * i;
        if (f.scalar === 'f32') view.setFloat32(at, x, true);
        else {
          if (!Number.isInteger(x)) throw new FullconvError(`${this.label}:${this.entryPoint}: uniform field '${f.name}' is ${f.scalar}, got ${x}`);
          if (f.scalar === 'u32') {
            if (x < 0 || x > 0xffffffff) throw new FullconvError(`${this.label}:${this.entryPoint}: uniform field '${f.name}' = ${x} does not fit u32`);
            view.setUint32(at, x, true);
          } else view.setInt32(at, x, true);
        }
      });
    }
    return bytes;
  }
}

const reflections = new Map<string, WgslReflect>();

function scalarOf(label: string, typeName: string, field: string): 'u32' | 'i32' | 'f32' {
  if (typeName === 'u32' || typeName === 'i32' || typeName === 'f32') return typeName;
  throw new FullconvError(`${label}: uniform field '${field}' has type ${typeName}; fullconv packs u32, i32, f32 and their vectors`);
}

function reflectKernel(label: string, source: string, entryPoint: string): KernelLayout {
  let reflect = reflections.get(source);
  if (!reflect) {
    reflect = new WgslReflect(source);
    reflections.set(source, reflect);
  }
  const entry = reflect.entry.compute.find((e) => e.name === entryPoint);
  if (!entry) throw new FullconvError(`${label}: no @compute entry point '${entryPoint}'`);
  const bindings: BindingInfo[] = [];
  let uniform: KernelLayout['uniform'] = null;
  for (const r of entry.resources) {
    if (r.group !== 0) throw new FullconvError(`${label}: binding '${r.name}' uses group ${r.group}; fullconv kernels use group 0 only`);
    if (r.resourceType === 0) {
      const members = reflect.uniforms.find((u) => u.name === r.name)?.members ?? [];
      const fields = members.map((m): UniformField => {
        const format = (m.type as { format?: { name: string } | null }).format;
        const isVector = /^vec[234]/.test(m.type.name);
        const scalarName = isVector ? (format?.name ?? (m.type.name.match(/<(\w+)>/)?.[1] ?? 'f32')) : m.type.name;
        return { name: m.name, offset: m.offset, scalar: scalarOf(label, scalarName, m.name), components: isVector ? Number(m.type.name[3]) : 1 };
      });
      uniform = { name: r.name, size: Math.max(16, Math.ceil(r.size / 16) * 16), fields };
      bindings.push({ name: r.name, binding: r.binding, kind: 'uniform' });
    } else if (r.resourceType === 1) {
      bindings.push({ name: r.name, binding: r.binding, kind: r.access === 'read' ? 'read-only-storage' : 'storage' });
    } else {
      throw new FullconvError(`${label}: binding '${r.name}' is neither a uniform nor a storage buffer`);
    }
  }
  bindings.sort((a, b) => a.binding - b.binding);
  const ws = entry.workgroupSize ?? [1, 1, 1];
  return {
    bindings,
    uniform,
    overrides: new Set(reflect.overrides.map((o) => o.name)),
    workgroupSize: [ws[0] ?? 1, ws[1] ?? 1, ws[2] ?? 1],
  };
}
