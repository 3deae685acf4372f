// Big-endian integer access on Uint8Arrays without allocating a DataView per call.
// Any thread. 64-bit integers are JS numbers: exact within ±2^53, which covers offsets,
// timestamps in ms and producer ids as Rill assigns them.

const TWO_32 = 0x1_0000_0000;

export function readInt8(buf: Uint8Array, pos: number): number {
  return (buf[pos] << 24) >> 24;
}

export function readInt16(buf: Uint8Array, pos: number): number {
  return ((buf[pos] << 24) | (buf[pos + 1] << 16)) >> 16;
}

export function readInt32(buf: Uint8Array, pos: number): number {
  return (buf[pos] << 24) | (buf[pos + 1] << 16) | (buf[pos + 2] << 8) | buf[pos + 3];
}

export function readUint32(buf: Uint8Array, pos: number): number {
  return readInt32(buf, pos) >>> 0;
}

export function readInt64(buf: Uint8Array, pos: number): number {
  return readInt32(buf, pos) * TWO_32 + readUint32(buf, pos + 4);
}

export function writeInt16(buf: Uint8Array, pos: number, value: number): void {
  buf[pos] = value >>> 8;
  buf[pos + 1] = value;
}

export function writeInt32(buf: Uint8Array, pos: number, value: number): void {
  buf[pos] = value >>> 24;
  buf[pos + 1] = value >>> 16;
  buf[pos + 2] = value >>> 8;
  buf[pos + 3] = value;
}

export function writeInt64(buf: Uint8Array, pos: number, value: number): void {
  const hi = Math.floor(value / TWO_32);
  writeInt32(buf, pos, hi);
  writeInt32(buf, pos + 4, value - hi * TWO_32);
}
