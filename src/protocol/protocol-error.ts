// What the frame reader and the decoders return, instead of throwing, when the input is bad. Any
// thread. A plain, frozen object: it carries a wire code from src/errors.ts, a message for people,
// and what the receiver must do with the connection — everything needed to write the error frame.

import type { ErrorSpec } from '../errors.js';

export interface ProtocolError {
  readonly kind: 'error';
  /** Wire code from the error table. */
  readonly code: number;
  /** Its stable name, e.g. 'INVALID_REQUEST'. */
  readonly type: string;
  /** Says what was wrong and where, e.g. "Fetch request header: 'partitions[2].offset' must be ...". */
  readonly message: string;
  /**
   * True when the byte stream can no longer be trusted (a bad or oversized length prefix): send the
   * error frame, then close. False when only this frame was bad: answer it and carry on.
   */
  readonly closeConnection: boolean;
  /** The frame's correlation id, when it could be read; the error response echoes it. */
  readonly correlationId: number | undefined;
  /** The frame's api key, when it could be read; the error response echoes it. */
  readonly apiKey: number | undefined;
}

export function protocolError(
  spec: ErrorSpec,
  message: string,
  closeConnection: boolean,
  correlationId?: number,
  apiKey?: number,
): ProtocolError {
  return Object.freeze({ kind: 'error', code: spec.code, type: spec.type, message, closeConnection, correlationId, apiKey });
}

/** Tells an error result from a value; validated headers never have a `kind` field, so this is safe on them. */
export function isProtocolError(value: unknown): value is ProtocolError {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'error';
}
