// The msgpack header of every frame: how it is written and read. Any thread; the main thread decodes
// every request header it routes.
//
// The header is exactly one msgpack map with string keys. Written as plain, standard msgpack so that
// any language's msgpack library reads it: no msgpackr records or structures (useRecords: false),
// small maps as fixmaps (variableMapSize), no `undefined` extension (fields that are undefined are
// left out, and undefined elsewhere is written as nil).
//
// Integers: msgpackr writes a JS number beyond 32 bits as a float64, which many decoders refuse to
// read into an int64 field. Offsets and millisecond timestamps pass 2^32 routinely, so before packing
// we turn integers outside [-2^31, 2^32) into BigInts, which msgpackr writes as int64. Reading, int64
// and uint64 come back as numbers (int64AsType: 'number'); a value beyond 2^53 then fails the
// validators' safe-integer checks, as it should. The walk copies only objects in which something
// changed, and headers are small (tens of fields), so it costs little next to the packing itself.
//
// Reading untrusted bytes: msgpackr bounds its allocations by the input's size, renames a
// "__proto__" key, and throws on truncated or trailing data; we catch everything it throws. Its
// extension types (Date, Set, Error, RegExp, typed arrays) decode to objects that no validator
// accepts, and the header itself must be a plain map.

import { C1, Packr, Unpackr } from 'msgpackr';

const packr = new Packr({ useRecords: false, variableMapSize: true, encodeUndefinedAsNil: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

const INT32_MIN = -0x8000_0000;
const UINT32_MAX = 0xffff_ffff;

/** A decoded header: a plain object with string keys, not yet validated. */
export type RawHeader = Record<string, unknown>;

/** Encodes a header map as msgpack. */
export function encodeHeader(header: object): Uint8Array {
  return packr.pack(forWire(header));
}

/** Decodes a header; a string result says what is wrong with the bytes. */
export function decodeHeader(bytes: Uint8Array): RawHeader | string {
  if (bytes.length === 0) return 'header is empty; it must be a msgpack map';
  let value: unknown;
  try {
    value = unpackr.unpack(bytes);
  } catch (error) {
    return `header is not valid msgpack (${error instanceof Error ? error.message.slice(0, 120) : String(error)})`;
  }
  if (value === C1) return 'header is not valid msgpack (0xc1 is a never-used byte)';
  if (!isPlainObject(value)) return `header must be a msgpack map, got ${describeKind(value)}`;
  return value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A short, safe description of a value's kind, for messages. */
export function describeKind(value: unknown): string {
  if (value === null) return 'nil';
  if (value === C1) return 'the never-used byte 0xc1';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return 'binary';
  if (typeof value === 'object') return isPlainObject(value) ? 'a map' : `a ${value.constructor?.name ?? 'object'}`;
  return `a ${typeof value}`;
}

/** Copy-on-change walk: wide integers to BigInt, undefined fields dropped. */
function forWire(value: unknown): unknown {
  switch (typeof value) {
    case 'number':
      return (value > UINT32_MAX || value < INT32_MIN) && Number.isSafeInteger(value) ? BigInt(value) : value;
    case 'object':
      if (value === null || value instanceof Uint8Array) return value;
      if (Array.isArray(value)) return arrayForWire(value);
      if (!isPlainObject(value)) return value;
      return objectForWire(value);
    default:
      return value;
  }
}

function arrayForWire(array: readonly unknown[]): unknown[] {
  let out: unknown[] | undefined;
  for (let i = 0; i < array.length; i++) {
    const v = array[i];
    const w = forWire(v);
    if (w !== v) {
      out ??= array.slice();
      out[i] = w;
    }
  }
  return out ?? (array as unknown[]);
}

function objectForWire(object: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  const keys = Object.keys(object);
  for (let i = 0; i < keys.length; i++) {
    const v = object[keys[i]];
    const w = v === undefined ? undefined : forWire(v);
    if (out === undefined && (w !== v || v === undefined)) {
      out = {};
      for (let j = 0; j < i; j++) out[keys[j]] = object[keys[j]];
    }
    if (out !== undefined && w !== undefined) out[keys[i]] = w;
  }
  return out ?? object;
}
