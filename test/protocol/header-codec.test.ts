import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Packr, pack } from 'msgpackr';
import { decodeHeader, encodeHeader } from '../../src/protocol/header-codec.js';
import { hex } from './helpers.js';

describe('header codec', () => {
  it('writes plain msgpack: fixmaps, no records, smallest integers', () => {
    expect(hex(encodeHeader({}))).toBe('80');
    expect(hex(encodeHeader({ a: 1, b: -1, c: 300 }))).toBe('83a16101a162ffa163cd012c');
  });

  it('writes integers beyond 32 bits as int64, not float64, and reads them back as numbers', () => {
    // Millisecond timestamps are always past 2^32; offsets get there on busy topics.
    expect(hex(encodeHeader({ t: 1_700_000_000_000 }))).toBe('81a174d30000018bcfe56800');
    expect(hex(encodeHeader({ t: -(2 ** 40) }))).toBe('81a174d3ffffff0000000000');
    expect(hex(encodeHeader({ t: 2 ** 32 - 1 }))).toBe('81a174ceffffffff');
    fc.assert(
      fc.property(fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), (n) => {
        expect(encodeHeader({ n })[3]).not.toBe(0xcb); // 81 a1 6e, then the value's type byte
        expect(decodeHeader(encodeHeader({ n, nested: [{ n }] }))).toEqual({ n, nested: [{ n }] });
      }),
    );
  });

  it('leaves fractional numbers as floats, and leaves its input untouched', () => {
    const input = { x: 1.5, big: 2 ** 40, list: [2 ** 41, 3], keep: 'k' };
    const copy = structuredClone(input);
    expect(decodeHeader(encodeHeader(input))).toEqual(input);
    expect(input).toEqual(copy);
  });

  it('drops undefined fields instead of writing msgpackr undefined extensions', () => {
    expect(hex(encodeHeader({ a: undefined, b: 1, c: undefined }))).toBe(hex(encodeHeader({ b: 1 })));
  });

  it('reads what other encoders write: float64 integers, uint64, map16', () => {
    const floats = new Packr({ useRecords: false });
    expect(decodeHeader(floats.pack({ offset: 2 ** 40 }))).toEqual({ offset: 2 ** 40 }); // msgpackr writes float64
    const uint64 = Uint8Array.from(Buffer.from('81a16fcf0000010000000000', 'hex'));
    expect(decodeHeader(uint64)).toEqual({ o: 2 ** 40 });
    const map16 = Uint8Array.from(Buffer.from('de0001a16101', 'hex'));
    expect(decodeHeader(map16)).toEqual({ a: 1 });
  });

  it('reads int64 beyond 2^53 as an unsafe number, which the validators then refuse', () => {
    const bytes = Uint8Array.from(Buffer.from('81a16fd37fffffffffffffff', 'hex'));
    const header = decodeHeader(bytes) as Record<string, number>;
    expect(Number.isSafeInteger(header.o)).toBe(false);
  });

  it('renames a __proto__ key rather than setting the prototype', () => {
    const header = decodeHeader(pack({ ['__proto__']: { polluted: true } }));
    expect(typeof header).toBe('object');
    expect(Object.getPrototypeOf(header)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
