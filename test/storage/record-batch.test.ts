import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  BatchLayout,
  Compression,
  TimestampType,
  checkBatchFrame,
  checkProducedBatch,
  decodeRecordBatch,
  decodeRecordBatches,
  encodeRecordBatch,
  type RecordInput,
} from '../../src/storage/index.js';
import { Errors, RillError } from '../../src/errors.js';
import { readInt32, readUint32, writeInt16, writeInt32 } from '../../src/storage/bytes.js';
import { crc32c } from '../../src/native/index.js';

const bytesArb = fc.uint8Array({ maxLength: 300 });
const recordArb: fc.Arbitrary<RecordInput> = fc.record({
  key: fc.option(bytesArb, { nil: null }),
  value: fc.option(bytesArb, { nil: null }),
  headers: fc.array(fc.record({ key: fc.string({ maxLength: 20 }), value: fc.option(bytesArb, { nil: null }) }), { maxLength: 4 }),
  timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
});

/** Recomputes the CRC after a test edits covered bytes, so only the edit under test is wrong. */
function fixCrc(batch: Uint8Array): void {
  writeInt32(batch, BatchLayout.CRC, crc32c(batch, BatchLayout.CRC_START, batch.length - BatchLayout.CRC_START));
}

function batch(records: RecordInput[] = [{ key: 'k', value: 'v' }]): Uint8Array {
  return encodeRecordBatch({ records, timestamp: 1_700_000_000_000 });
}

describe('RecordBatch v2 encoding', () => {
  it('round-trips random records: keys, values, nulls, headers, timestamps', () => {
    fc.assert(
      fc.property(
        fc.array(recordArb, { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: -1, max: 2 ** 31 - 1 }),
        (records, baseOffset, producerId) => {
          const encoded = encodeRecordBatch({ records, baseOffset, producerId, producerEpoch: 3, baseSequence: 17, partitionLeaderEpoch: 9 });
          expect(checkBatchFrame(encoded, 0, encoded.length)).toBe(encoded.length);
          const decoded = decodeRecordBatch(encoded);
          expect(decoded.baseOffset).toBe(baseOffset);
          expect(decoded.batchLength).toBe(encoded.length - BatchLayout.LOG_OVERHEAD);
          expect(decoded.magic).toBe(2);
          expect(decoded.partitionLeaderEpoch).toBe(9);
          expect(decoded.producerId).toBe(producerId);
          expect(decoded.producerEpoch).toBe(3);
          expect(decoded.baseSequence).toBe(17);
          expect(decoded.recordCount).toBe(records.length);
          expect(decoded.lastOffsetDelta).toBe(records.length - 1);
          const timestamps = records.map((r) => r.timestamp!);
          expect(decoded.baseTimestamp).toBe(Math.min(...timestamps));
          expect(decoded.maxTimestamp).toBe(Math.max(...timestamps));
          decoded.records.forEach((r, i) => {
            const input = records[i];
            expect(r.offset).toBe(baseOffset + i);
            expect(r.timestamp).toBe(input.timestamp);
            expect(r.key === null ? null : Array.from(r.key)).toEqual(input.key == null ? null : Array.from(input.key as Uint8Array));
            expect(r.value === null ? null : Array.from(r.value)).toEqual(input.value === null ? null : Array.from(input.value as Uint8Array));
            expect(r.headers.map((h) => [h.key, h.value === null ? null : Array.from(h.value)])).toEqual(
              (input.headers ?? []).map((h) => [h.key, h.value === null ? null : Array.from(h.value as Uint8Array)]),
            );
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('writes string keys, values and headers as their UTF-8 bytes (TextEncoder\'s), lone surrogates as U+FFFD', () => {
    // Strings of any UTF-16 code units: astral characters, and surrogates without their pair; and,
    // as often, of units below U+0180, so that many are all ASCII (written as Latin-1, the fast
    // path) and many hold a Latin-1 letter such as é (one unit, two UTF-8 bytes: not that path).
    const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
    const lowUnit = fc.integer({ min: 0, max: 0x17f }).map((c) => String.fromCharCode(c));
    const text = fc.oneof(fc.string({ unit: anyUnit, maxLength: 40 }), fc.string({ unit: lowUnit, maxLength: 40 }), fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)), maxLength: 200 }));
    const utf8 = (s: string) => new TextEncoder().encode(s);
    const bytes = (s: string) => Buffer.from(utf8(s)); // the decoder hands out Buffer views
    fc.assert(
      fc.property(fc.array(fc.record({ key: fc.option(text, { nil: null }), value: fc.option(text, { nil: null }), headers: fc.array(fc.record({ key: text, value: fc.option(text, { nil: null }) }), { maxLength: 3 }) }), { minLength: 1, maxLength: 8 }), (records) => {
        const batch = decodeRecordBatch(encodeRecordBatch({ records, timestamp: 1 }));
        expect(batch.records.map((r) => ({ key: r.key, value: r.value, headers: r.headers }))).toEqual(
          records.map((r) => ({
            key: r.key === null ? null : bytes(r.key),
            value: r.value === null ? null : bytes(r.value),
            headers: r.headers.map((h) => ({ key: new TextDecoder().decode(utf8(h.key)), value: h.value === null ? null : bytes(h.value) })),
          })),
        );
      }),
    );
    // The same bytes whether a field comes as a string or as its encoding.
    const asStrings = encodeRecordBatch({ records: [{ key: 'k\u{1F600}', value: 'v\uD800x', headers: [{ key: 'h', value: 'é' }] }], timestamp: 5 });
    const asBytes = encodeRecordBatch({ records: [{ key: utf8('k\u{1F600}'), value: utf8('v\uD800x'), headers: [{ key: 'h', value: utf8('é') }] }], timestamp: 5 });
    expect(Buffer.from(asStrings).equals(Buffer.from(asBytes))).toBe(true);
  });

  it('lays the header out at the byte offsets of the Kafka spec', () => {
    const b = encodeRecordBatch({ records: [{ value: 'a' }, { value: 'b' }], baseOffset: 5, partitionLeaderEpoch: 7, timestamp: 1000 });
    expect(readInt32(b, 8)).toBe(b.length - 12); // batchLength
    expect(readInt32(b, 12)).toBe(7); // partitionLeaderEpoch
    expect(b[16]).toBe(2); // magic
    expect(readUint32(b, 17)).toBe(crc32c(b, 21, b.length - 21)); // CRC-32C over attributes..end
    expect(readInt32(b, 23)).toBe(1); // lastOffsetDelta
    expect(readInt32(b, 57)).toBe(2); // recordCount
    // First record: body of 7 bytes (zig-zag 0x0e), attributes 0, timestampDelta 0, offsetDelta 0,
    // key null (-1 -> 0x01), value length 1 (0x02) 'a', no headers (0x00).
    expect(Buffer.from(b.subarray(61, 61 + 8)).toString('hex')).toBe('0e' + '00' + '00' + '00' + '01' + '02' + '61' + '00');
    // Second record: offsetDelta 1 (0x02), value 'b'.
    expect(Buffer.from(b.subarray(69, 69 + 8)).toString('hex')).toBe('0e' + '00' + '00' + '02' + '01' + '02' + '62' + '00');
  });

  it('sets the attribute bits it is asked to', () => {
    const b = encodeRecordBatch({ records: [{ value: 'x' }], timestampType: TimestampType.LogAppendTime, isTransactional: true, isControl: true });
    const d = decodeRecordBatch(b);
    expect(d.timestampType).toBe(TimestampType.LogAppendTime);
    expect(d.isTransactional).toBe(true);
    expect(d.isControl).toBe(true);
    expect(d.compression).toBe(Compression.None);
    expect(() => encodeRecordBatch({ records: [{ value: 'x' }], compression: Compression.Zstd })).toThrow(RillError);
    expect(() => encodeRecordBatch({ records: [] })).toThrow(/at least one record/);
  });

  it('decodes a record set of several batches', () => {
    const a = encodeRecordBatch({ records: [{ value: '1' }], baseOffset: 0 });
    const b = encodeRecordBatch({ records: [{ value: '2' }, { value: '3' }], baseOffset: 1 });
    const set = new Uint8Array(a.length + b.length);
    set.set(a);
    set.set(b, a.length);
    expect(decodeRecordBatches(set).flatMap((x) => x.records.map((r) => r.offset))).toEqual([0, 1, 2]);
  });

  it('hands out keys, values and header values as Buffer views of its input, not copies', () => {
    const set = encodeRecordBatch({ records: [{ key: 'k', value: 'v1', headers: [{ key: 'h', value: 'x' }] }, { value: 'v2' }], timestamp: 1 });
    const [first, second] = decodeRecordBatch(set).records;
    for (const bytes of [first.key, first.value, first.headers[0].value, second.value]) {
      expect(Buffer.isBuffer(bytes)).toBe(true);
      expect(bytes!.buffer).toBe(set.buffer);
    }
    set[second.value!.byteOffset - set.byteOffset + 1] = 'w'.charCodeAt(0); // the '2' of 'v2', in the input
    expect(Buffer.from(second.value!).toString()).toBe('vw'); // a view sees the change
    // Records without headers share one empty array that nobody can add to.
    const plain = decodeRecordBatch(encodeRecordBatch({ records: [{ value: 'a' }, { value: 'b' }] })).records;
    expect(plain[0].headers).toEqual([]);
    expect(Object.isFrozen(plain[0].headers)).toBe(true);
  });
});

describe('batch validation', () => {
  const expectProblem = (b: Uint8Array, spec = Errors.INVALID_RECORD, reason?: RegExp) => {
    const result = checkProducedBatch(b, 0, b.length);
    expect(typeof result).toBe('object');
    if (typeof result === 'number') return;
    expect(result.spec).toBe(spec);
    if (reason) expect(result.reason).toMatch(reason);
  };

  it('accepts what the encoder makes', () => {
    const b = batch();
    expect(checkProducedBatch(b, 0, b.length)).toBe(b.length);
  });

  it('rejects a flipped bit anywhere under the CRC', () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 0, max: 7 }), (at, bit) => {
        const b = batch([{ key: 'key', value: 'some value', headers: [{ key: 'h', value: 'v' }] }]);
        const pos = BatchLayout.CRC_START + (at % (b.length - BatchLayout.CRC_START));
        b[pos] ^= 1 << bit;
        expectProblem(b, Errors.INVALID_RECORD);
      }),
    );
  });

  it('rejects a bad CRC field', () => {
    const b = batch();
    b[BatchLayout.CRC] ^= 0xff;
    expectProblem(b, Errors.INVALID_RECORD, /CRC mismatch/);
  });

  it('rejects the wrong magic', () => {
    const b = batch();
    b[BatchLayout.MAGIC] = 1;
    expectProblem(b, Errors.INVALID_RECORD, /magic 1/);
  });

  it('rejects lengths that do not match the bytes', () => {
    const b = batch();
    writeInt32(b, BatchLayout.BATCH_LENGTH, b.length); // claims 12 more bytes than there are
    expectProblem(b, Errors.INVALID_RECORD, /runs past/);
    writeInt32(b, BatchLayout.BATCH_LENGTH, 10);
    expectProblem(b, Errors.INVALID_RECORD, /shorter than a batch header/);
    expectProblem(b.subarray(0, 8), Errors.INVALID_RECORD, /only 8 bytes/);
  });

  it('rejects attributes this version does not support', () => {
    const cases: [number, typeof Errors.INVALID_RECORD, RegExp][] = [
      [Compression.Gzip, Errors.UNSUPPORTED_COMPRESSION_TYPE, /Gzip/],
      [Compression.Zstd, Errors.UNSUPPORTED_COMPRESSION_TYPE, /Zstd/],
      [7, Errors.UNSUPPORTED_COMPRESSION_TYPE, /codec 7/],
      [BatchLayout.TRANSACTIONAL_BIT, Errors.INVALID_RECORD, /transactional/],
      [BatchLayout.CONTROL_BIT, Errors.INVALID_RECORD, /control/],
      [0x100, Errors.INVALID_RECORD, /attribute bits/],
    ];
    for (const [attributes, spec, reason] of cases) {
      const b = batch();
      writeInt16(b, BatchLayout.ATTRIBUTES, attributes);
      fixCrc(b);
      expectProblem(b, spec, reason);
    }
    const appendTime = batch();
    writeInt16(appendTime, BatchLayout.ATTRIBUTES, BatchLayout.TIMESTAMP_TYPE_BIT);
    fixCrc(appendTime);
    expect(checkProducedBatch(appendTime, 0, appendTime.length)).toBe(appendTime.length);
  });

  it('rejects record counts that disagree with lastOffsetDelta', () => {
    const b = batch([{ value: 'a' }, { value: 'b' }]);
    writeInt32(b, BatchLayout.LAST_OFFSET_DELTA, 5);
    fixCrc(b);
    expectProblem(b, Errors.INVALID_RECORD, /lastOffsetDelta 5/);
    writeInt32(b, BatchLayout.RECORD_COUNT, 0);
    fixCrc(b);
    expectProblem(b, Errors.INVALID_RECORD, /at least one record/);
  });
});

describe('decoding a window of a batch', () => {
  it('decodes exactly the records a full decode gives from fromOffset on, at most maxRecords of them', () => {
    fc.assert(
      fc.property(
        fc.array(recordArb, { minLength: 1, maxLength: 30 }),
        fc.nat(1000),
        fc.option(fc.integer({ min: -5, max: 1040 }), { nil: undefined }),
        fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
        (records, baseOffset, fromOffset, maxRecords) => {
          const b = encodeRecordBatch({ records, baseOffset });
          const full = decodeRecordBatch(b);
          const wanted = full.records.filter((r) => fromOffset === undefined || r.offset >= fromOffset).slice(0, maxRecords ?? Infinity);
          const windowed = decodeRecordBatch(b, 0, { fromOffset, maxRecords });
          expect(windowed.records).toEqual(wanted);
          expect({ ...windowed, records: [] }).toEqual({ ...full, records: [] });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('still rejects bytes after the last record when the window reaches it', () => {
    const b = batch([{ value: 'abc' }, { value: 'def' }]);
    const longer = new Uint8Array(b.length + 1);
    longer.set(b);
    writeInt32(longer, BatchLayout.BATCH_LENGTH, readInt32(b, BatchLayout.BATCH_LENGTH) + 1);
    fixCrc(longer);
    expect(() => decodeRecordBatch(longer, 0, { fromOffset: 1 })).toThrow(/follow the last record/);
    expect(decodeRecordBatch(longer, 0, { maxRecords: 1 }).records.map((r) => r.offset)).toEqual([0]);
  });
});

describe('decoding malformed records', () => {
  it('reports bad records inside a batch whose CRC is right, never crashing', () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const b = batch([{ key: 'key', value: 'value', headers: [{ key: 'h', value: 'v' }] }, { value: 'second' }]);
        const pos = BatchLayout.RECORDS + (at % (b.length - BatchLayout.RECORDS));
        b[pos] ^= xor;
        fixCrc(b);
        try {
          const decoded = decodeRecordBatch(b);
          // Some edits still decode (e.g. inside a value); they must decode to something coherent.
          expect(decoded.records.length).toBe(2);
        } catch (error) {
          expect(error).toBeInstanceOf(RillError);
          expect((error as RillError).type).toBe('INVALID_RECORD');
        }
      }),
      { numRuns: 500 },
    );
  });

  it('names the problem', () => {
    const b = batch([{ value: 'abc' }]);
    writeInt32(b, BatchLayout.RECORD_COUNT, 2);
    writeInt32(b, BatchLayout.LAST_OFFSET_DELTA, 1);
    fixCrc(b);
    expect(() => decodeRecordBatch(b)).toThrow(/varint runs past|length/);
  });
});
