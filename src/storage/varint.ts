// Zig-zag variable-length integers as in protobuf and Kafka's record format. Any thread.
// varint: 32-bit signed, at most 5 bytes. varlong: 64-bit signed, at most 10 bytes, held in a JS
// number: exact within ±2^52 (the zig-zag form needs one more bit than the value), which is
// ample for timestamp deltas; larger values are refused rather than rounded.

/** Thrown for a varint that runs past its buffer or exceeds its width; callers map it to a code. */
export class VarintError extends Error {}

export interface Cursor {
  pos: number;
}

export function varintSize(value: number): number {
  let z = ((value << 1) ^ (value >> 31)) >>> 0;
  let size = 1;
  while (z >= 0x80) {
    z >>>= 7;
    size++;
  }
  return size;
}

export function writeVarint(buf: Uint8Array, pos: number, value: number): number {
  let z = ((value << 1) ^ (value >> 31)) >>> 0;
  while (z >= 0x80) {
    buf[pos++] = (z & 0x7f) | 0x80;
    z >>>= 7;
  }
  buf[pos++] = z;
  return pos;
}

export function readVarint(buf: Uint8Array, cursor: Cursor, end: number): number {
  let pos = cursor.pos;
  let z = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (pos >= end) throw new VarintError('varint runs past the end of its record');
    const byte = buf[pos++];
    z |= (byte & 0x7f) << shift;
    if (byte < 0x80) {
      if (shift === 28 && byte > 0x0f) throw new VarintError('varint exceeds 32 bits');
      cursor.pos = pos;
      return (z >>> 1) ^ -(z & 1);
    }
  }
  throw new VarintError('varint longer than 5 bytes');
}

/** Largest magnitude a varlong carries exactly. */
export const MAX_VARLONG = 2 ** 52;

function zigzag64(value: number): number {
  if (!(Math.abs(value) <= MAX_VARLONG) || !Number.isInteger(value)) throw new RangeError(`varlong ${value} is outside ±2^52`);
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

export function varlongSize(value: number): number {
  let z = zigzag64(value);
  let size = 1;
  while (z >= 0x80) {
    z = Math.floor(z / 0x80);
    size++;
  }
  return size;
}

export function writeVarlong(buf: Uint8Array, pos: number, value: number): number {
  let z = zigzag64(value);
  while (z >= 0x80) {
    buf[pos++] = (z % 0x80) | 0x80;
    z = Math.floor(z / 0x80);
  }
  buf[pos++] = z;
  return pos;
}

export function readVarlong(buf: Uint8Array, cursor: Cursor, end: number): number {
  let pos = cursor.pos;
  let z = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw new VarintError('varlong runs past the end of its record');
    const byte = buf[pos++];
    z += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      if (z > 2 * MAX_VARLONG) throw new VarintError('varlong exceeds 2^52');
      cursor.pos = pos;
      return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    }
    scale *= 0x80;
  }
  throw new VarintError('varlong longer than 10 bytes');
}
