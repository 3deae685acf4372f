// Big-endian reads and writes of the frame's fixed fields, on plain Uint8Arrays. Any thread.
// The protocol layer depends on nothing internal, so it keeps its own copy of these few lines
// (storage has the same in src/storage/bytes.ts) rather than reaching into another layer.

export function readUint16(buf: Uint8Array, pos: number): number {
  return (buf[pos] << 8) | buf[pos + 1];
}

export function readInt16(buf: Uint8Array, pos: number): number {
  return ((buf[pos] << 24) | (buf[pos + 1] << 16)) >> 16;
}

export function readUint32(buf: Uint8Array, pos: number): number {
  return ((buf[pos] << 24) | (buf[pos + 1] << 16) | (buf[pos + 2] << 8) | buf[pos + 3]) >>> 0;
}

/** Writes the low 16 bits of `value`; covers both u16 and i16. */
export function writeUint16(buf: Uint8Array, pos: number, value: number): void {
  buf[pos] = value >>> 8;
  buf[pos + 1] = value;
}

/** Writes the low 32 bits of `value`. */
export function writeUint32(buf: Uint8Array, pos: number, value: number): void {
  buf[pos] = value >>> 24;
  buf[pos + 1] = value >>> 16;
  buf[pos + 2] = value >>> 8;
  buf[pos + 3] = value;
}
