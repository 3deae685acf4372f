// Raw frame builders for tests that need frames the encoders would never write.

import { Packr } from 'msgpackr';

const packr = new Packr({ useRecords: false, variableMapSize: true });

/** Plain msgpack with fixmaps, as Rill writes it (no int64 widening: that is the codec's job). */
export function pack(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** A request frame from its parts; every field can be made wrong. */
export function rawRequest(parts: {
  apiKey?: number;
  apiVersion?: number;
  correlationId?: number;
  header?: Uint8Array;
  body?: Uint8Array;
  frameLength?: number;
  headerLength?: number;
}): Uint8Array {
  const header = parts.header ?? pack({});
  const body = parts.body ?? new Uint8Array(0);
  const frame = Buffer.alloc(16 + header.length + body.length);
  frame.writeUInt32BE(parts.frameLength ?? frame.length - 4, 0);
  frame.writeUInt16BE(parts.apiKey ?? 1, 4);
  frame.writeUInt16BE(parts.apiVersion ?? 0, 6);
  frame.writeUInt32BE(parts.correlationId ?? 77, 8);
  frame.writeUInt32BE(parts.headerLength ?? header.length, 12);
  frame.set(header, 16);
  frame.set(body, 16 + header.length);
  return new Uint8Array(frame.buffer, frame.byteOffset, frame.length);
}

/** A response frame from its parts. */
export function rawResponse(parts: {
  correlationId?: number;
  apiKey?: number;
  errorCode?: number;
  header?: Uint8Array;
  body?: Uint8Array;
  frameLength?: number;
  headerLength?: number;
}): Uint8Array {
  const header = parts.header ?? pack({});
  const body = parts.body ?? new Uint8Array(0);
  const frame = Buffer.alloc(16 + header.length + body.length);
  frame.writeUInt32BE(parts.frameLength ?? frame.length - 4, 0);
  frame.writeUInt32BE(parts.correlationId ?? 77, 4);
  frame.writeUInt16BE(parts.apiKey ?? 1, 8);
  frame.writeInt16BE(parts.errorCode ?? 0, 10);
  frame.writeUInt32BE(parts.headerLength ?? header.length, 12);
  frame.set(header, 16);
  frame.set(body, 16 + header.length);
  return new Uint8Array(frame.buffer, frame.byteOffset, frame.length);
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}
