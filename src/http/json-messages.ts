// The JSON shape of messages: produce requests to records, and fetched records to JSON. Any thread
// (used on the main thread: HTTP clients send JSON, so it is turned into records somewhere, and the
// main thread is where the request is; the cost is per message, which is why the binary protocol
// exists for the fastest producers).
//
// In:  { "messages": [ { "key"?, "keyBase64"?, "value" | "valueBase64", "headers"?, "partition"? } ] }
//      value: a string is stored as its UTF-8 bytes; any other JSON value (number, object, array,
//      boolean, null) as its JSON text. valueBase64: binary, stored as the decoded bytes.
//      headers: { "name": "value" } or [ { "key": "name", "value": "value" | null } ] (repeats allowed).
// Out: { "offset", "timestamp", "key", "value", "headers": [ { "key", "value" } ] }; with
//      encoding=base64 keys, values and header values are base64; with the default (utf8) a value or
//      key (or header value) that is not valid UTF-8 comes as valueBase64 / keyBase64 instead, so
//      nothing is mangled.

import { isUtf8 } from 'node:buffer';
import { type DecodedRecord, type HeaderInput } from '../storage/index.js';
import { invalidRequest } from './http-errors.js';

export interface ProduceMessage {
  key: Uint8Array | string | null;
  value: Uint8Array | string;
  headers: readonly HeaderInput[];
  /** Absent: chosen by key (murmur2, as Kafka) or spread over the partitions. */
  partition?: number;
}

export type Encoding = 'utf8' | 'base64';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function base64(raw: unknown, i: number, field: string): Buffer {
  if (typeof raw !== 'string' || raw.length % 4 !== 0 || !BASE64.test(raw)) throw invalidRequest(`${where(i)}.${field} must be a base64 string`);
  return Buffer.from(raw, 'base64');
}

/** A message's place in the body, for errors; built only when one is thrown (not per message). */
const where = (i: number): string => `messages[${i}]`;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Shared by every message without headers: a request of 100 such messages allocates none. */
const NO_HEADERS: readonly HeaderInput[] = Object.freeze([]);

function headersOf(raw: unknown, m: number): readonly HeaderInput[] {
  if (raw === undefined || raw === null) return NO_HEADERS;
  if (Array.isArray(raw)) {
    return raw.map((h, i) => {
      if (!isObject(h) || typeof h.key !== 'string') throw invalidRequest(`${where(m)}.headers[${i}] must be { "key": string, "value": string | null }`);
      if (h.value !== null && typeof h.value !== 'string') throw invalidRequest(`${where(m)}.headers[${i}].value must be a string or null`);
      return { key: h.key, value: h.value };
    });
  }
  if (isObject(raw)) {
    return Object.entries(raw).map(([key, value]) => {
      if (value !== null && typeof value !== 'string') throw invalidRequest(`${where(m)}.headers.${key} must be a string or null`);
      return { key, value };
    });
  }
  throw invalidRequest(`${where(m)}.headers must be an object of strings or an array of { "key", "value" }`);
}

function messageOf(raw: unknown, i: number): ProduceMessage {
  if (!isObject(raw)) throw invalidRequest(`${where(i)} must be an object`);
  const hasValue = 'value' in raw;
  const hasBase64 = 'valueBase64' in raw;
  if (hasValue === hasBase64) throw invalidRequest(`${where(i)} must have exactly one of "value" and "valueBase64"`);
  const value = hasBase64 ? base64(raw.valueBase64, i, 'valueBase64') : typeof raw.value === 'string' ? raw.value : JSON.stringify(raw.value);
  if ('key' in raw && 'keyBase64' in raw) throw invalidRequest(`${where(i)} must not have both "key" and "keyBase64"`);
  let key: Uint8Array | string | null = null;
  if (raw.keyBase64 !== undefined) key = base64(raw.keyBase64, i, 'keyBase64');
  else if (raw.key !== undefined && raw.key !== null) {
    if (typeof raw.key !== 'string') throw invalidRequest(`${where(i)}.key must be a string (or use keyBase64)`);
    key = raw.key;
  }
  const message: ProduceMessage = { key, value, headers: headersOf(raw.headers, i) };
  if (raw.partition !== undefined && raw.partition !== null) {
    if (typeof raw.partition !== 'number' || !Number.isSafeInteger(raw.partition) || raw.partition < 0) throw invalidRequest(`${where(i)}.partition must be a non-negative integer`);
    message.partition = raw.partition;
  }
  return message;
}

/** Validates a produce body; INVALID_REQUEST naming the first field that is wrong. */
export function parseProduceBody(body: unknown, maxMessages: number): ProduceMessage[] {
  if (!isObject(body)) throw invalidRequest('the body must be a JSON object: { "messages": [ ... ] }');
  const { messages } = body;
  if (!Array.isArray(messages)) throw invalidRequest('"messages" must be an array of messages');
  if (messages.length === 0) throw invalidRequest('"messages" must hold at least one message');
  if (messages.length > maxMessages) throw invalidRequest(`"messages" holds ${messages.length} messages; at most ${maxMessages} per request`);
  return messages.map(messageOf);
}

/** One message's place in a produce answer; null offset with acks=0. */
export interface ProducedOffset {
  partition: number;
  offset: number | null;
}

/**
 * The answer to a produce that stored everything, `{"offsets":[{"partition":p,"offset":o},...]}`,
 * exactly as JSON.stringify writes it but built directly: 12 us for 100 messages instead of 30,
 * the largest single cost of answering a batch produce on the main thread.
 */
export function producedOffsetsJson(offsets: readonly ProducedOffset[]): string {
  let json = '{"offsets":[';
  for (let i = 0; i < offsets.length; i++) {
    const { partition, offset } = offsets[i];
    json += (i === 0 ? '{"partition":' : ',{"partition":') + partition + ',"offset":' + (offset === null ? 'null' : offset) + '}';
  }
  return json + ']}';
}

export interface JsonMessage {
  offset: number;
  timestamp: number;
  key?: string | null;
  keyBase64?: string;
  value?: string | null;
  valueBase64?: string | null;
  headers?: { key: string; value?: string | null; valueBase64?: string }[];
}

function text(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8');
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64');
}

/** A fetched record as JSON. Copies everything out of `record` (its bytes may be a mapped segment). */
export function recordToJson(record: DecodedRecord, encoding: Encoding): JsonMessage {
  const out: JsonMessage = { offset: record.offset, timestamp: record.timestamp };
  const { key, value } = record;
  if (encoding === 'base64') {
    out.key = key === null ? null : b64(key);
    out.value = value === null ? null : b64(value);
  } else {
    if (key === null || isUtf8(key)) out.key = key === null ? null : text(key);
    else out.keyBase64 = b64(key);
    if (value === null || isUtf8(value)) out.value = value === null ? null : text(value);
    else out.valueBase64 = b64(value);
  }
  out.headers = [];
  for (const h of record.headers) {
    if (h.value === null) out.headers.push({ key: h.key, value: null });
    else if (encoding === 'base64') out.headers.push({ key: h.key, value: b64(h.value) });
    else if (isUtf8(h.value)) out.headers.push({ key: h.key, value: text(h.value) });
    else out.headers.push({ key: h.key, valueBase64: b64(h.value) });
  }
  return out;
}
