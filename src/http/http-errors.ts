// Errors as HTTP answers. Main thread.
//
// Every failure the HTTP API reports is a RillError from the one table in src/errors.ts: the same
// codes the binary protocol and the client use, with the HTTP status the table gives them. The
// body is RillError.toJSON(): `{ "error": TYPE, "code": n, "message": "...", "details": {...} }`.

import { Errors, RillError, errorSpecByCode, type ErrorDetails } from '../errors.js';

export function invalidRequest(message: string, details?: ErrorDetails): RillError {
  return new RillError(Errors.INVALID_REQUEST, message, details);
}

/** A failure that arrived as a wire code (from an owner or the admin layer). */
export function fromCode(code: number, message: string | undefined, details?: ErrorDetails): RillError {
  return new RillError(errorSpecByCode(code), message, details);
}

export function unknownTopic(topic: string): RillError {
  return new RillError(Errors.UNKNOWN_TOPIC_OR_PARTITION, `topic '${topic}' does not exist`, { topic });
}

export function unknownPartition(topic: string, partition: number, partitions: number): RillError {
  return new RillError(Errors.UNKNOWN_TOPIC_OR_PARTITION, `topic '${topic}' has partitions 0..${partitions - 1}; there is no partition ${partition}`, { topic, partition, partitions });
}

/** Anything thrown that is not a RillError is an internal fault: 500, and the caller logs it. */
export function asRillError(error: unknown): RillError {
  if (error instanceof RillError) return error;
  return new RillError(Errors.UNKNOWN_SERVER_ERROR, 'internal error; the broker logged it', {}, { cause: error });
}
