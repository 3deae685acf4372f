// Incremental frame splitter for a byte stream. Main thread (one reader per connection), and the
// client's connection on whatever thread runs it. Not thread-safe; one reader per stream.
//
// Feed it socket chunks as they arrive (any split points, many frames per chunk) and pull complete
// frames out:
//
//   reader.push(chunk);
//   for (let r = reader.next(); r !== undefined; r = reader.next()) {
//     if (r instanceof Uint8Array) route(r); else { answer(r); if (r.closeConnection) close(); break; }
//   }
//
// Pulling rather than calling back leaves backpressure to the caller: when the worker's ring is full
// it stops calling next() and pauses the socket, and no chunk is queued meanwhile (push() is only
// allowed once next() has drained the previous chunk).
//
// Costs, since every byte a client sends passes through here: a frame that lies within one chunk
// comes out as a view of that chunk (no copy); a frame that spans chunks is collected as views of the
// chunks and copied once, into a buffer of exactly its size, when its last byte arrives. Work is per
// frame, never per byte. Memory held is what has arrived and not yet been returned: less than one
// frame (at most max.frame.bytes) plus the current chunk. Nothing is allocated up front on the word
// of a length prefix, so a prefix promising 8 MiB costs nothing until the bytes come.
//
// The reader checks only the length prefix: below the 12-byte fixed part (INVALID_REQUEST) or above
// max.frame.bytes (FRAME_TOO_LARGE, reported as soon as the prefix is read, before any of the body
// is buffered). Either means the stream's framing can no longer be trusted: the result says
// closeConnection, and the reader stays failed, returning the same error from then on. Everything
// inside a frame is checked by the decoders in frames.ts.
//
// Returned frames include the length prefix, so the offsets in frame-layout.ts apply to them as they
// are. They share memory with the chunks pushed: a caller that reuses its chunk buffers must copy.

import { Errors, RillError } from '../errors.js';
import { readUint16, readUint32 } from './bytes.js';
import {
  DEFAULT_MAX_FRAME_BYTES,
  LENGTH_PREFIX_SIZE,
  MAX_MAX_FRAME_BYTES,
  MIN_FRAME_LENGTH,
  MIN_MAX_FRAME_BYTES,
  REQUEST_API_KEY,
  REQUEST_CORRELATION_ID,
  RESPONSE_API_KEY,
  RESPONSE_CORRELATION_ID,
} from './frame-layout.js';
import { protocolError, type ProtocolError } from './protocol-error.js';

export interface FrameReaderOptions {
  /** `max.frame.bytes`: the largest whole frame accepted, length prefix included. Default 8 MiB. */
  maxFrameBytes?: number;
  /**
   * What the stream carries: 'requests' on the broker, 'responses' on a client. Only decides where
   * an error result looks for the correlation id and api key to echo. Default 'requests'.
   */
  carries?: 'requests' | 'responses';
}

/** Both layouts have their correlation id and api key within a frame's first 12 bytes. */
const IDS_END = REQUEST_CORRELATION_ID + 4;

/** A complete frame, an error (the stream is then failed), or undefined: push more bytes. */
export type FrameReadResult = Uint8Array | ProtocolError | undefined;

export class FrameReader {
  readonly maxFrameBytes: number;
  private readonly carriesRequests: boolean;

  /** The chunk being cut into frames, and how far into it we are. */
  private chunk: Uint8Array | null = null;
  private pos = 0;

  /** Pieces of a frame that spans chunks, their total, and the frame's size once its prefix is known. */
  private parts: Uint8Array[] = [];
  private partBytes = 0;
  private frameSize = 0;

  private failure: ProtocolError | undefined = undefined;

  constructor(options: FrameReaderOptions = {}) {
    const max = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (!Number.isInteger(max) || max < MIN_MAX_FRAME_BYTES || max > MAX_MAX_FRAME_BYTES) {
      throw new RillError(
        Errors.INVALID_CONFIG,
        `max.frame.bytes must be an integer in [${MIN_MAX_FRAME_BYTES}, ${MAX_MAX_FRAME_BYTES}], got ${String(max)}`,
      );
    }
    this.maxFrameBytes = max;
    this.carriesRequests = (options.carries ?? 'requests') === 'requests';
  }

  /** Bytes received and not yet returned as frames: a partial frame plus the unread rest of the chunk. */
  get bufferedBytes(): number {
    return this.partBytes + (this.chunk === null ? 0 : this.chunk.length - this.pos);
  }

  /** The error that failed the stream, if it has failed. */
  get error(): ProtocolError | undefined {
    return this.failure;
  }

  /**
   * Hands the reader the next chunk of the stream. Call next() until it returns undefined before
   * pushing again. Ignored once the stream has failed.
   */
  push(chunk: Uint8Array): void {
    if (this.failure !== undefined) return;
    if (this.chunk !== null) {
      throw new Error('FrameReader.push() called before next() drained the previous chunk');
    }
    this.chunk = chunk;
    this.pos = 0;
  }

  /** The next complete frame, an error, or undefined when the pushed bytes hold no further frame. */
  next(): FrameReadResult {
    if (this.failure !== undefined) return this.failure;
    const chunk = this.chunk;
    if (chunk === null) return undefined;

    if (this.partBytes === 0) {
      // At a frame boundary: cut the frame out of the chunk in place when it is all there.
      const start = this.pos;
      const available = chunk.length - start;
      if (available >= LENGTH_PREFIX_SIZE) {
        const size = readUint32(chunk, start) + LENGTH_PREFIX_SIZE;
        const bad = this.checkSize(size, chunk, start, available);
        if (bad !== undefined) return bad;
        if (available >= size) {
          this.pos = start + size;
          if (this.pos === chunk.length) this.chunk = null;
          return chunk.subarray(start, start + size);
        }
        this.frameSize = size;
      }
      if (available > 0) {
        this.parts.push(start === 0 ? chunk : chunk.subarray(start));
        this.partBytes = available;
      }
      this.chunk = null;
      return undefined;
    }

    // Continuing a frame that spans chunks.
    if (this.frameSize === 0) {
      // Even its length prefix was split.
      const take = Math.min(LENGTH_PREFIX_SIZE - this.partBytes, chunk.length - this.pos);
      if (take > 0) {
        this.parts.push(chunk.subarray(this.pos, this.pos + take));
        this.partBytes += take;
        this.pos += take;
      }
      if (this.partBytes < LENGTH_PREFIX_SIZE) {
        this.chunk = null;
        return undefined;
      }
      const size = this.prefixFromParts() + LENGTH_PREFIX_SIZE;
      const bad = this.checkSize(size, null, 0, 0);
      if (bad !== undefined) return bad;
      this.frameSize = size;
    }

    const wanted = this.frameSize - this.partBytes;
    const available = chunk.length - this.pos;
    if (available < wanted) {
      if (available > 0) this.parts.push(this.pos === 0 ? chunk : chunk.subarray(this.pos));
      this.partBytes += available;
      this.chunk = null;
      return undefined;
    }
    this.parts.push(chunk.subarray(this.pos, this.pos + wanted));
    this.pos += wanted;
    if (this.pos === chunk.length) this.chunk = null;
    return this.assemble();
  }

  /** Copies the collected parts into one buffer of exactly the frame's size. */
  private assemble(): Uint8Array {
    const frame = Buffer.allocUnsafe(this.frameSize);
    let at = 0;
    for (const part of this.parts) {
      frame.set(part, at);
      at += part.length;
    }
    this.parts = [];
    this.partBytes = 0;
    this.frameSize = 0;
    return frame;
  }

  /** The length prefix when it arrived in pieces (at most four, one byte each at worst). */
  private prefixFromParts(): number {
    let value = 0;
    let got = 0;
    for (const part of this.parts) {
      for (let i = 0; i < part.length && got < LENGTH_PREFIX_SIZE; i++, got++) value = value * 256 + part[i];
    }
    return value;
  }

  /**
   * Checks a whole-frame size read from a prefix; fails the stream if it is out of bounds. `head`,
   * when given, holds `available` bytes of the frame from `start`, to echo its ids if they are there.
   */
  private checkSize(size: number, head: Uint8Array | null, start: number, available: number): ProtocolError | undefined {
    if (size >= MIN_FRAME_LENGTH + LENGTH_PREFIX_SIZE && size <= this.maxFrameBytes) return undefined;
    let correlationId: number | undefined;
    let apiKey: number | undefined;
    if (head !== null && available >= IDS_END && size >= IDS_END) {
      correlationId = readUint32(head, start + (this.carriesRequests ? REQUEST_CORRELATION_ID : RESPONSE_CORRELATION_ID));
      apiKey = readUint16(head, start + (this.carriesRequests ? REQUEST_API_KEY : RESPONSE_API_KEY));
    }
    const frameLength = size - LENGTH_PREFIX_SIZE;
    const error =
      size > this.maxFrameBytes
        ? protocolError(
            Errors.FRAME_TOO_LARGE,
            `frame of ${size} bytes (frameLength ${frameLength}) exceeds max.frame.bytes ${this.maxFrameBytes}`,
            true,
            correlationId,
            apiKey,
          )
        : protocolError(
            Errors.INVALID_REQUEST,
            `frameLength ${frameLength} is below the ${MIN_FRAME_LENGTH} bytes of the fixed part`,
            true,
            correlationId,
            apiKey,
          );
    this.fail(error);
    return error;
  }

  private fail(error: ProtocolError): void {
    this.failure = error;
    this.chunk = null;
    this.parts = [];
    this.partBytes = 0;
    this.frameSize = 0;
  }
}
