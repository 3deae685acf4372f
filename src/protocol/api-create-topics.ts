// CreateTopics (api key 2). Any thread. Each topic succeeds or fails on its own; the response has
// one result per requested topic, in request order. With validateOnly the broker checks everything
// it would check and creates nothing.

import { configs, errorCode, errorMessage, timeoutMs, topicInResponse, userTopic } from './fields.js';
import { array, boolean, integer, optional, positiveInt32, struct, unique, type Field } from './schema.js';

export interface NewTopic {
  /** A valid topic name, not starting with "__". */
  name: string;
  /** Number of partitions; absent means the broker's num.partitions. */
  partitions?: number;
  /** Copies of each partition; absent means the broker's default.replication.factor. */
  replicationFactor?: number;
  /** Topic-level config overrides, e.g. { "retention.ms": "86400000" }; values are strings, as in Kafka. */
  configs?: Record<string, string>;
}

export interface CreateTopicsRequest {
  topics: NewTopic[];
  /** How long to wait for the topics to be ready on their leaders; absent means the broker's default. */
  timeoutMs?: number;
  /** Check only; create nothing. Absent means false. */
  validateOnly?: boolean;
}

export interface CreateTopicResult {
  name: string;
  /** NONE, or e.g. TOPIC_ALREADY_EXISTS, INVALID_CONFIG, INVALID_TOPIC_EXCEPTION. */
  errorCode: number;
  message?: string;
  /** The partition count created (or that would be, with validateOnly); absent on error. */
  partitions?: number;
  /** The replication factor used; absent on error. */
  replicationFactor?: number;
}

export interface CreateTopicsResponse {
  topics: CreateTopicResult[];
}

const replicationFactor = integer(1, 0x7fff, 'a replication factor (1..32767)');
export const createTopicsRequest: Field<CreateTopicsRequest> = struct<CreateTopicsRequest>({
  topics: unique(
    array(
      struct<NewTopic>({
        name: userTopic,
        partitions: optional(positiveInt32),
        replicationFactor: optional(replicationFactor),
        configs: optional(configs),
      }),
      1,
    ),
    (t) => t.name,
    'name',
  ),
  timeoutMs: optional(timeoutMs),
  validateOnly: optional(boolean),
});

export const createTopicsResponse: Field<CreateTopicsResponse> = struct<CreateTopicsResponse>({
  topics: array(
    struct<CreateTopicResult>({
      name: topicInResponse,
      errorCode,
      message: errorMessage,
      partitions: optional(positiveInt32),
      replicationFactor: optional(replicationFactor),
    }),
  ),
});
