// CreatePartitions (api key 22), Kafka's CreatePartitions: grows existing topics to a new total
// partition count. Any thread. Each topic succeeds or fails on its own; the response has one
// result per requested topic, in request order. With validateOnly the broker checks everything it
// would check and changes nothing. Internal topic names decode (the broker refuses them per topic,
// with a message, rather than failing the whole request).

import { errorCode, errorMessage, timeoutMs, topic, topicInResponse } from './fields.js';
import { array, boolean, optional, positiveInt32, struct, unique, type Field } from './schema.js';

export interface PartitionsIncrease {
  name: string;
  /** The new total partition count; must exceed the current one. */
  count: number;
}

export interface CreatePartitionsRequest {
  topics: PartitionsIncrease[];
  /** How long to wait for the new partitions to be ready on their leaders; absent means the broker's default. */
  timeoutMs?: number;
  /** Check only; change nothing. Absent means false. */
  validateOnly?: boolean;
}

export interface CreatePartitionsResult {
  name: string;
  /** NONE, or UNKNOWN_TOPIC_OR_PARTITION, INVALID_PARTITIONS, INVALID_REQUEST (internal topic), INVALID_REPLICATION_FACTOR. */
  errorCode: number;
  message?: string;
  /** The partition count the topic has now (or would have, with validateOnly); absent on error. */
  partitions?: number;
}

export interface CreatePartitionsResponse {
  topics: CreatePartitionsResult[];
}

export const createPartitionsRequest: Field<CreatePartitionsRequest> = struct<CreatePartitionsRequest>({
  topics: unique(array(struct<PartitionsIncrease>({ name: topic, count: positiveInt32 }), 1), (t) => t.name, 'name'),
  timeoutMs: optional(timeoutMs),
  validateOnly: optional(boolean),
});

export const createPartitionsResponse: Field<CreatePartitionsResponse> = struct<CreatePartitionsResponse>({
  topics: array(struct<CreatePartitionsResult>({ name: topicInResponse, errorCode, message: errorMessage, partitions: optional(positiveInt32) })),
});
