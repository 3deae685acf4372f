// Reading request bodies within http.max.body.bytes, and checking their content type. Main thread.
//
// A body is held whole before it is parsed (JSON needs all of it), so the bound is what one
// request may make the broker hold; bytes beyond it are never kept (see DISCARD_FACTOR for what
// happens to them).

import { type IncomingMessage } from 'node:http';
import { Errors, RillError } from '../errors.js';
import { invalidRequest } from './http-errors.js';

export type BodyKind = 'json' | 'binary';

/**
 * A request header's first value, looked up in req.rawHeaders: `req.headers` is built on first
 * use, for every header, and a produce needs two of them (~2% of its main-thread time). Node
 * keeps only the first of duplicate Content-Type and Content-Length headers too.
 */
export function requestHeader(req: IncomingMessage, lowerCaseName: string): string | undefined {
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name.length === lowerCaseName.length && name.toLowerCase() === lowerCaseName) return raw[i + 1];
  }
  return undefined;
}

/** The media type without parameters, lower-cased ('' when absent). */
export function mediaType(req: IncomingMessage): string {
  const header = requestHeader(req, 'content-type');
  if (header === undefined) return '';
  const semi = header.indexOf(';');
  return (semi === -1 ? header : header.slice(0, semi)).trim().toLowerCase();
}

/** Which of `accepted` the request's body is; UNSUPPORTED_MEDIA_TYPE (415) otherwise. */
export function bodyKind(req: IncomingMessage, accepted: readonly BodyKind[]): BodyKind {
  const type = mediaType(req);
  if (accepted.includes('json') && (type === 'application/json' || type.endsWith('+json'))) return 'json';
  if (accepted.includes('binary') && type === 'application/octet-stream') return 'binary';
  const wanted = accepted.map((k) => (k === 'json' ? 'application/json' : 'application/octet-stream')).join(' or ');
  throw new RillError(Errors.UNSUPPORTED_MEDIA_TYPE, `Content-Type must be ${wanted}, got ${type === '' ? 'none' : `'${type}'`}`, { contentType: type });
}

export function tooLarge(limit: number, size?: number): RillError {
  const what = size === undefined ? 'the request body' : `a request body of ${size} bytes`;
  return new RillError(Errors.REQUEST_BODY_TOO_LARGE, `${what} is larger than http.max.body.bytes (${limit})`, { limit });
}

/**
 * Bodies over the limit but within DISCARD_FACTOR times it are read to their end and dropped
 * before the 413 is sent: the connection stays usable, and the client reads its answer instead of
 * a reset (closing a socket with unread bytes in it sends RST, which can destroy the answer before
 * the client reads it). Larger ones are cut off at once and the connection is closed.
 */
const DISCARD_FACTOR = 4;

/**
 * Resolves with the whole body, or rejects with REQUEST_BODY_TOO_LARGE beyond `limit`, or with
 * INVALID_REQUEST when the client stops sending before the body is complete (it disconnected).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const length = requestHeader(req, 'content-length');
  const declared = length === undefined ? undefined : Number(length);
  if (declared !== undefined && declared > limit * DISCARD_FACTOR) return Promise.reject(tooLarge(limit, declared));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const fail = (error: RillError) => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      req.pause();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit * DISCARD_FACTOR) fail(tooLarge(limit, declared));
      else if (size <= limit) chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => {
      if (settled) return;
      settled = true;
      if (size > limit) reject(tooLarge(limit, size));
      else resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    });
    // 'aborted' comes first when the client closes mid-body; 'error' covers parser failures.
    req.once('aborted', () => fail(invalidRequest(`the client closed the connection after ${size} bytes of the body`)));
    req.once('error', () => fail(invalidRequest(`the request body could not be read after ${size} bytes`)));
  });
}

/** Parses a JSON body; INVALID_REQUEST (400) with the parser's reason when it is not JSON. */
export function parseJson(body: Buffer): unknown {
  if (body.length === 0) throw invalidRequest('the request body is empty; a JSON document was expected');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw invalidRequest(`the request body is not valid JSON: ${(error as Error).message}`);
  }
}
