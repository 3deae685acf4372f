import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readVarint, readVarlong, varintSize, varlongSize, writeVarint, writeVarlong, VarintError } from '../../src/storage/varint.js';

describe('zig-zag varints', () => {
  it('round-trip every 32-bit integer, with the size they claim', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (n) => {
        const buf = new Uint8Array(5);
        const end = writeVarint(buf, 0, n);
        expect(end).toBe(varintSize(n));
        const cursor = { pos: 0 };
        expect(readVarint(buf, cursor, end)).toBe(n);
        expect(cursor.pos).toBe(end);
      }),
    );
  });

  it('round-trip 64-bit integers within ±2^52', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 52), max: 2 ** 52 }), (n) => {
        const buf = new Uint8Array(10);
        const end = writeVarlong(buf, 0, n);
        expect(end).toBe(varlongSize(n));
        expect(readVarlong(buf, { pos: 0 }, end)).toBe(n);
      }),
    );
  });

  it('encode like protobuf sint32: 0 -> 00, -1 -> 01, 1 -> 02, 300 -> d8 04', () => {
    const enc = (n: number) => {
      const buf = new Uint8Array(5);
      return Buffer.from(buf.subarray(0, writeVarint(buf, 0, n))).toString('hex');
    };
    expect(enc(0)).toBe('00');
    expect(enc(-1)).toBe('01');
    expect(enc(1)).toBe('02');
    expect(enc(300)).toBe('d804');
  });

  it('reject truncated and overlong input', () => {
    expect(() => readVarint(Uint8Array.of(0x80, 0x80), { pos: 0 }, 2)).toThrow(VarintError);
    expect(() => readVarint(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0x01), { pos: 0 }, 6)).toThrow(VarintError);
    expect(() => readVarlong(new Uint8Array(11).fill(0xff), { pos: 0 }, 11)).toThrow(VarintError);
    expect(() => readVarlong(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f), { pos: 0 }, 9)).toThrow(/2\^52/);
    expect(() => writeVarlong(new Uint8Array(10), 0, 2 ** 53)).toThrow(RangeError);
  });
});
