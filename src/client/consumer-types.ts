// What a consumer is configured with and what it hands to the application's handlers: the
// options of rill.consumer(), assignments and seeks, and run()'s payloads. Application thread.

import { type FetchedBatch, type KafkaMessage } from './fetched-batch.js';
import { type OffsetReset } from './fetcher.js';
import { type ClientLogger } from './logger.js';
import { type RetryPolicy } from './retry.js';

export interface ConsumerConfig {
  /** How long the broker may hold a fetch waiting for minBytes. Default 500 ms. */
  maxWaitMs?: number;
  /** Bytes a fetch waits for. Default 1. */
  minBytes?: number;
  /** Soft limit of one fetch response. Default 8 MiB (kept below the client's maxFrameBytes). */
  maxBytes?: number;
  /** Soft limit per partition per fetch. Default 1 MiB. */
  maxBytesPerPartition?: number;
  /** Bytes fetched ahead of the application at most. Default 32 MiB. */
  maxPrefetchBytes?: number;
  /** Fetches in flight per broker; its partitions are spread over them. Default 8. */
  maxInFlightFetches?: number;
  /** Where a partition assigned without an offset starts: true = earliest. Default false (latest). */
  fromBeginning?: boolean;
  /** What an out-of-range offset does: reset to 'earliest' or 'latest', or 'none' (an error). Default 'none'. */
  autoOffsetReset?: OffsetReset | 'none';
}

export interface ConsumerDefaults {
  requestTimeoutMs: number;
  /** The client's max.frame.bytes: a fetch response must fit it. */
  maxFrameBytes: number;
  retry: RetryPolicy;
  logger: ClientLogger;
}

export type SeekOffset = number | 'earliest' | 'latest';

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  offset: SeekOffset;
}

/** A partition to assign, or `{ topic }` for all of a topic's partitions. */
export type Assignment = { topic: string; partition: number; offset?: SeekOffset } | { topic: string; partition?: undefined; offset?: SeekOffset };

export interface EachMessagePayload {
  topic: string;
  partition: number;
  message: KafkaMessage;
}

export interface EachBatchPayload {
  batch: FetchedBatch;
  /** Whether the consumer is still running (a long eachBatch may stop early). */
  isRunning: () => boolean;
  /** Whether the batch's partition was sought or paused since it was handed out. */
  isStale: () => boolean;
}

export interface RunConfig {
  eachMessage?: (payload: EachMessagePayload) => Promise<void>;
  eachBatch?: (payload: EachBatchPayload) => Promise<void>;
}
