/**
 * The bytes of a one-node ONNX model, `Y = MatMul(A, B)` with float32 `A [n, d]` and `B [d, m]`
 * (symbolic sizes), so exact search over many queries at once runs as one GEMM in onnxruntime —
 * hundreds of GFLOP/s on two cores, against about one in plain JavaScript loops.
 *
 * Written here as protobuf by hand rather than shipped as a file or built with Python: the model is
 * six fields deep, and encoding it costs twenty lines, no asset to package and no Python at run time.
 * Field numbers are those of onnx.proto (ModelProto, GraphProto, NodeProto, ValueInfoProto, …).
 */
export function matmulModelBytes(): Uint8Array {
  const dims = (...names: string[]) => field(2, concat(...names.map((name) => field(1, field(2, text(name)))))); // TensorShapeProto.dim.dim_param
  const floatTensor = (name: string, ...shape: string[]) =>
    concat(field(1, text(name)), field(2, field(1, concat(varintField(1, FLOAT), dims(...shape))))); // ValueInfoProto{name, type.tensor_type{elem_type, shape}}
  const node = concat(field(1, text('A')), field(1, text('B')), field(2, text('Y')), field(4, text('MatMul')));
  const graph = concat(field(1, node), field(2, text('matmul')), field(11, floatTensor('A', 'n', 'd')), field(11, floatTensor('B', 'd', 'm')), field(12, floatTensor('Y', 'n', 'm')));
  const opset = concat(field(1, text('')), varintField(2, OPSET));
  return concat(varintField(1, IR_VERSION), field(8, opset), field(7, graph));
}

/** IR 8 and opset 17 load in every onnxruntime the project supports (as the bench's GEMM model). */
const IR_VERSION = 8;
const OPSET = 17;
/** TensorProto.DataType.FLOAT */
const FLOAT = 1;

function text(value: string): Uint8Array {
  return new TextEncoder().encode(value);
}

function varint(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return bytes;
}

/** A length-delimited field (wire type 2): strings, bytes and nested messages. */
function field(number: number, payload: Uint8Array): Uint8Array {
  return concat(Uint8Array.from([...varint((number << 3) | 2), ...varint(payload.length)]), payload);
}

/** A varint field (wire type 0). */
function varintField(number: number, value: number): Uint8Array {
  return Uint8Array.from([...varint(number << 3), ...varint(value)]);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
