// The client's entry point: `new Rill({ brokers })` makes producers, consumers and admins that
// share one view of the cluster and one connection per broker. Application thread.
//
// kafkajs's Kafka class, with one difference: the connections belong to the Rill, not to each
// producer or consumer, so a process that produces and consumes holds one socket per broker. The
// last producer, consumer or admin to disconnect closes them; close() disconnects everything the
// Rill made, at once.

import { Errors, RillError } from '../errors.js';
import { Admin } from './admin.js';
import { Cluster } from './cluster.js';
import { Consumer, type ConsumerConfig } from './consumer.js';
import { GroupConsumer, type GroupConsumerConfig } from './group/group-consumer.js';
import { silentLogger, type ClientLogger } from './logger.js';
import { Producer, type ProducerConfig } from './producer.js';
import { RetryPolicy, type RetryOptions } from './retry.js';

export interface RillConfig {
  /** Where to bootstrap from: "host:port" (IPv6 as "[::1]:9400"); any one of them is enough. */
  brokers: string[];
  /** Names this client in the brokers' logs. Default "rill-client". */
  clientId?: string;
  /** Bound on connecting to a broker (TCP and Hello). Default 10,000 ms. */
  connectionTimeoutMs?: number;
  /** Bound on a request's answer (a long-poll fetch gets its maxWaitMs on top). Default 30,000 ms. */
  requestTimeoutMs?: number;
  /** Metadata older than this is refreshed. Default 300,000 ms. */
  metadataMaxAgeMs?: number;
  retry?: RetryOptions;
  /** Largest response frame this client accepts; fetches ask for less. Default 64 MiB. */
  maxFrameBytes?: number;
  /** A pino-compatible logger; silent by default. */
  logger?: ClientLogger;
}

export const DEFAULT_CLIENT_MAX_FRAME_BYTES = 64 * 1024 * 1024;

export class Rill {
  private readonly cluster: Cluster;
  private readonly config: Required<Omit<RillConfig, 'logger' | 'retry'>> & { retry: RetryOptions; logger: ClientLogger };
  private readonly producers = new Set<Producer>();
  private readonly consumers = new Set<Consumer | GroupConsumer>();
  private readonly admins = new Set<Admin>();

  constructor(config: RillConfig) {
    if (config === null || typeof config !== 'object' || !Array.isArray(config.brokers)) {
      throw new RillError(Errors.INVALID_CONFIG, 'new Rill() needs { brokers: ["host:port", ...] }');
    }
    this.config = {
      brokers: [...config.brokers],
      clientId: config.clientId ?? 'rill-client',
      connectionTimeoutMs: positive('connectionTimeoutMs', config.connectionTimeoutMs ?? 10_000),
      requestTimeoutMs: positive('requestTimeoutMs', config.requestTimeoutMs ?? 30_000),
      metadataMaxAgeMs: positive('metadataMaxAgeMs', config.metadataMaxAgeMs ?? 300_000),
      maxFrameBytes: positive('maxFrameBytes', config.maxFrameBytes ?? DEFAULT_CLIENT_MAX_FRAME_BYTES),
      retry: config.retry ?? {},
      logger: config.logger ?? silentLogger,
    };
    this.cluster = new Cluster({
      brokers: this.config.brokers,
      clientId: this.config.clientId,
      connectionTimeoutMs: this.config.connectionTimeoutMs,
      requestTimeoutMs: this.config.requestTimeoutMs,
      metadataMaxAgeMs: this.config.metadataMaxAgeMs,
      maxFrameBytes: this.config.maxFrameBytes,
      retry: new RetryPolicy(this.config.retry),
      logger: this.config.logger,
    });
  }

  producer(config: ProducerConfig = {}): Producer {
    const producer = new Producer(this.cluster, config, { retry: this.config.retry, requestTimeoutMs: this.config.requestTimeoutMs, logger: this.config.logger });
    this.producers.add(producer);
    return producer;
  }

  /**
   * With `groupId`: a member of that consumer group (subscribe, run, committed offsets,
   * rebalancing). Without: a consumer of partitions it assigns itself, keeping its own positions.
   */
  consumer(config: GroupConsumerConfig): GroupConsumer;
  consumer(config?: ConsumerConfig & { groupId?: undefined }): Consumer;
  consumer(config: (ConsumerConfig & { groupId?: undefined }) | GroupConsumerConfig = {}): Consumer | GroupConsumer {
    if (config !== null && typeof config === 'object' && 'groupId' in config && config.groupId !== undefined) {
      const member = new GroupConsumer(this.cluster, config, {
        requestTimeoutMs: this.config.requestTimeoutMs,
        maxFrameBytes: this.config.maxFrameBytes,
        retry: this.cluster.retry,
        logger: this.config.logger,
        clientId: this.config.clientId,
      });
      this.consumers.add(member);
      return member;
    }
    const consumer = new Consumer(this.cluster, config as ConsumerConfig, {
      requestTimeoutMs: this.config.requestTimeoutMs,
      maxFrameBytes: this.config.maxFrameBytes,
      retry: this.cluster.retry,
      logger: this.config.logger,
    });
    this.consumers.add(consumer);
    return consumer;
  }

  admin(): Admin {
    const admin = new Admin(this.cluster);
    this.admins.add(admin);
    return admin;
  }

  /** Disconnects every producer (flushing it), consumer and admin this Rill made, and closes its connections. */
  async close(): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const producer of this.producers) closing.push(producer.disconnect());
    for (const consumer of this.consumers) closing.push(consumer.disconnect());
    for (const admin of this.admins) closing.push(admin.disconnect());
    const results = await Promise.allSettled(closing);
    this.cluster.close();
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RillError(Errors.INVALID_CONFIG, `${name} must be a positive number, got ${value}`);
  return value;
}
