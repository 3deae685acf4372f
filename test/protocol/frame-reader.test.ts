import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Errors, RillError } from '../../src/errors.js';
import { DEFAULT_MAX_FRAME_BYTES, FrameReader, isProtocolError, type ProtocolError } from '../../src/protocol/index.js';
import { concat, hex, rawRequest, rawResponse } from './helpers.js';

/** A frame with arbitrary content: the reader only reads the length prefix. */
const frameArb = (maxBody: number) =>
  fc.uint8Array({ minLength: 12, maxLength: 12 + maxBody }).map((rest) => {
    const frame = new Uint8Array(4 + rest.length);
    new DataView(frame.buffer).setUint32(0, rest.length);
    frame.set(rest, 4);
    return frame;
  });

/** Splits `stream` at the given cut points (any order, duplicates allowed: empty chunks). */
function split(stream: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...cuts.map((c) => c % (stream.length + 1)), 0, stream.length].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  for (let i = 1; i < points.length; i++) chunks.push(stream.slice(points[i - 1], points[i]));
  return chunks;
}

/** Pushes every chunk and drains; checks the memory bound after each step. */
function readAll(reader: FrameReader, chunks: Uint8Array[]): (Uint8Array | ProtocolError)[] {
  const out: (Uint8Array | ProtocolError)[] = [];
  for (const chunk of chunks) {
    reader.push(chunk);
    expect(reader.bufferedBytes).toBeLessThanOrEqual(reader.maxFrameBytes + chunk.length);
    for (let r = reader.next(); r !== undefined; r = reader.next()) {
      expect(reader.bufferedBytes).toBeLessThanOrEqual(reader.maxFrameBytes + chunk.length);
      out.push(r);
      if (isProtocolError(r)) return out;
    }
    expect(reader.bufferedBytes).toBeLessThan(reader.maxFrameBytes);
  }
  return out;
}

describe('FrameReader', () => {
  it('splits a stream cut at random points into the same frames, in order', () => {
    fc.assert(
      fc.property(
        fc.array(frameArb(300), { minLength: 1, maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (frames, cuts) => {
          const reader = new FrameReader({ maxFrameBytes: 1024 });
          const out = readAll(reader, split(concat(frames), cuts));
          expect(out.map((f) => hex(f as Uint8Array))).toEqual(frames.map(hex));
          expect(reader.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('handles one-byte chunks, including a length prefix split byte by byte', () => {
    const frames = [rawRequest({}), rawResponse({ body: new Uint8Array(50).fill(7) }), rawRequest({ correlationId: 9 })];
    const stream = concat(frames);
    const chunks = [...stream].map((b) => Uint8Array.of(b));
    expect(readAll(new FrameReader(), chunks).map((f) => hex(f as Uint8Array))).toEqual(frames.map(hex));
  });

  it('returns frames within one chunk as views of it, without copying', () => {
    const frames = [rawRequest({}), rawRequest({ body: new Uint8Array(10) }), rawRequest({})];
    const chunk = concat(frames);
    const reader = new FrameReader();
    reader.push(chunk);
    const out: Uint8Array[] = [];
    for (let r = reader.next(); r !== undefined; r = reader.next()) out.push(r as Uint8Array);
    expect(out).toHaveLength(3);
    for (const frame of out) expect(frame.buffer).toBe(chunk.buffer);
    expect(out.map((f) => f.byteOffset - chunk.byteOffset)).toEqual([0, frames[0].length, frames[0].length + frames[1].length]);
  });

  it('copies a frame spanning chunks once, into a buffer of exactly its size', () => {
    const frame = rawRequest({ body: new Uint8Array(100).fill(1) });
    const reader = new FrameReader();
    reader.push(frame.slice(0, 30));
    expect(reader.next()).toBeUndefined();
    expect(reader.bufferedBytes).toBe(30);
    reader.push(frame.slice(30));
    const out = reader.next() as Uint8Array;
    expect(out.length).toBe(frame.length);
    expect(hex(out)).toBe(hex(frame));
    expect(reader.next()).toBeUndefined();
  });

  it('accepts a frame of exactly max.frame.bytes and refuses one byte more', () => {
    const exact = rawRequest({ header: Uint8Array.of(0x80), body: new Uint8Array(100 - 17) });
    expect(exact.length).toBe(100);
    const reader = new FrameReader({ maxFrameBytes: 100 });
    reader.push(exact);
    expect(hex(reader.next() as Uint8Array)).toBe(hex(exact));

    const over = rawRequest({ header: Uint8Array.of(0x80), body: new Uint8Array(101 - 17) });
    const second = new FrameReader({ maxFrameBytes: 100 });
    second.push(over);
    expect((second.next() as ProtocolError).code).toBe(Errors.FRAME_TOO_LARGE.code);
  });

  describe('oversized frames', () => {
    it('are refused as soon as the length prefix is read, before any body is buffered', () => {
      const reader = new FrameReader({ maxFrameBytes: 1024 });
      reader.push(Uint8Array.of(0x00, 0x10, 0x00, 0x00)); // frameLength 1 MiB; nothing else yet
      const error = reader.next() as ProtocolError;
      expect(error).toMatchObject({
        kind: 'error',
        code: Errors.FRAME_TOO_LARGE.code,
        type: 'FRAME_TOO_LARGE',
        closeConnection: true,
        correlationId: undefined,
      });
      expect(error.message).toBe('frame of 1048580 bytes (frameLength 1048576) exceeds max.frame.bytes 1024');
      expect(reader.bufferedBytes).toBe(0);
    });

    it('are refused when the prefix itself arrives in pieces', () => {
      const reader = new FrameReader({ maxFrameBytes: 1024 });
      reader.push(Uint8Array.of(0xff));
      expect(reader.next()).toBeUndefined();
      reader.push(Uint8Array.of(0xff, 0xff));
      expect(reader.next()).toBeUndefined();
      reader.push(Uint8Array.of(0xff, 1, 2, 3));
      expect((reader.next() as ProtocolError).code).toBe(Errors.FRAME_TOO_LARGE.code);
      expect(reader.bufferedBytes).toBe(0);
    });

    it('are refused with the default 8 MiB limit', () => {
      const reader = new FrameReader();
      expect(reader.maxFrameBytes).toBe(DEFAULT_MAX_FRAME_BYTES);
      const prefix = new Uint8Array(4);
      new DataView(prefix.buffer).setUint32(0, DEFAULT_MAX_FRAME_BYTES - 3);
      reader.push(prefix);
      expect((reader.next() as ProtocolError).code).toBe(Errors.FRAME_TOO_LARGE.code);
    });

    it('echo the request ids when they arrived with the prefix', () => {
      const reader = new FrameReader({ maxFrameBytes: 64 });
      reader.push(rawRequest({ apiKey: 6, correlationId: 4242, body: new Uint8Array(100) }).subarray(0, 12));
      expect(reader.next()).toMatchObject({ correlationId: 4242, apiKey: 6 });
    });

    it('echo the response ids on a client reader', () => {
      const reader = new FrameReader({ maxFrameBytes: 64, carries: 'responses' });
      reader.push(rawResponse({ apiKey: 7, correlationId: 99, body: new Uint8Array(100) }));
      expect(reader.next()).toMatchObject({ code: Errors.FRAME_TOO_LARGE.code, correlationId: 99, apiKey: 7 });
    });
  });

  describe('malformed length prefixes', () => {
    it.each([0, 1, 8, 11])('frameLength %i (below the 12-byte fixed part): INVALID_REQUEST, close', (frameLength) => {
      const bytes = new Uint8Array(32);
      new DataView(bytes.buffer).setUint32(0, frameLength);
      const reader = new FrameReader();
      reader.push(bytes);
      const error = reader.next() as ProtocolError;
      expect(error).toMatchObject({ code: Errors.INVALID_REQUEST.code, closeConnection: true });
      expect(error.message).toBe(`frameLength ${frameLength} is below the 12 bytes of the fixed part`);
    });

    it('frameLength 12 (fixed part only) is a frame', () => {
      const reader = new FrameReader();
      const frame = rawRequest({ header: new Uint8Array(0) });
      expect(frame.length).toBe(16);
      reader.push(frame);
      expect(reader.next()).toBeInstanceOf(Uint8Array);
    });

    it('fail the stream for good: later calls return the same error and pushes are ignored', () => {
      const reader = new FrameReader();
      reader.push(concat([rawRequest({}), Uint8Array.of(0, 0, 0, 1), rawRequest({})]));
      expect(reader.next()).toBeInstanceOf(Uint8Array);
      const error = reader.next();
      expect(isProtocolError(error)).toBe(true);
      expect(reader.next()).toBe(error);
      expect(reader.error).toBe(error);
      reader.push(rawRequest({}));
      expect(reader.next()).toBe(error);
      expect(reader.bufferedBytes).toBe(0);
    });
  });

  it('refuses a push before the previous chunk is drained (a caller bug, so it throws)', () => {
    const reader = new FrameReader();
    reader.push(concat([rawRequest({}), rawRequest({})]));
    reader.next();
    expect(() => reader.push(rawRequest({}))).toThrow(/drained/);
  });

  it('takes empty chunks in stride', () => {
    const reader = new FrameReader();
    reader.push(new Uint8Array(0));
    expect(reader.next()).toBeUndefined();
    const frame = rawRequest({});
    reader.push(frame.subarray(0, 2));
    expect(reader.next()).toBeUndefined();
    reader.push(new Uint8Array(0));
    expect(reader.next()).toBeUndefined();
    reader.push(frame.subarray(2));
    expect(hex(reader.next() as Uint8Array)).toBe(hex(frame));
  });

  it.each([0, 15, 1.5, 2 ** 31, Number.NaN])('refuses max.frame.bytes %s', (max) => {
    expect(() => new FrameReader({ maxFrameBytes: max })).toThrow(RillError);
    expect(() => new FrameReader({ maxFrameBytes: max })).toThrow(/max.frame.bytes/);
  });
});
