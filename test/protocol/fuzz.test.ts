// Fuzzing the reader and the decoders: whatever bytes arrive, they return frames or clear errors,
// never throw, and the reader's memory stays bounded.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Errors } from '../../src/errors.js';
import {
  ApiKeys,
  decodeRequest,
  decodeResponse,
  encodeProtocolError,
  encodeRequest,
  FrameReader,
  isProtocolError,
  peekRequest,
  type ApiKey,
  type ProtocolError,
  type RequestHeaders,
} from '../../src/protocol/index.js';
import { ALL_API_KEYS, anyRequestFrame, requestHeaders } from './arbitraries.js';
import { concat, pack, rawRequest } from './helpers.js';

const KNOWN_CODES = new Set([Errors.INVALID_REQUEST.code, Errors.INVALID_TOPIC_EXCEPTION.code, Errors.UNSUPPORTED_VERSION.code, Errors.FRAME_TOO_LARGE.code, Errors.INVALID_GROUP_ID.code]);

function checkError(error: ProtocolError): void {
  expect(KNOWN_CODES.has(error.code)).toBe(true);
  expect(error.message.length).toBeGreaterThan(0);
  expect(error.message.length).toBeLessThan(1000);
  // Whatever went wrong can be answered.
  const answer = decodeResponse(encodeProtocolError(error));
  expect(answer.kind).toBe('error-response');
}

/** Runs every decoder over a frame; none may throw. */
function decodeEveryWay(frame: Uint8Array): void {
  for (const result of [decodeRequest(frame), peekRequest(frame), decodeResponse(frame), decodeResponse(frame, 3)]) {
    expect(['request', 'request-head', 'response', 'error-response', 'error']).toContain(result.kind);
    if (isProtocolError(result)) checkError(result);
  }
}

/** Feeds chunks to a reader, decodes every frame, and checks the memory bound at every step. */
function readAndDecode(chunks: Uint8Array[], maxFrameBytes: number): number {
  const reader = new FrameReader({ maxFrameBytes });
  let frames = 0;
  for (const chunk of chunks) {
    reader.push(chunk);
    for (let r = reader.next(); r !== undefined; r = reader.next()) {
      expect(reader.bufferedBytes).toBeLessThanOrEqual(maxFrameBytes + chunk.length);
      if (isProtocolError(r)) {
        expect(r.closeConnection).toBe(true);
        checkError(r);
        return frames;
      }
      expect(r.length).toBeLessThanOrEqual(maxFrameBytes);
      frames++;
      decodeEveryWay(r);
    }
    expect(reader.bufferedBytes).toBeLessThan(maxFrameBytes);
  }
  return frames;
}

function split(stream: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...cuts.map((c) => c % (stream.length + 1)), 0, stream.length].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  for (let i = 1; i < points.length; i++) chunks.push(stream.subarray(points[i - 1], points[i]));
  return chunks;
}

type Mutation = { at: number; kind: 'set'; value: number } | { at: number; kind: 'insert'; bytes: Uint8Array } | { at: number; kind: 'cut'; length: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ at: fc.nat(), kind: fc.constant('set' as const), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ at: fc.nat(), kind: fc.constant('insert' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ at: fc.nat(), kind: fc.constant('cut' as const), length: fc.integer({ min: 1, max: 8 }) }),
);

function mutate(stream: Uint8Array, mutations: Mutation[]): Uint8Array {
  let bytes = stream;
  for (const m of mutations) {
    const at = bytes.length === 0 ? 0 : m.at % bytes.length;
    if (m.kind === 'set') {
      bytes = bytes.slice();
      if (bytes.length > 0) bytes[at] = m.value;
    } else if (m.kind === 'insert') {
      bytes = concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
    } else {
      bytes = concat([bytes.subarray(0, at), bytes.subarray(at + m.length)]);
    }
  }
  return bytes;
}

describe('fuzz: the reader and decoders never throw', () => {
  it('on random bytes in random chunks', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2000 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.integer({ min: 16, max: 4096 }),
        (bytes, cuts, max) => {
          readAndDecode(split(bytes, cuts), max);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('on random bytes behind plausible length prefixes (so frames do come out)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 12, maxLength: 300 }), { minLength: 1, maxLength: 10 }), (bodies) => {
        const frames = bodies.map((rest) => {
          const frame = new Uint8Array(4 + rest.length);
          new DataView(frame.buffer).setUint32(0, rest.length);
          frame.set(rest, 4);
          return frame;
        });
        expect(readAndDecode([concat(frames)], 1024)).toBe(frames.length);
      }),
      { numRuns: 400 },
    );
  });

  it('on valid frames with bytes flipped, inserted and cut', () => {
    fc.assert(
      fc.property(
        fc.array(anyRequestFrame, { minLength: 1, maxLength: 6 }),
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (requests, mutations, cuts) => {
          const stream = concat(
            requests.map((r) => encodeRequest(r.apiKey, 0, r.correlationId, r.header as RequestHeaders[ApiKey], r.body)),
          );
          readAndDecode(split(mutate(stream, mutations), cuts), 64 * 1024);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('on valid frame structure around random header bytes', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ALL_API_KEYS), fc.uint8Array({ maxLength: 200 }), (apiKey, header) => {
        decodeEveryWay(rawRequest({ apiKey, header }));
      }),
      { numRuns: 500 },
    );
  });

  it('on well-formed msgpack headers holding anything at all', () => {
    const anything = fc.anything({
      withBigInt: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withTypedArray: true,
      withNullPrototype: true,
      withSparseArray: true,
      withBoxedValues: true,
    });
    fc.assert(
      fc.property(fc.constantFrom(...ALL_API_KEYS), anything, (apiKey, value) => {
        let header: Uint8Array;
        try {
          header = pack(value);
        } catch {
          fc.pre(false); // not encodable (e.g. a BigInt beyond 64 bits): not what we test
          return;
        }
        decodeEveryWay(rawRequest({ apiKey, header, body: apiKey === ApiKeys.Produce ? Uint8Array.of(1) : undefined }));
      }),
      { numRuns: 500 },
    );
  });

  it('on valid headers with one field replaced by anything: an error names the field', () => {
    const replacement = fc.oneof(fc.anything({ maxDepth: 2 }), fc.constant(null), fc.double(), fc.string(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }));
    fc.assert(
      fc.property(
        fc.constantFrom(...ALL_API_KEYS).chain((apiKey) =>
          fc.tuple(fc.constant(apiKey), requestHeaders[apiKey] as fc.Arbitrary<unknown>),
        ),
        fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
        replacement,
        ([apiKey, header], steps, value) => {
          // Walk down `steps` (indexes into keys or elements) and replace what is there.
          const copy = structuredClone(header) as Record<string, unknown>;
          let parent: Record<string, unknown> | unknown[] = copy;
          let key: string | number = '';
          for (const step of steps) {
            const keys: (string | number)[] = Array.isArray(parent) ? parent.map((_, i) => i) : Object.keys(parent);
            if (keys.length === 0) break;
            key = keys[step % keys.length];
            const child: unknown = (parent as Record<string | number, unknown>)[key];
            if (typeof child !== 'object' || child === null) break;
            parent = child as Record<string, unknown>;
          }
          if (key === '') return;
          (parent as Record<string | number, unknown>)[key] = value;
          let bytes: Uint8Array;
          try {
            bytes = pack(copy);
          } catch {
            return;
          }
          const frame = rawRequest({ apiKey, header: bytes, body: apiKey === ApiKeys.Produce ? Uint8Array.of(1) : undefined });
          const result = decodeRequest(frame);
          if (isProtocolError(result)) {
            checkError(result);
            expect(result.message).toMatch(/header: '.+' /);
          } else {
            expect(result.kind).toBe('request');
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('on deeply nested headers (stack exhaustion is just an invalid header)', () => {
    const depth = 200_000;
    const header = new Uint8Array(depth + 1).fill(0x91); // [[[[...
    header[depth] = 0x80;
    const result = decodeRequest(rawRequest({ apiKey: ApiKeys.Metadata, header }));
    expect(isProtocolError(result) && result.code).toBe(Errors.INVALID_REQUEST.code);
  });
});
