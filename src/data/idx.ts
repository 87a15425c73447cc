// IDX files (MNIST, Fashion-MNIST): pure parsing of the bytes, no I/O, so it runs in Node and
// in the browser. Format: two zero bytes, a type code, the number of dimensions, then each
// dimension as a big-endian uint32, then the values row-major (big-endian when wider than a byte).
import { FullconvError } from '../errors.js';

/** A file that is not a well-formed IDX file: wrong magic, truncated, dims that do not match. */
export class DataFormatError extends FullconvError {}

export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  /** The IDX type name: 'uint8', 'int8', 'int16', 'int32', 'float32', 'float64'. */
  type: IdxTypeName;
  dims: number[];
  data: IdxData;
}

export type IdxTypeName = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

const TYPES: Record<number, { name: IdxTypeName; bytes: number }> = {
  0x08: { name: 'uint8', bytes: 1 },
  0x09: { name: 'int8', bytes: 1 },
  0x0b: { name: 'int16', bytes: 2 },
  0x0c: { name: 'int32', bytes: 4 },
  0x0d: { name: 'float32', bytes: 4 },
  0x0e: { name: 'float64', bytes: 8 },
};

function hex(byte: number): string {
  return `0x${byte.toString(16).padStart(2, '0')}`;
}

/** Parses one IDX file's bytes (already decompressed); `name` labels the errors. */
export function parseIdx(bytes: Uint8Array, name = 'IDX file'): IdxArray {
  if (!(bytes instanceof Uint8Array)) throw new DataFormatError(`${name}: expected the file's bytes as a Uint8Array`);
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    throw new DataFormatError(`${name}: the bytes are gzip-compressed (magic 1f 8b); gunzip them first`);
  }
  if (bytes.length < 4) throw new DataFormatError(`${name}: ${bytes.length} bytes is too short for the 4-byte IDX magic number`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataFormatError(`${name}: bad magic number 0x${magic.toString(16).padStart(8, '0')}: an IDX file starts with two zero bytes`);
  }
  const type = TYPES[bytes[2]!];
  if (!type) throw new DataFormatError(`${name}: unknown IDX type code ${hex(bytes[2]!)} (known: 0x08 uint8, 0x09 int8, 0x0b int16, 0x0c int32, 0x0d float32, 0x0e float64)`);
  const rank = bytes[3]!;
  if (rank === 0) throw new DataFormatError(`${name}: the IDX header declares 0 dimensions`);
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new DataFormatError(`${name}: truncated header: ${rank} dimensions need ${headerBytes} header bytes, the file has ${bytes.length}`);
  }
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = headerBytes + count * type.bytes;
  if (bytes.length < expected) {
    throw new DataFormatError(`${name}: truncated: dims [${dims.join(', ')}] of ${type.name} need ${expected} bytes, the file has ${bytes.length}`);
  }
  if (bytes.length > expected) {
    throw new DataFormatError(`${name}: ${bytes.length - expected} bytes after the data: dims [${dims.join(', ')}] of ${type.name} need exactly ${expected} bytes, the file has ${bytes.length}`);
  }
  return { type: type.name, dims, data: readValues(view, headerBytes, count, type.name) };
}

function readValues(view: DataView, at: number, count: number, type: IdxTypeName): IdxData {
  // Multi-byte values are big-endian, so they go through the DataView; bytes are copied as they are.
  switch (type) {
    case 'uint8': return new Uint8Array(view.buffer, view.byteOffset + at, count).slice();
    case 'int8': return new Int8Array(view.buffer, view.byteOffset + at, count).slice();
    case 'int16': return Int16Array.from({ length: count }, (_, i) => view.getInt16(at + 2 * i, false));
    case 'int32': return Int32Array.from({ length: count }, (_, i) => view.getInt32(at + 4 * i, false));
    case 'float32': return Float32Array.from({ length: count }, (_, i) => view.getFloat32(at + 4 * i, false));
    case 'float64': return Float64Array.from({ length: count }, (_, i) => view.getFloat64(at + 8 * i, false));
  }
}

export interface ImageSet {
  /** N images as float32 in [0, 1], [N, 1, H, W] row-major. */
  images: Float32Array;
  labels: Int32Array;
  count: number;
  height: number;
  width: number;
}

/**
 * An images file ([N, H, W] uint8) and its labels file ([N] uint8) as training data: pixels
 * scaled to [0, 1], labels as int32. Throws when the two do not describe the same N images.
 */
export function idxImageSet(images: IdxArray, labels: IdxArray, name = 'IDX pair'): ImageSet {
  if (images.type !== 'uint8' || images.dims.length !== 3) {
    throw new DataFormatError(`${name}: the images file must hold uint8 [N, H, W], got ${images.type} [${images.dims.join(', ')}]`);
  }
  if (labels.type !== 'uint8' || labels.dims.length !== 1) {
    throw new DataFormatError(`${name}: the labels file must hold uint8 [N], got ${labels.type} [${labels.dims.join(', ')}]`);
  }
  const [count, height, width] = images.dims as [number, number, number];
  if (labels.dims[0] !== count) throw new DataFormatError(`${name}: ${count} images but ${labels.dims[0]} labels`);
  const pixels = new Float32Array(images.data.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = images.data[i]! / 255;
  return { images: pixels, labels: Int32Array.from(labels.data), count, height, width };
}
