import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Errors } from '../../src/errors.js';
import {
  ApiKeys,
  API_TABLE,
  decodeRequest,
  decodeResponse,
  encodeErrorResponse,
  encodeProtocolError,
  encodeRequest,
  encodeRequestHead,
  encodeResponse,
  encodeResponseHead,
  fetchRecordSets,
  FrameLayout,
  FrameReader,
  isProtocolError,
  NO_API_KEY,
  NO_CORRELATION_ID,
  peekRequest,
  responseCorrelationId,
  supportedApis,
  type ApiKey,
  type ProtocolError,
  type RequestHeaders,
  type ResponseHeaders,
} from '../../src/protocol/index.js';
import { ALL_API_KEYS, requestBody, requestHeaders, responseBodyFor, responseHeaders } from './arbitraries.js';
import { concat, hex, pack, rawRequest, rawResponse } from './helpers.js';

function expectError(result: unknown, spec: { code: number }, message: RegExp, closeConnection = false): ProtocolError {
  expect(isProtocolError(result), `expected an error, got ${JSON.stringify(result)}`).toBe(true);
  const error = result as ProtocolError;
  expect(error.code).toBe(spec.code);
  expect(error.message).toMatch(message);
  expect(error.closeConnection).toBe(closeConnection);
  return error;
}

describe('request round trips, every api', () => {
  for (const apiKey of ALL_API_KEYS) {
    it(`${API_TABLE[apiKey].name} request`, () => {
      fc.assert(
        fc.property(
          requestHeaders[apiKey] as fc.Arbitrary<RequestHeaders[ApiKey]>,
          requestBody(apiKey),
          fc.integer({ min: 0, max: 0xffff_ffff }),
          (header, body, correlationId) => {
            const frame = encodeRequest(apiKey, 0, correlationId, header, body);
            const decoded = decodeRequest(frame);
            if (decoded.kind !== 'request') throw new Error(decoded.message);
            expect(decoded.apiKey).toBe(apiKey);
            expect(decoded.apiVersion).toBe(0);
            expect(decoded.correlationId).toBe(correlationId);
            expect(decoded.header).toEqual(header);
            expect(hex(decoded.body)).toBe(hex(body ?? new Uint8Array(0)));

            // The head alone plus the body written separately is the same frame.
            const head = encodeRequestHead(apiKey, 0, correlationId, header, body?.length ?? 0);
            expect(hex(concat([head, body ?? new Uint8Array(0)]))).toBe(hex(frame));

            // peek sees the same fixed fields and header, and where the body is.
            const peeked = peekRequest(frame);
            if (peeked.kind !== 'request-head') throw new Error(peeked.message);
            expect(peeked).toMatchObject({ apiKey, apiVersion: 0, correlationId, bodyLength: body?.length ?? 0 });
            expect(peeked.bodyOffset + peeked.bodyLength).toBe(frame.length);
          },
        ),
        { numRuns: 60 },
      );
    });
  }
});

describe('response round trips, every api', () => {
  for (const apiKey of ALL_API_KEYS) {
    it(`${API_TABLE[apiKey].name} response`, () => {
      fc.assert(
        fc.property(
          responseHeaders[apiKey] as fc.Arbitrary<ResponseHeaders[ApiKey]>,
          fc.integer({ min: 0, max: 0xffff_ffff }),
          (header, correlationId) => {
            const body = responseBodyFor(apiKey, header);
            const frame = encodeResponse(correlationId, apiKey, header, body);
            expect(responseCorrelationId(frame)).toBe(correlationId);
            const decoded = decodeResponse(frame, 0);
            if (decoded.kind !== 'response') throw new Error(JSON.stringify(decoded));
            expect(decoded.apiKey).toBe(apiKey);
            expect(decoded.correlationId).toBe(correlationId);
            expect(decoded.header).toEqual(header);
            expect(hex(decoded.body)).toBe(hex(body ?? new Uint8Array(0)));

            const head = encodeResponseHead(correlationId, apiKey, 0, header, body?.length ?? 0);
            expect(hex(concat([head, body ?? new Uint8Array(0)]))).toBe(hex(frame));
          },
        ),
        { numRuns: 60 },
      );
    });
  }

  it('Fetch: the body splits into each partition record set, in header order', () => {
    const header: ResponseHeaders[typeof ApiKeys.Fetch] = {
      partitions: [
        { topic: 'a', partition: 0, errorCode: 0, highWatermark: 10, logStartOffset: 0, bytes: 3 },
        { topic: 'a', partition: 1, errorCode: Errors.OFFSET_OUT_OF_RANGE.code, highWatermark: -1, logStartOffset: -1, bytes: 0 },
        { topic: 'b', partition: 0, errorCode: 0, highWatermark: 5, logStartOffset: 2, lastStableOffset: 5, bytes: 2 },
      ],
    };
    const head = encodeResponseHead(9, ApiKeys.Fetch, 0, header, 5);
    // The sender writes the head, then each partition's bytes from wherever they live.
    const frame = concat([head, Uint8Array.of(1, 1, 1), Uint8Array.of(3, 3)]);
    const decoded = decodeResponse(frame);
    if (decoded.kind !== 'response' || decoded.apiKey !== ApiKeys.Fetch) throw new Error('not a Fetch response');
    expect(fetchRecordSets(decoded.header, decoded.body).map((s) => [...s])).toEqual([[1, 1, 1], [], [3, 3]]);
  });

  it('Fetch: a body that does not add up to the partitions bytes is refused', () => {
    const header = { partitions: [{ topic: 'a', partition: 0, errorCode: 0, highWatermark: 1, logStartOffset: 0, bytes: 4 }] };
    expectError(decodeResponse(encodeResponse(1, ApiKeys.Fetch, header, new Uint8Array(3))), Errors.INVALID_REQUEST, /add up to 4 but the body has 3/);
  });
});

describe('error responses', () => {
  it('round-trip with their code, ids and message', () => {
    const frame = encodeErrorResponse(41, ApiKeys.Metadata, Errors.LEADER_NOT_AVAILABLE.code, { message: 'electing' });
    expect(decodeResponse(frame)).toEqual({
      kind: 'error-response',
      correlationId: 41,
      apiKey: ApiKeys.Metadata,
      errorCode: Errors.LEADER_NOT_AVAILABLE.code,
      header: { message: 'electing' },
    });
  });

  it('encodeProtocolError echoes what the decoder read, and lists versions for UNSUPPORTED_VERSION', () => {
    const error = decodeRequest(encodeRequest(ApiKeys.Fetch, 7, 1234, {} as RequestHeaders[7])) as ProtocolError;
    expectError(error, Errors.UNSUPPORTED_VERSION, /Fetch v7 is not supported \(supported: v0 to v0\)/);
    const answer = decodeResponse(encodeProtocolError(error));
    expect(answer).toEqual({
      kind: 'error-response',
      correlationId: 1234,
      apiKey: ApiKeys.Fetch,
      errorCode: 35,
      header: { message: error.message, apis: supportedApis() },
    });
  });

  it('uses correlation id 0 and api key 0xffff when the ids could not be read', () => {
    const reader = new FrameReader();
    reader.push(Uint8Array.of(0, 0, 0, 2)); // frameLength 2: below the fixed part, nothing else readable
    const error = reader.next() as ProtocolError;
    const answer = decodeResponse(encodeProtocolError(error));
    expect(answer).toMatchObject({ kind: 'error-response', correlationId: NO_CORRELATION_ID, apiKey: NO_API_KEY, errorCode: 42 });
  });

  it('carry no body', () => {
    const frame = rawResponse({ errorCode: 42, header: pack({ message: 'x' }), body: Uint8Array.of(1) });
    expectError(decodeResponse(frame), Errors.INVALID_REQUEST, /carries no body/);
  });
});

describe('malformed request frames get the right error', () => {
  const header = pack({ topics: ['a'] });

  it('shorter than the fixed part: INVALID_REQUEST, close', () => {
    expectError(decodeRequest(new Uint8Array(15)), Errors.INVALID_REQUEST, /shorter than the 16-byte fixed part/, true);
    expectError(peekRequest(new Uint8Array(3)), Errors.INVALID_REQUEST, /shorter/, true);
  });

  it('frameLength not matching the frame: INVALID_REQUEST, close', () => {
    const frame = rawRequest({ header, frameLength: 999 });
    const error = expectError(decodeRequest(frame), Errors.INVALID_REQUEST, /frameLength 999 does not match/, true);
    expect(error.correlationId).toBe(77);
  });

  it('headerLength past the end of the frame: INVALID_REQUEST, connection kept', () => {
    const error = expectError(
      decodeRequest(rawRequest({ header, headerLength: header.length + 1 })),
      Errors.INVALID_REQUEST,
      /headerLength \d+ runs past the end of the frame/,
    );
    expect(error).toMatchObject({ correlationId: 77, apiKey: ApiKeys.Metadata });
    expectError(peekRequest(rawRequest({ header, headerLength: 0xffff_ffff })), Errors.INVALID_REQUEST, /runs past/);
  });

  it('a request header over 256 KiB: INVALID_REQUEST, connection kept (bounds decoding work on the main thread)', () => {
    const big = pack({ topics: Array.from({ length: 30_000 }, (_, i) => `topic-${i}`) });
    expect(big.length).toBeGreaterThan(FrameLayout.MAX_REQUEST_HEADER_BYTES);
    const error = expectError(decodeRequest(rawRequest({ header: big })), Errors.INVALID_REQUEST, /exceeds the 262144-byte limit for request headers/);
    expect(error.correlationId).toBe(77);
    expectError(peekRequest(rawRequest({ header: big })), Errors.INVALID_REQUEST, /262144-byte limit/);
    // Responses have no such limit: a large cluster's Metadata is big.
    const metadata = { clusterId: 'c', brokers: [], topics: Array.from({ length: 10_000 }, (_, i) => ({ name: `topic-${i}`, errorCode: 0, internal: false, partitions: [] })) };
    expect(decodeResponse(encodeResponse(1, ApiKeys.Metadata, metadata)).kind).toBe('response');
  });

  it.each([
    ['empty', new Uint8Array(0), /header is empty/],
    ['a never-used byte (0xc1)', Uint8Array.of(0xc1), /not valid msgpack/],
    ['truncated', pack({ topics: ['abc'] }).subarray(0, 5), /not valid msgpack/],
    ['followed by trailing bytes', concat([pack({}), Uint8Array.of(0)]), /not valid msgpack/],
    ['an array', pack([1, 2]), /must be a msgpack map, got an array/],
    ['a string', pack('hello'), /must be a msgpack map, got a string/],
    ['nil', pack(null), /must be a msgpack map, got nil/],
    ['a number', pack(5), /must be a msgpack map, got a number/],
    ['binary', pack(Buffer.from([1])), /must be a msgpack map, got binary/],
    ['a timestamp extension', pack(new Date(0)), /must be a msgpack map, got a Date/],
  ])('header %s: INVALID_REQUEST', (_name, bytes, message) => {
    const error = expectError(decodeRequest(rawRequest({ header: bytes })), Errors.INVALID_REQUEST, message);
    expect(error.correlationId).toBe(77);
    expectError(peekRequest(rawRequest({ header: bytes })), Errors.INVALID_REQUEST, message);
  });

  it('unknown api key: UNSUPPORTED_VERSION, connection kept', () => {
    const error = expectError(decodeRequest(rawRequest({ apiKey: 99 })), Errors.UNSUPPORTED_VERSION, /unknown api key 99/);
    expect(error).toMatchObject({ apiKey: 99, correlationId: 77 });
    expectError(decodeRequest(rawRequest({ apiKey: 0xffff })), Errors.UNSUPPORTED_VERSION, /unknown api key 65535/);
  });

  it('unsupported version: UNSUPPORTED_VERSION, checked before the header', () => {
    expectError(
      decodeRequest(rawRequest({ apiKey: ApiKeys.Produce, apiVersion: 1, header: Uint8Array.of(0xc1) })),
      Errors.UNSUPPORTED_VERSION,
      /Produce v1 is not supported/,
    );
  });

  it('a body where the api takes none: INVALID_REQUEST', () => {
    expectError(decodeRequest(rawRequest({ header, body: Uint8Array.of(1, 2) })), Errors.INVALID_REQUEST, /Metadata v0 request carries no body, got 2 bytes/);
  });

  it('Produce with an empty record set: INVALID_REQUEST', () => {
    const frame = encodeRequest(ApiKeys.Produce, 0, 1, { topic: 't', partition: 0, acks: 1, timeoutMs: 100 });
    expectError(decodeRequest(frame), Errors.INVALID_REQUEST, /Produce v0 request body \(the record set\) is empty/);
  });

  it('a header that fails its schema: INVALID_REQUEST naming the field', () => {
    const frame = encodeRequest(ApiKeys.Produce, 0, 5, { topic: 't', partition: 0, acks: 2 as 1, timeoutMs: 100 }, Uint8Array.of(1));
    const error = expectError(decodeRequest(frame), Errors.INVALID_REQUEST, /^Produce v0 request header: 'acks' must be 0 or 1 or -1, got 2$/);
    expect(error.correlationId).toBe(5);
    // peek does not check the schema: it is what the main thread routes with.
    expect(peekRequest(frame).kind).toBe('request-head');
  });

  it('an oversized frame: FRAME_TOO_LARGE from the reader, close', () => {
    const reader = new FrameReader({ maxFrameBytes: 64 });
    reader.push(encodeRequest(ApiKeys.Produce, 0, 3, { topic: 't', partition: 0, acks: 1, timeoutMs: 1 }, new Uint8Array(100)));
    const error = expectError(reader.next(), Errors.FRAME_TOO_LARGE, /exceeds max.frame.bytes 64/, true);
    expect(error).toMatchObject({ correlationId: 3, apiKey: ApiKeys.Produce });
  });
});

describe('unknown header fields', () => {
  it('are ignored and dropped, so newer clients can send more', () => {
    const header = { topic: 't', partition: 1, acks: 1, timeoutMs: 5, compressionHint: 'zstd', future: { a: [1] } };
    const decoded = decodeRequest(encodeRequest(ApiKeys.Produce, 0, 1, header as RequestHeaders[6], Uint8Array.of(1)));
    if (decoded.kind !== 'request') throw new Error(decoded.message);
    expect(decoded.header).toEqual({ topic: 't', partition: 1, acks: 1, timeoutMs: 5 });
  });

  it('nil reads as absent for optional fields', () => {
    const frame = rawRequest({ apiKey: ApiKeys.Metadata, header: pack({ topics: null }) });
    const decoded = decodeRequest(frame);
    if (decoded.kind !== 'request') throw new Error(decoded.message);
    expect(decoded.header).toEqual({});
  });
});

describe('encoders', () => {
  it('refuse ids out of range', () => {
    expect(() => encodeRequest(ApiKeys.Metadata, 0, 2 ** 32, {})).toThrow(RangeError);
    expect(() => encodeRequest(ApiKeys.Metadata, 0x10000, 1, {})).toThrow(RangeError);
    expect(() => encodeResponseHead(1, 1, 40000, {})).toThrow(RangeError);
    expect(() => encodeResponseHead(1, 1, 0, {}, -1)).toThrow(RangeError);
  });

  it('lay out the fixed part as frame-layout.ts says', () => {
    const frame = Buffer.from(encodeRequest(ApiKeys.Fetch, 0, 0xdeadbeef, { partitions: [], maxWaitMs: 0, minBytes: 0, maxBytes: 1 }));
    expect(frame.readUInt32BE(FrameLayout.FRAME_LENGTH)).toBe(frame.length - 4);
    expect(frame.readUInt16BE(FrameLayout.REQUEST_API_KEY)).toBe(7);
    expect(frame.readUInt16BE(FrameLayout.REQUEST_API_VERSION)).toBe(0);
    expect(frame.readUInt32BE(FrameLayout.REQUEST_CORRELATION_ID)).toBe(0xdeadbeef);
    expect(frame.readUInt32BE(FrameLayout.HEADER_LENGTH)).toBe(frame.length - FrameLayout.HEADER);

    const response = Buffer.from(encodeErrorResponse(0xcafe, 7, -1, {}));
    expect(response.readUInt32BE(FrameLayout.RESPONSE_CORRELATION_ID)).toBe(0xcafe);
    expect(response.readUInt16BE(FrameLayout.RESPONSE_API_KEY)).toBe(7);
    expect(response.readInt16BE(FrameLayout.RESPONSE_ERROR_CODE)).toBe(-1);
    expect(response.length).toBe(FrameLayout.HEADER + 1); // fixed part + fixmap {}
  });
});

describe('the worked example in docs/protocol.md', () => {
  // One RecordBatch v2 with one record: key null, value "hi", timestamp 1700000000000, as
  // src/storage's encodeRecordBatch writes it (70 bytes).
  const BATCH =
    '00000000000000000000003affffffff02bbcc41150000000000000000018bcfe568000000018bcfe56800' +
    'ffffffffffffffffffffffffffff00000001100000000104686900';
  const FRAME =
    '0000007e' + // frameLength 126
    '0006' + // apiKey 6 (Produce)
    '0000' + // apiVersion 0
    '00000001' + // correlationId 1
    '0000002c' + // headerLength 44
    '84' + // fixmap, 4 entries
    'a5746f706963' + 'a66f7264657273' + // "topic": "orders"
    'a9706172746974696f6e' + '00' + // "partition": 0
    'a461636b73' + '01' + // "acks": 1
    'a974696d656f75744d73' + 'cd1388' + // "timeoutMs": 5000 (uint16)
    BATCH; // body: the record set

  it('encodes byte for byte', () => {
    const frame = encodeRequest(ApiKeys.Produce, 0, 1, { topic: 'orders', partition: 0, acks: 1, timeoutMs: 5000 }, Buffer.from(BATCH, 'hex'));
    expect(frame.length).toBe(130);
    expect(hex(frame)).toBe(FRAME);
  });

  it('decodes back', () => {
    const decoded = decodeRequest(Buffer.from(FRAME, 'hex'));
    if (decoded.kind !== 'request' || decoded.apiKey !== ApiKeys.Produce) throw new Error('not a Produce request');
    expect(decoded.header).toEqual({ topic: 'orders', partition: 0, acks: 1, timeoutMs: 5000 });
    expect(hex(decoded.body)).toBe(BATCH);
  });
});
