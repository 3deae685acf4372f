// Encoding and decoding whole frames. Any thread: the broker's main thread decodes every request's
// fixed part and header to route it (never its body) and writes response heads; workers and
// clients encode and decode the rest. Layouts are in frame-layout.ts.
//
// Encoders trust their caller (the header has the declared type; ids are in range) and throw
// RangeError on ids out of range. Decoders trust nothing and never throw: they return the decoded
// frame or a ProtocolError saying what to answer and whether to close the connection. (Only a bug in
// a schema, an exception other than a Violation, would escape.)
//
// Checks a request goes through, in order; the first failure is the answer:
//   1. the frame is at least the 16-byte fixed part and its frameLength matches  INVALID_REQUEST, close
//   2. the api key is known and its version supported                            UNSUPPORTED_VERSION
//   3. headerLength fits within the frame, and within 256 KiB                     INVALID_REQUEST
//   4. the header is one msgpack map                                              INVALID_REQUEST
//   5. the body matches the api (empty, or a non-empty record set for Produce)    INVALID_REQUEST
//   6. the header's fields match the api's schema                                 INVALID_REQUEST,
//                                                               or INVALID_TOPIC_EXCEPTION for a topic name
// Only (1) closes the connection: from (2) on, the frame's boundaries are sound and the next frame
// can be read. The frame reader reports the other closing errors (bad or oversized length prefix).

import { Errors } from '../errors.js';
import { readInt16, readUint16, readUint32, writeUint16, writeUint32 } from './bytes.js';
import type { ErrorHeader } from './error-header.js';
import { errorHeader } from './error-header.js';
import {
  FIXED_SIZE,
  FRAME_LENGTH,
  HEADER,
  HEADER_LENGTH,
  LENGTH_PREFIX_SIZE,
  MAX_REQUEST_HEADER_BYTES,
  MAX_U16,
  MAX_U32,
  NO_API_KEY,
  NO_CORRELATION_ID,
  REQUEST_API_KEY,
  REQUEST_API_VERSION,
  REQUEST_CORRELATION_ID,
  RESPONSE_API_KEY,
  RESPONSE_CORRELATION_ID,
  RESPONSE_ERROR_CODE,
} from './frame-layout.js';
import { apiName, check, supportedApis, versionSpec, type ApiKey, type BodyKind, type RequestHeaders, type ResponseHeaders } from './apis.js';
import { decodeHeader, encodeHeader, type RawHeader } from './header-codec.js';
import { isProtocolError, protocolError, type ProtocolError } from './protocol-error.js';

// ---- Decoded frames

/** A request's fixed fields and its header as decoded msgpack, not yet checked against its api. */
export interface RequestHead {
  readonly kind: 'request-head';
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly header: RawHeader;
  /** Where the body starts in the frame; it runs to the end. */
  readonly bodyOffset: number;
  readonly bodyLength: number;
}

export interface RequestOf<K extends ApiKey> {
  readonly kind: 'request';
  readonly apiKey: K;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly header: RequestHeaders[K];
  /** A view of the frame's body: the record set for Produce, empty otherwise. */
  readonly body: Uint8Array;
}

/** A fully checked request; switch on apiKey to narrow the header's type. */
export type DecodedRequest = { [K in ApiKey]: RequestOf<K> }[ApiKey];

export interface ResponseOf<K extends ApiKey> {
  readonly kind: 'response';
  readonly correlationId: number;
  readonly apiKey: K;
  readonly header: ResponseHeaders[K];
  /** A view of the frame's body: the partitions' record sets for Fetch, empty otherwise. */
  readonly body: Uint8Array;
}

/** A response frame whose errorCode is not NONE: the request as a whole failed. */
export interface ErrorResponse {
  readonly kind: 'error-response';
  readonly correlationId: number;
  /** The request's api key, or NO_API_KEY (0xffff) when the broker could not read it. */
  readonly apiKey: number;
  readonly errorCode: number;
  readonly header: ErrorHeader;
}

export type DecodedResponse = { [K in ApiKey]: ResponseOf<K> }[ApiKey] | ErrorResponse;

// ---- Encoding

/**
 * The request frame up to its body: fixed part and header, with frameLength counting `bodyLength`
 * more bytes that the caller sends next (e.g. a record set it already holds).
 */
export function encodeRequestHead<K extends ApiKey>(
  apiKey: K,
  apiVersion: number,
  correlationId: number,
  header: RequestHeaders[K],
  bodyLength = 0,
): Uint8Array {
  checkId(apiKey, MAX_U16, 'apiKey');
  checkId(apiVersion, MAX_U16, 'apiVersion');
  checkId(correlationId, MAX_U32, 'correlationId');
  const headerBytes = encodeHeader(header);
  const head = writeHead(headerBytes, bodyLength);
  writeUint16(head, REQUEST_API_KEY, apiKey);
  writeUint16(head, REQUEST_API_VERSION, apiVersion);
  writeUint32(head, REQUEST_CORRELATION_ID, correlationId);
  return head;
}

/** A whole request frame in one buffer. */
export function encodeRequest<K extends ApiKey>(
  apiKey: K,
  apiVersion: number,
  correlationId: number,
  header: RequestHeaders[K],
  body?: Uint8Array,
): Uint8Array {
  return withBody(encodeRequestHead(apiKey, apiVersion, correlationId, header, body?.length ?? 0), body);
}

/**
 * The response frame up to its body, with frameLength counting `bodyLength` more bytes that the
 * caller writes next — for Fetch, the record sets straight from the mapped segments.
 */
export function encodeResponseHead(
  correlationId: number,
  apiKey: number,
  errorCode: number,
  header: object,
  bodyLength = 0,
): Uint8Array {
  checkId(correlationId, MAX_U32, 'correlationId');
  checkId(apiKey, MAX_U16, 'apiKey');
  if (!Number.isInteger(errorCode) || errorCode < -0x8000 || errorCode > 0x7fff) {
    throw new RangeError(`errorCode must be an int16, got ${errorCode}`);
  }
  const head = writeHead(encodeHeader(header), bodyLength);
  writeUint32(head, RESPONSE_CORRELATION_ID, correlationId);
  writeUint16(head, RESPONSE_API_KEY, apiKey);
  writeUint16(head, RESPONSE_ERROR_CODE, errorCode);
  return head;
}

/** A whole successful response frame in one buffer. */
export function encodeResponse<K extends ApiKey>(
  correlationId: number,
  apiKey: K,
  header: ResponseHeaders[K],
  body?: Uint8Array,
): Uint8Array {
  return withBody(encodeResponseHead(correlationId, apiKey, 0, header, body?.length ?? 0), body);
}

/** An error response frame: the request as a whole failed with `errorCode`. */
export function encodeErrorResponse(correlationId: number, apiKey: number, errorCode: number, header: ErrorHeader): Uint8Array {
  return encodeResponseHead(correlationId, apiKey, errorCode, header, 0);
}

/**
 * The answer to a ProtocolError from the reader or a decoder: echoes the ids it could read (else
 * correlation id 0 and api key 0xffff), carries its message, and for UNSUPPORTED_VERSION the
 * versions this side speaks. The caller closes the connection after it if error.closeConnection.
 */
export function encodeProtocolError(error: ProtocolError): Uint8Array {
  const header: ErrorHeader = { message: error.message };
  if (error.code === Errors.UNSUPPORTED_VERSION.code) header.apis = supportedApis();
  return encodeErrorResponse(error.correlationId ?? NO_CORRELATION_ID, error.apiKey ?? NO_API_KEY, error.code, header);
}

function checkId(value: number, max: number, name: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`${name} must be an integer in [0, ${max}], got ${value}`);
}

/** Allocates the head (fixed part + header) and fills frameLength, headerLength and the header. */
function writeHead(headerBytes: Uint8Array, bodyLength: number): Uint8Array {
  const headLength = FIXED_SIZE + headerBytes.length;
  const frameLength = headLength - LENGTH_PREFIX_SIZE + bodyLength;
  if (!Number.isInteger(bodyLength) || bodyLength < 0 || frameLength > MAX_U32) {
    throw new RangeError(`a frame of ${frameLength + LENGTH_PREFIX_SIZE} bytes does not fit a u32 length`);
  }
  const head = new Uint8Array(headLength);
  writeUint32(head, FRAME_LENGTH, frameLength);
  writeUint32(head, HEADER_LENGTH, headerBytes.length);
  head.set(headerBytes, HEADER);
  return head;
}

function withBody(head: Uint8Array, body: Uint8Array | undefined): Uint8Array {
  if (body === undefined || body.length === 0) return head;
  const frame = new Uint8Array(head.length + body.length);
  frame.set(head, 0);
  frame.set(body, head.length);
  return frame;
}

// ---- Decoding requests

/**
 * The fixed fields and the msgpack header of a request, without looking at its api or its body:
 * checks 1, 3 and 4 of the list above. Cheap: a few reads and one small msgpack decode.
 */
export function peekRequest(frame: Uint8Array): RequestHead | ProtocolError {
  const bad = checkLength(frame, 'request');
  if (bad !== undefined) return bad;
  const apiKey = readUint16(frame, REQUEST_API_KEY);
  const apiVersion = readUint16(frame, REQUEST_API_VERSION);
  const correlationId = readUint32(frame, REQUEST_CORRELATION_ID);
  const bodyOffset = HEADER + readUint32(frame, HEADER_LENGTH);
  const header = readRequestHeader(frame);
  if (typeof header === 'string') {
    return protocolError(Errors.INVALID_REQUEST, `${requestName(apiKey, apiVersion)}: ${header}`, false, correlationId, apiKey);
  }
  return { kind: 'request-head', apiKey, apiVersion, correlationId, header, bodyOffset, bodyLength: frame.length - bodyOffset };
}

/** A request checked against its api: every check of the list above. The body is a view, unread. */
export function decodeRequest(frame: Uint8Array): DecodedRequest | ProtocolError {
  const bad = checkLength(frame, 'request');
  if (bad !== undefined) return bad;
  const apiKey = readUint16(frame, REQUEST_API_KEY);
  const apiVersion = readUint16(frame, REQUEST_API_VERSION);
  const correlationId = readUint32(frame, REQUEST_CORRELATION_ID);

  const version = versionSpec(apiKey, apiVersion, correlationId);
  if (isProtocolError(version)) return version;
  const raw = readRequestHeader(frame);
  if (typeof raw === 'string') {
    return protocolError(Errors.INVALID_REQUEST, `${requestName(apiKey, apiVersion)}: ${raw}`, false, correlationId, apiKey);
  }
  const body = frame.subarray(HEADER + readUint32(frame, HEADER_LENGTH));
  const badBody = bodyProblem(version.requestBody, body.length, false);
  if (badBody !== undefined) {
    return protocolError(Errors.INVALID_REQUEST, `${requestName(apiKey, apiVersion)} ${badBody}`, false, correlationId, apiKey);
  }
  const header = check(version.request, raw, `${requestName(apiKey, apiVersion)} header`, correlationId, apiKey);
  if (isProtocolError(header)) return header;
  return { kind: 'request', apiKey, apiVersion, correlationId, header, body } as DecodedRequest;
}

// ---- Decoding responses

/** The correlation id of a response frame (to find the pending request and its version), if readable. */
export function responseCorrelationId(frame: Uint8Array): number | undefined {
  return frame.length >= FIXED_SIZE ? readUint32(frame, RESPONSE_CORRELATION_ID) : undefined;
}

/**
 * A response checked against its api at `apiVersion` (the version the request was sent with; the
 * response does not carry it). Client side; errors mean the broker and client disagree.
 */
export function decodeResponse(frame: Uint8Array, apiVersion = 0): DecodedResponse | ProtocolError {
  const bad = checkLength(frame, 'response');
  if (bad !== undefined) return bad;
  const correlationId = readUint32(frame, RESPONSE_CORRELATION_ID);
  const apiKey = readUint16(frame, RESPONSE_API_KEY);
  const errorCode = readInt16(frame, RESPONSE_ERROR_CODE);

  if (errorCode !== 0) {
    const what = `error response (code ${errorCode}) to ${apiName(apiKey)}`;
    const raw = readHeader(frame, MAX_U32);
    if (typeof raw === 'string') return protocolError(Errors.INVALID_REQUEST, `${what}: ${raw}`, false, correlationId, apiKey);
    const bodyLength = frame.length - HEADER - readUint32(frame, HEADER_LENGTH);
    const badBody = bodyProblem('none', bodyLength, false);
    if (badBody !== undefined) return protocolError(Errors.INVALID_REQUEST, `${what} ${badBody}`, false, correlationId, apiKey);
    const header = check(errorHeader, raw, `${what} header`, correlationId, apiKey);
    if (isProtocolError(header)) return header;
    return { kind: 'error-response', correlationId, apiKey, errorCode, header };
  }

  const version = versionSpec(apiKey, apiVersion, correlationId);
  if (isProtocolError(version)) return version;
  const what = `${apiName(apiKey)} v${apiVersion} response`;
  const raw = readHeader(frame, MAX_U32);
  if (typeof raw === 'string') return protocolError(Errors.INVALID_REQUEST, `${what}: ${raw}`, false, correlationId, apiKey);
  const body = frame.subarray(HEADER + readUint32(frame, HEADER_LENGTH));
  const badBody = bodyProblem(version.responseBody, body.length, true);
  if (badBody !== undefined) return protocolError(Errors.INVALID_REQUEST, `${what} ${badBody}`, false, correlationId, apiKey);
  const header = check(version.response, raw, `${what} header`, correlationId, apiKey);
  if (isProtocolError(header)) return header;
  const badSets = version.checkResponseBody?.(header, body.length);
  if (badSets !== undefined) return protocolError(Errors.INVALID_REQUEST, `${what}: ${badSets}`, false, correlationId, apiKey);
  return { kind: 'response', correlationId, apiKey, header, body } as DecodedResponse;
}

// ---- Shared steps. Messages are built only on failure: success costs no string work.

function checkLength(frame: Uint8Array, kind: 'request' | 'response'): ProtocolError | undefined {
  if (frame.length < FIXED_SIZE) {
    return protocolError(Errors.INVALID_REQUEST, `${kind} frame of ${frame.length} bytes is shorter than the ${FIXED_SIZE}-byte fixed part`, true);
  }
  const frameLength = readUint32(frame, FRAME_LENGTH);
  if (frameLength !== frame.length - LENGTH_PREFIX_SIZE) {
    const [correlationId, apiKey] =
      kind === 'request'
        ? [readUint32(frame, REQUEST_CORRELATION_ID), readUint16(frame, REQUEST_API_KEY)]
        : [readUint32(frame, RESPONSE_CORRELATION_ID), readUint16(frame, RESPONSE_API_KEY)];
    return protocolError(
      Errors.INVALID_REQUEST,
      `${kind} frameLength ${frameLength} does not match the ${frame.length - LENGTH_PREFIX_SIZE} bytes that follow it`,
      true,
      correlationId,
      apiKey,
    );
  }
  return undefined;
}

function readRequestHeader(frame: Uint8Array): RawHeader | string {
  return readHeader(frame, MAX_REQUEST_HEADER_BYTES);
}

/** Checks headerLength (3) and decodes the header (4); a string says what is wrong. */
function readHeader(frame: Uint8Array, maxHeaderBytes: number): RawHeader | string {
  const headerLength = readUint32(frame, HEADER_LENGTH);
  if (headerLength > frame.length - HEADER) {
    return `headerLength ${headerLength} runs past the end of the frame (${frame.length - HEADER} bytes after the fixed part)`;
  }
  if (headerLength > maxHeaderBytes) {
    return `headerLength ${headerLength} exceeds the ${maxHeaderBytes}-byte limit for request headers`;
  }
  return decodeHeader(frame.subarray(HEADER, HEADER + headerLength));
}

function bodyProblem(kind: BodyKind, bodyLength: number, emptyRecordsAllowed: boolean): string | undefined {
  if (kind === 'none' && bodyLength !== 0) return `carries no body, got ${bodyLength} bytes after the header`;
  if (kind === 'records' && bodyLength === 0 && !emptyRecordsAllowed) return 'body (the record set) is empty';
  return undefined;
}

function requestName(apiKey: number, apiVersion: number): string {
  return `${apiName(apiKey)} v${apiVersion} request`;
}

