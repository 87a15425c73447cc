// Model weights as safetensors (https://github.com/huggingface/safetensors), in Node and the browser:
//   8 bytes   little-endian u64: length n of the JSON header
//   n bytes   JSON {"<name>": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...,
//             "__metadata__": {string: string}?}, space-padded so the data starts 8-byte aligned
//   rest      the tensors' little-endian float32 data; offsets are relative to the data's start
// Names are namedParameters()' ('0.weight', '0.bias', ...), so a PyTorch nn.Sequential's
// state_dict saved with safetensors.torch.save_file loads here, and the other way round.
import { OptionError, ShapeError } from '../errors.js';
import type { Sequential } from './sequential.js';

export interface SafetensorsTensor {
  shape: number[];
  data: Float32Array;
}

export interface DecodedSafetensors {
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Bytes of a safetensors file holding float32 tensors, in the given order. */
export function encodeSafetensors(tensors: readonly [name: string, shape: readonly number[], data: Float32Array][], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, shape, data] of tensors) {
    const count = shape.reduce((a, b) => a * b, 1);
    if (count !== data.length) throw new ShapeError(`encodeSafetensors: '${name}' has ${data.length} values for shape [${shape.join(', ')}]`);
    header[name] = { dtype: 'F32', shape: [...shape], data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil((8 + json.length) / 8) * 8 - 8;
  if (padded !== json.length) {
    const spaced = new Uint8Array(padded).fill(0x20);
    spaced.set(json);
    json = spaced;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, json.length, true);
  view.setUint32(4, 0, true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const [, , data] of tensors) {
    if (HOST_LITTLE_ENDIAN) out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    else for (let i = 0; i < data.length; i++) view.setFloat32(at + 4 * i, data[i]!, true);
    at += data.byteLength;
  }
  return out;
}

/** Parses a safetensors file of float32 tensors; anything malformed throws OptionError naming it. */
export function decodeSafetensors(bytes: Uint8Array | ArrayBuffer): DecodedSafetensors {
  const op = 'decodeSafetensors';
  const data = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
  if (!(data instanceof Uint8Array)) throw new OptionError(`${op}: expected a Uint8Array or ArrayBuffer, got ${typeof bytes}`);
  if (data.length < 8) throw new OptionError(`${op}: ${data.length} bytes is too short for a safetensors file (8-byte header length first)`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const headerBytes = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (headerBytes > data.length - 8) throw new OptionError(`${op}: the header length ${headerBytes} runs past the ${data.length}-byte file`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(data.subarray(8, 8 + headerBytes)));
  } catch (e) {
    throw new OptionError(`${op}: the header is not JSON (${e instanceof Error ? e.message : String(e)}); not a safetensors file`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new OptionError(`${op}: the header must be a JSON object`);
  const dataStart = 8 + headerBytes;
  const dataBytes = data.length - dataStart;
  const tensors = new Map<string, SafetensorsTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e === null || typeof e !== 'object') throw new OptionError(`${op}: '${name}' has no tensor description`);
    if (e.dtype !== 'F32') throw new OptionError(`${op}: '${name}' has dtype ${JSON.stringify(e.dtype)}; fullconv reads F32 only`);
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new OptionError(`${op}: '${name}' has shape ${JSON.stringify(shape)}; expected an array of integers >= 0`);
    }
    const offsets = e.data_offsets;
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new OptionError(`${op}: '${name}' has data_offsets ${JSON.stringify(offsets)}; expected [begin, end]`);
    }
    const [begin, end] = offsets as [number, number];
    if (end - begin !== count * 4 || end > dataBytes) {
      throw new OptionError(`${op}: '${name}' data_offsets [${begin}, ${end}] do not hold ${count} float32 values within the ${dataBytes} data bytes`);
    }
    const values = new Float32Array(count);
    if (HOST_LITTLE_ENDIAN) new Uint8Array(values.buffer).set(data.subarray(dataStart + begin, dataStart + end));
    else for (let i = 0; i < count; i++) values[i] = view.getFloat32(dataStart + begin + 4 * i, true);
    tensors.set(name, { shape: shape as number[], data: values });
  }
  return { tensors, metadata };
}

/** The model's parameters as safetensors bytes (reads them back from the GPU). */
export async function saveSafetensors(model: Sequential, metadata?: Record<string, string>): Promise<Uint8Array> {
  const named = model.namedParameters();
  const values = await Promise.all(named.map(([, t]) => t.read()));
  return encodeSafetensors(named.map(([name, t], i) => [name, t.shape, values[i] as Float32Array]), metadata);
}

/** Loads safetensors bytes into the model; strict like loadParameters, and shapes must match exactly. */
export function loadSafetensors(model: Sequential, bytes: Uint8Array | ArrayBuffer): void {
  const { tensors } = decodeSafetensors(bytes);
  const record: Record<string, Float32Array> = {};
  for (const [name, t] of model.namedParameters()) {
    const entry = tensors.get(name);
    if (entry && (entry.shape.length !== t.shape.length || entry.shape.some((d, i) => d !== t.shape[i]))) {
      throw new ShapeError(`loadSafetensors: '${name}' has shape [${entry.shape.join(', ')}] in the file, but the parameter is [${t.shape.join(', ')}]`);
    }
  }
  for (const [name, entry] of tensors) record[name] = entry.data;
  model.loadParameters(record);
}
