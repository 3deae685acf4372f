// Buffer views of record bytes, for the decoders that hand out keys and values without copying.
// Any thread.
//
// Why not `bytes.subarray(...)`: on a Buffer that goes through TypedArray species lookup and
// Node's FastBuffer subclass constructor, ~80 ns a call here, a third of decoding a 100-byte
// record. Node's own Buffer class (Buffer[Symbol.species], what Buffer.from(arrayBuffer, ...)
// constructs) called directly is half the cost of Buffer.from and still makes real Buffers.

type BufferClass = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => Buffer;
const species = (Buffer as unknown as { [Symbol.species]?: unknown })[Symbol.species];
const NodeBuffer: BufferClass | null = typeof species === 'function' && species !== Buffer ? (species as BufferClass) : null;

/** A Buffer viewing bytes [start, start + length) of `bytes` (no copy). */
export function bufferView(bytes: Uint8Array, start: number, length: number): Buffer {
  return NodeBuffer !== null ? new NodeBuffer(bytes.buffer, bytes.byteOffset + start, length) : Buffer.from(bytes.buffer, bytes.byteOffset + start, length);
}
