// Idempotent producing, the client's side: the producer id and epoch, each partition's sequence
// numbers, and what a failed batch means for them. Application thread; one per producer.
//
// The contract with the broker (src/protocol/api-init-producer-id.ts, and Kafka's KIP-98/KIP-360):
//   - InitProducerId gives the producer an id and epoch; every batch carries (producerId,
//     producerEpoch, baseSequence). A partition's sequences start at 0 and the next batch's
//     baseSequence is the previous one's plus its record count, wrapping from 2^31-1 to 0.
//   - The broker keeps the last 5 batches per producer and partition: a retried batch it already
//     holds is answered with errorCode 0 and the original offset, so in-flight batches per
//     partition are capped at 5 (MAX_IN_FLIGHT_IDEMPOTENT).
//   - It appends one connection's batches for a partition in the order they were sent, and refuses
//     a gap (OUT_OF_ORDER_SEQUENCE_NUMBER, 45), an older epoch (INVALID_PRODUCER_EPOCH, 47: fenced,
//     fatal) and a non-zero first sequence from a producer it has no state for (UNKNOWN_PRODUCER_ID,
//     59).
// What the producer does with that (classifyFailure, and the sender in producer.ts):
//   - a batch that failed retriably is retried with its ORIGINAL sequence: it may have been written
//     (a lost answer), and only its original sequence lets the broker recognise it. The batches sent
//     after it on the same partition fail with 45 (the broker saw a gap); they are retried too, all
//     in their original order, once every in-flight batch of the partition has come back.
//   - 45 on the partition's oldest unacknowledged batch, 59, or a batch given up on (retries used
//     up, or refused outright) leave the broker's idea of the partition's sequence unknowable or
//     wrong: the producer bumps its epoch (InitProducerId with its id and epoch) and the partition
//     restarts at sequence 0 under the new epoch, its unacknowledged batches re-stamped in order.
//     (KIP-360. A batch whose outcome was unknown and is re-stamped may then be written twice; that
//     happens only after a batch was given up on, never on a plain retry.)
//   - A partition adopts a new epoch only when none of its batches is in flight under the old one;
//     until then it keeps its old epoch and sequences, which the broker still accepts for it.

import { Errors } from '../errors.js';
import { MAX_PRODUCER_EPOCH } from '../protocol/index.js';

export const MAX_IN_FLIGHT_IDEMPOTENT = 5;
/** Sequences wrap to 0 after 2^31 - 1. */
export const SEQUENCE_MODULUS = 0x8000_0000;

/** The sequence after a batch of `count` records starting at `sequence`. */
export function nextSequence(sequence: number, count: number): number {
  return (sequence + count) % SEQUENCE_MODULUS;
}

export interface ProducerIdentity {
  readonly producerId: number;
  readonly producerEpoch: number;
}

export function sameIdentity(a: ProducerIdentity, b: ProducerIdentity): boolean {
  return a.producerId === b.producerId && a.producerEpoch === b.producerEpoch;
}

/** The request that bumps an identity's epoch (at the largest epoch the broker hands a new id). */
export function bumpRequest(identity: ProducerIdentity): { producerId: number; producerEpoch: number } {
  return { producerId: identity.producerId, producerEpoch: Math.min(identity.producerEpoch, MAX_PRODUCER_EPOCH) };
}

/** One partition's sequence numbers under one producer identity. */
export class PartitionSequence {
  identity: ProducerIdentity;
  /** The baseSequence the next new batch gets. */
  next = 0;
  /** Set when the partition must restart at 0 under a newer epoch before sending again. */
  needsReset = false;

  constructor(identity: ProducerIdentity) {
    this.identity = identity;
  }

  /** The baseSequence for a new batch of `count` records; advances the next one. */
  assign(count: number): number {
    const sequence = this.next;
    this.next = nextSequence(sequence, count);
    return sequence;
  }

  /** Starts over at sequence 0 under `identity`. */
  adopt(identity: ProducerIdentity): void {
    this.identity = identity;
    this.next = 0;
    this.needsReset = false;
  }
}

/** What to do with a batch the broker refused or that got no answer. */
export type FailureAction =
  /** Send it again, unchanged, after the backoff. */
  | 'retry'
  /** Send it again, but first bump the epoch and restart the partition's sequences. */
  | 'retry-after-reset'
  /** Fail it to the application; the partition's other batches go on. */
  | 'fail'
  /** Fail it; its sequence leaves a gap, so bump the epoch and restart the partition's sequences. */
  | 'fail-and-reset'
  /** The producer is fenced: fail everything, for good. */
  | 'fatal';

export interface FailureFacts {
  /** The error code (the broker's, or the client's for timeouts and lost connections). */
  code: number;
  retriable: boolean;
  idempotent: boolean;
  /** Failed attempts of this batch so far, this one included. */
  attempts: number;
  /** Retries allowed after the first attempt. */
  retries: number;
  /** Whether an older batch of the same partition failed and waits to be retried. */
  olderBatchFailed: boolean;
}

export function classifyFailure(facts: FailureFacts): FailureAction {
  const { code, idempotent } = facts;
  if (idempotent) {
    if (code === Errors.INVALID_PRODUCER_EPOCH.code) return 'fatal';
    // A gap behind an older batch that failed: this one was refused because of it, and goes again
    // in order after it, without counting as an attempt of its own.
    if (code === Errors.OUT_OF_ORDER_SEQUENCE_NUMBER.code && facts.olderBatchFailed) return 'retry';
    if (code === Errors.OUT_OF_ORDER_SEQUENCE_NUMBER.code || code === Errors.UNKNOWN_PRODUCER_ID.code) {
      return facts.attempts <= facts.retries ? 'retry-after-reset' : 'fail-and-reset';
    }
  }
  if (facts.retriable && facts.attempts <= facts.retries) return 'retry';
  return idempotent ? 'fail-and-reset' : 'fail';
}

export { MAX_PRODUCER_EPOCH };
