// A minimal ONNX protobuf encoder (ModelProto subset, opset 17) so the bench can build the
// models ONNX Runtime runs in code, from the same arrays the other engines get. Field numbers
// follow onnx/onnx.proto; repeated scalars are written unpacked, which every proto2/proto3
// parser accepts.

/** ONNX TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7 } as const;

export type AttributeValue = number | number[] | string | { ints: number[] } | { float: number };

export interface NodeSpec {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  /** Integers go out as INT (or INTS for arrays); use { float: v } for a FLOAT attribute. */
  attributes?: Record<string, AttributeValue>;
}

export interface InitializerSpec {
  name: string;
  dims: number[];
  data: Float32Array | BigInt64Array | Int32Array;
}

export interface ValueSpec {
  name: string;
  dims: number[];
  elemType?: number;
}

export interface GraphSpec {
  name: string;
  nodes: NodeSpec[];
  initializers: InitializerSpec[];
  inputs: ValueSpec[];
  outputs: ValueSpec[];
}

// ---- wire format ---------------------------------------------------------------------------

const WIRE_VARINT = 0;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;

/** A message under construction: a list of byte chunks, concatenated once at the end. */
class Message {
  readonly chunks: Uint8Array[] = [];
  length = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  private tag(field: number, wire: number): void {
    this.push(varint(BigInt(field * 8 + wire)));
  }

  int(field: number, value: number | bigint): this {
    this.tag(field, WIRE_VARINT);
    // Negative int64 values are written as their 64-bit two's complement (ten bytes).
    this.push(varint(BigInt.asUintN(64, BigInt(value))));
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.push(b);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_BYTES);
    this.push(varint(BigInt(value.length)));
    this.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, value: Message): this {
    this.tag(field, WIRE_BYTES);
    this.push(varint(BigInt(value.length)));
    for (const c of value.chunks) this.push(c);
    return this;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

function varint(value: bigint): Uint8Array {
  const out: number[] = [];
  let v = value;
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return Uint8Array.from(out);
}

// ---- ONNX messages -------------------------------------------------------------------------

// AttributeProto.AttributeType
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_INTS = 7;

function attribute(name: string, value: AttributeValue): Message {
  const m = new Message().string(1, name);
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`onnx: attribute ${name} = ${value}: use { float: v } for floats`);
    return m.int(3, value).int(20, ATTR_INT);
  }
  if (typeof value === 'string') return m.bytes(4, new TextEncoder().encode(value)).int(20, ATTR_STRING);
  if (Array.isArray(value)) {
    for (const v of value) m.int(8, v);
    return m.int(20, ATTR_INTS);
  }
  if ('ints' in value) {
    for (const v of value.ints) m.int(8, v);
    return m.int(20, ATTR_INTS);
  }
  return m.float(2, value.float).int(20, ATTR_FLOAT);
}

function node(spec: NodeSpec, index: number): Message {
  const m = new Message();
  for (const i of spec.inputs) m.string(1, i);
  for (const o of spec.outputs) m.string(2, o);
  m.string(3, spec.name ?? `${spec.opType}_${index}`);
  m.string(4, spec.opType);
  for (const [k, v] of Object.entries(spec.attributes ?? {})) m.message(5, attribute(k, v));
  return m;
}

function tensor(spec: InitializerSpec): Message {
  const m = new Message();
  for (const d of spec.dims) m.int(1, d);
  const type = spec.data instanceof Float32Array ? DataType.FLOAT : spec.data instanceof BigInt64Array ? DataType.INT64 : DataType.INT32;
  const count = spec.dims.reduce((a, b) => a * b, 1);
  if (count !== spec.data.length) throw new Error(`onnx: initializer ${spec.name} has ${spec.data.length} values for dims [${spec.dims}]`);
  m.int(2, type);
  m.string(8, spec.name);
  // raw_data is little-endian, as typed arrays are on every platform this runs on.
  m.bytes(9, new Uint8Array(spec.data.buffer, spec.data.byteOffset, spec.data.byteLength));
  return m;
}

function valueInfo(spec: ValueSpec): Message {
  const shape = new Message();
  for (const d of spec.dims) shape.message(1, new Message().int(1, d));
  const tensorType = new Message().int(1, spec.elemType ?? DataType.FLOAT).message(2, shape);
  return new Message().string(1, spec.name).message(2, new Message().message(1, tensorType));
}

/** Serialises a one-graph ModelProto (IR version 8, default-domain opset 17). */
export function encodeModel(graph: GraphSpec): Uint8Array {
  const g = new Message();
  graph.nodes.forEach((n, i) => g.message(1, node(n, i)));
  g.string(2, graph.name);
  for (const t of graph.initializers) g.message(5, tensor(t));
  for (const v of graph.inputs) g.message(11, valueInfo(v));
  for (const v of graph.outputs) g.message(12, valueInfo(v));
  return new Message()
    .int(1, 8)
    .string(2, 'fullconv-bench')
    .message(7, g)
    .message(8, new Message().string(1, '').int(2, 17))
    .finish();
}
