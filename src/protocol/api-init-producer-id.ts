// InitProducerId (api key 9): hands an idempotent producer its producer id and epoch. Any thread.
//
// An idempotent producer stamps every batch it sends with (producerId, producerEpoch,
// baseSequence), the RecordBatch v2 fields Kafka uses for the same purpose; the partition's owner
// keeps, per producer, the sequence numbers of the last batches it appended and refuses a gap or
// reordering (OUT_OF_ORDER_SEQUENCE_NUMBER), answers a retried batch it already holds with that
// batch's original offset instead of appending it twice, and refuses an older epoch
// (INVALID_PRODUCER_EPOCH).
//
// A new producer sends no fields and gets a fresh id with epoch 0. A producer that has lost track of
// its sequences (UNKNOWN_PRODUCER_ID, or a batch it gave up on) sends its current id and epoch and
// gets the same id with the epoch bumped, so it may restart its sequences at 0 (Kafka's KIP-360).

import { errorCode, errorMessage } from './fields.js';
import { integer, optional, struct, type Field } from './schema.js';

/** Largest epoch; a producer at it gets a fresh id instead of a bump. */
export const MAX_PRODUCER_EPOCH = 0x7fff;

export interface InitProducerIdRequest {
  /** The producer's current id, to bump its epoch; absent for a new producer. */
  producerId?: number;
  /** The producer's current epoch; given together with producerId. */
  producerEpoch?: number;
}

export interface InitProducerIdResponse {
  errorCode: number;
  message?: string;
  /** -1 on error. */
  producerId: number;
  /** -1 on error. */
  producerEpoch: number;
}

const producerId = integer(0, Number.MAX_SAFE_INTEGER, 'a producer id (a non-negative safe integer)');
const producerIdOrNone = integer(-1, Number.MAX_SAFE_INTEGER, 'a producer id or -1');
const producerEpoch = integer(0, MAX_PRODUCER_EPOCH, 'a producer epoch (0 to 32767)');
const producerEpochOrNone = integer(-1, MAX_PRODUCER_EPOCH, 'a producer epoch or -1');

export const initProducerIdRequest: Field<InitProducerIdRequest> = struct<InitProducerIdRequest>({
  producerId: optional(producerId),
  producerEpoch: optional(producerEpoch),
});

export const initProducerIdResponse: Field<InitProducerIdResponse> = struct<InitProducerIdResponse>({
  errorCode,
  message: errorMessage,
  producerId: producerIdOrNone,
  producerEpoch: producerEpochOrNone,
});
