// The client's error classes. Application thread (whatever thread made the Rill).
//
// Every error the client raises is a RillError carrying a code from the one shared table
// (src/errors.ts) and its `retriable` flag, as kafkajs errors carry `type`, `code` and `retriable`.
// The subclasses below only make the common cases easy to catch with `instanceof`; a caller can
// equally switch on `code`. Errors a broker answers with come back as the class for their code
// (errorFromCode), so a fenced producer is a RillProducerFencedError whether the broker said so or
// the client found out itself.

import { Errors, RillError, errorSpecByCode, type ErrorDetails, type ErrorSpec } from '../errors.js';

/** The connection to a broker could not be made, or was lost with requests in flight. Retriable. */
export class RillConnectionError extends RillError {
  constructor(message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(Errors.NETWORK_EXCEPTION, message, details, options);
    this.name = 'RillConnectionError';
  }
}

/** A request got no answer within its timeout, or send() waited maxBlockMs for buffer space. Retriable. */
export class RillTimeoutError extends RillError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(Errors.REQUEST_TIMED_OUT, message, details);
    this.name = 'RillTimeoutError';
  }
}

/** Another instance of this idempotent producer has a newer epoch: this one is fenced for good. */
export class RillProducerFencedError extends RillError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(Errors.INVALID_PRODUCER_EPOCH, message, details);
    this.name = 'RillProducerFencedError';
  }
}

/** The producer, consumer or admin is not connected (never was, or was disconnected). */
export class RillDisconnectedError extends RillError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(Errors.CLIENT_DISCONNECTED, message, details);
    this.name = 'RillDisconnectedError';
  }
}

/** The error for a wire code a broker answered with, as the most specific class there is. */
export function errorFromCode(code: number, message: string | undefined, details: ErrorDetails = {}): RillError {
  const spec = errorSpecByCode(code);
  const text = message === undefined || message === '' ? spec.message : message;
  switch (spec) {
    case Errors.NETWORK_EXCEPTION:
      return new RillConnectionError(text, details);
    case Errors.REQUEST_TIMED_OUT:
      return new RillTimeoutError(text, details);
    case Errors.INVALID_PRODUCER_EPOCH:
      return new RillProducerFencedError(text, details);
    default:
      return new RillError(spec, text, { ...details, ...(spec.code !== code ? { wireCode: code } : {}) });
  }
}

/** Whether an error is worth retrying: a RillError says so itself; anything else is a bug, so no. */
export function isRetriable(error: unknown): boolean {
  return error instanceof RillError && error.retriable;
}

/** Codes after which the client should ask for fresh metadata before retrying. */
export function isStaleMetadata(code: number): boolean {
  return (
    code === Errors.NOT_LEADER_OR_FOLLOWER.code ||
    code === Errors.UNKNOWN_TOPIC_OR_PARTITION.code ||
    code === Errors.LEADER_NOT_AVAILABLE.code ||
    code === Errors.NETWORK_EXCEPTION.code
  );
}

/**
 * Produce failures after which the client should also ask for fresh metadata: the leader could not
 * replicate in time or has too few in-sync replicas. That is what a leader cut off from the rest of
 * the cluster answers while the others elect a new one (it cannot even shrink its ISR), so, as
 * Kafka's client does after a request timeout, look again where the partition is led.
 */
export function suggestsLeaderMoved(code: number): boolean {
  return code === Errors.REQUEST_TIMED_OUT.code || code === Errors.NOT_ENOUGH_REPLICAS.code || code === Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND.code;
}

export type { ErrorSpec };
