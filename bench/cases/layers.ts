// The project's layer set (../shared/DESIGN.md), batch 1, float32.
export interface LayerSpec {
  name: string;
  cin: number;
  cout: number;
  size: number;
  k: number;
  stride: number;
  pad: number;
  groups: number;
  what?: string;
}

export const LAYERS: LayerSpec[] = [
  { name: 'L1', cin: 3, cout: 64, size: 224, k: 3, stride: 1, pad: 1, groups: 1 },
  { name: 'L2', cin: 64, cout: 64, size: 56, k: 3, stride: 1, pad: 1, groups: 1 },
  { name: 'L3', cin: 128, cout: 128, size: 28, k: 3, stride: 1, pad: 1, groups: 1 },
  { name: 'L4', cin: 256, cout: 256, size: 14, k: 3, stride: 1, pad: 1, groups: 1 },
  { name: 'L5', cin: 3, cout: 96, size: 227, k: 11, stride: 4, pad: 0, groups: 1, what: 'AlexNet conv1' },
  { name: 'L6', cin: 32, cout: 32, size: 112, k: 3, stride: 1, pad: 1, groups: 32, what: 'depthwise' },
  { name: 'L7', cin: 512, cout: 4096, size: 7, k: 7, stride: 1, pad: 0, groups: 1, what: 'an FC layer as a conv' },
  { name: 'L8', cin: 256, cout: 256, size: 28, k: 1, stride: 1, pad: 0, groups: 1 },
];

/** The --smoke runs' layer: small enough that every engine takes well under a second. */
export const SMOKE_LAYER: LayerSpec = { name: 'smoke', cin: 16, cout: 16, size: 28, k: 3, stride: 1, pad: 1, groups: 1, what: 'smoke run' };

export function layer(name: string): LayerSpec {
  const l = LAYERS.find((x) => x.name === name);
  if (!l) throw new Error(`no layer ${name}`);
  return l;
}

export function describeLayer(l: LayerSpec): string {
  return `${l.cin}→${l.cout}, ${l.size}×${l.size}, k${l.k} s${l.stride} p${l.pad}${l.groups > 1 ? ` g${l.groups}` : ''}${l.what ? ` (${l.what})` : ''}`;
}
