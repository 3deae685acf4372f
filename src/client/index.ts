// The client's public face: what `import { Rill } from 'rill'` offers. Application thread.

export { Rill, DEFAULT_CLIENT_MAX_FRAME_BYTES } from './rill.js';
export type { RillConfig } from './rill.js';
export { Producer } from './producer.js';
export type { Message, Partitioner, PartitionerArgs, ProducerBatchRecord, ProducerConfig, ProducerRecord } from './producer.js';
export type { RecordMetadata } from './send-result.js';
export { Consumer } from './consumer.js';
export type { Assignment, ConsumerConfig, EachBatchPayload, EachMessagePayload, RunConfig, SeekOffset, TopicPartitionOffset } from './consumer.js';
export { GroupConsumer } from './group/group-consumer.js';
export type { GroupConsumerConfig, GroupEachBatchPayload, GroupRunConfig, PollOptions } from './group/group-consumer.js';
export type { RebalanceListener, TopicPartition } from './group/rebalance-handler.js';
export type { SubscribeOptions } from './group/subscription.js';
export type { OffsetToCommit } from './group/offset-committer.js';
export { cooperativeStickyAssignor, rangeAssignor, roundRobinAssignor } from './assignors/index.js';
export type { Assignor, AssignorMember, RebalanceProtocol } from './assignors/index.js';
export { FetchedBatch } from './fetched-batch.js';
export type { KafkaMessage } from './fetched-batch.js';
export type { OffsetReset } from './fetcher.js';
export { Admin } from './admin.js';
export type { CreatePartitionsOptions, CreateTopicsOptions, PartitionDescription, PartitionOffsets, TopicDescription } from './admin.js';
export type { GroupDescription, GroupListing, GroupMemberDescription, OffsetChange, PartitionLag, ResetOffsetsOptions, ResetTarget } from './admin-groups.js';
export type { OffsetAnswer, OffsetQuery } from './list-offsets.js';
export type { PartitionInfo, TopicInfo } from './cluster.js';
export { RillConnectionError, RillDisconnectedError, RillProducerFencedError, RillTimeoutError } from './errors.js';
export { RetryPolicy } from './retry.js';
export type { RetryOptions } from './retry.js';
export type { ClientLogger } from './logger.js';
export { murmur2, partitionForKey, toPositive } from './partitioner.js';
