// A cluster and connection that never touch the network, for producer unit tests: every request
// the producer sends is recorded, and the test answers it (or not) when it chooses.

import { Errors, RillError } from '../../src/errors.js';
import { ApiKeys } from '../../src/protocol/index.js';
import { decodeRecordBatch, type DecodedBatch } from '../../src/storage/index.js';
import { type Cluster, type TopicInfo } from '../../src/client/cluster.js';
import { RillConnectionError } from '../../src/client/errors.js';
import { silentLogger } from '../../src/client/logger.js';
import { RetryPolicy } from '../../src/client/retry.js';

export interface SentProduce {
  topic: string;
  partition: number;
  acks: number;
  batch: DecodedBatch;
  answered: boolean;
  answer(response: { errorCode?: number; baseOffset?: number; message?: string }): void;
  fail(error: RillError): void;
}

export class FakeConnection {
  readonly produced: SentProduce[] = [];
  readonly initProducerIdRequests: { producerId?: number; producerEpoch?: number }[] = [];
  nextProducerId = 1000;
  /** Answer for InitProducerId, if a test wants another (e.g. an error). */
  initProducerIdError: number | null = null;
  /** Times the producer asked the cluster for fresh metadata (kept here: the one handle tests hold). */
  metadataRefreshes = 0;
  isOpen = true;
  brokerMaxFrameBytes = 1 << 20;

  send(apiKey: number, header: Record<string, unknown>, body: Uint8Array | undefined, _timeoutMs: number, callback: (error: RillError | null, response: unknown) => void): void {
    if (apiKey !== ApiKeys.Produce) throw new Error(`unexpected api ${apiKey}`);
    const entry: SentProduce = {
      topic: header.topic as string,
      partition: header.partition as number,
      acks: header.acks as number,
      batch: decodeRecordBatch(Buffer.from(body!)),
      answered: false,
      answer: ({ errorCode = 0, baseOffset = 0, message }) => {
        if (entry.answered) throw new Error('answered twice');
        entry.answered = true;
        callback(null, { header: { topic: entry.topic, partition: entry.partition, errorCode, message, baseOffset: errorCode === 0 ? baseOffset : -1, logAppendTime: -1, logStartOffset: 0 } });
      },
      fail: (error) => {
        if (entry.answered) throw new Error('answered twice');
        entry.answered = true;
        callback(error, null);
      },
    };
    this.produced.push(entry);
  }

  sendWithoutResponse(apiKey: number, header: Record<string, unknown>, body: Uint8Array | undefined, written: (error: RillError | null) => void): void {
    this.send(apiKey, header, body, 0, () => undefined);
    this.produced[this.produced.length - 1].answered = true;
    queueMicrotask(() => written(null));
  }

  async request(apiKey: number, header: { producerId?: number; producerEpoch?: number }): Promise<unknown> {
    if (apiKey !== ApiKeys.InitProducerId) throw new Error(`unexpected api ${apiKey}`);
    this.initProducerIdRequests.push(header);
    if (this.initProducerIdError !== null) return { header: { errorCode: this.initProducerIdError, producerId: -1, producerEpoch: -1 } };
    if (header.producerId !== undefined) return { header: { errorCode: 0, producerId: header.producerId, producerEpoch: header.producerEpoch! + 1 } };
    return { header: { errorCode: 0, producerId: this.nextProducerId++, producerEpoch: 0 } };
  }

  /** Produce requests not yet answered. */
  pending(): SentProduce[] {
    return this.produced.filter((p) => !p.answered);
  }
}

export interface FakeClusterOptions {
  /** Metadata's maxBatchBytes for every topic (absent: the broker does not say, batches keep batchBytes). */
  maxBatchBytes?: number;
  topics?: Record<string, number>;
  retry?: ConstructorParameters<typeof RetryPolicy>[0];
}

/** Just the surface the producer uses; cast to Cluster. */
export function fakeCluster(options: FakeClusterOptions = {}): { cluster: Cluster; connection: FakeConnection } {
  const connection = new FakeConnection();
  const topics = new Map<string, TopicInfo>();
  for (const [name, count] of Object.entries(options.topics ?? { t: 1 })) {
    topics.set(name, { name, errorCode: 0, internal: false, ...(options.maxBatchBytes === undefined ? {} : { maxBatchBytes: options.maxBatchBytes }), partitions: Array.from({ length: count }, (_, partition) => ({ partition, leader: 1, errorCode: 0 })) });
  }
  const retry = new RetryPolicy({ retries: 3, initialRetryTimeMs: 1, maxRetryTimeMs: 5, ...options.retry });
  const cluster = {
    logger: silentLogger,
    requestTimeoutMs: 30_000,
    retry,
    isConnected: true,
    acquire: async () => undefined,
    release: () => undefined,
    topic: (name: string) => topics.get(name),
    leaderOf: (topic: string, partition: number) => topics.get(topic)?.partitions[partition]?.leader ?? -1,
    noLeaderError: (topic: string, partition: number) => new RillError(Errors.LEADER_NOT_AVAILABLE, `no leader known for ${topic}-${partition}`),
    readyConnection: () => (connection.isOpen ? connection : undefined),
    connection: async () => {
      if (!connection.isOpen) throw new RillConnectionError('fake broker is down');
      return connection;
    },
    anyConnection: async () => connection,
    ensureTopics: async (names: string[]) => {
      for (const name of names) if (!topics.has(name)) throw new RillError(Errors.UNKNOWN_TOPIC_OR_PARTITION, `topic ${name} does not exist`);
    },
    requestRefresh: () => {
      connection.metadataRefreshes++;
    },
    brokerMaxFrameBytes: () => connection.brokerMaxFrameBytes,
    onChange: () => () => undefined,
    addInterest: () => undefined,
  };
  return { cluster: cluster as unknown as Cluster, connection };
}
