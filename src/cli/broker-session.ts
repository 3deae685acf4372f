// One command's time with the broker: making the client from the shared flags, connecting within
// --timeout-ms, and letting go afterwards. Main thread.

import { Errors, RillError } from '../errors.js';
import type { CliAdmin, CliClient, CliClientConfig, CliPartitionDescription, ClientFactory } from './cli-client.js';
import type { ClientOptions } from './client-options.js';
import { withDeadline } from './deadline.js';

export const CLIENT_ID = 'rill-cli';
/** Closing is politeness (the process exits next); it never holds the exit longer than this. */
const CLOSE_GRACE_MS = 2000;

/**
 * The client settings for `options`: the client's own timeouts and retries fit inside --timeout-ms,
 * so an unreachable broker is reported as the client saw it (ECONNREFUSED, ...) rather than as our
 * deadline expiring, where possible.
 */
export function clientConfig(options: ClientOptions): CliClientConfig {
  const timeoutMs = options.timeoutMs;
  return {
    brokers: options.brokers,
    clientId: CLIENT_ID,
    connectionTimeoutMs: Math.max(1, Math.min(timeoutMs, 3000)),
    requestTimeoutMs: timeoutMs,
    retry: { retries: 5, initialRetryTimeMs: Math.min(100, timeoutMs), maxRetryTimeMs: Math.max(1, Math.floor(timeoutMs / 4)) },
  };
}

/** Says which brokers a deadline was about. */
export function unreachable(options: ClientOptions): string {
  return `could not reach the broker at ${options.brokers.join(',')}`;
}

/** Connects `client`'s side (admin, producer or consumer) within --timeout-ms. */
export function connectWithin(side: { connect(): Promise<void> }, options: ClientOptions): Promise<void> {
  return withDeadline(side.connect(), options.timeoutMs, unreachable(options));
}

/** Runs `work` with a connected admin; the whole of it within --timeout-ms. */
export async function withAdmin<T>(options: ClientOptions, connect: ClientFactory, work: (admin: CliAdmin) => Promise<T>): Promise<T> {
  const client = connect(clientConfig(options));
  const admin = client.admin();
  try {
    await connectWithin(admin, options);
    return await withDeadline(work(admin), options.timeoutMs, 'the broker did not answer');
  } finally {
    await letGo(client, admin);
  }
}

/** Disconnects `sides` and closes `client`, ignoring failures, for at most CLOSE_GRACE_MS. */
export async function letGo(client: CliClient, ...sides: { disconnect(): Promise<void> }[]): Promise<void> {
  const closing = (async () => {
    for (const side of sides) await side.disconnect().catch(() => undefined);
    await client.close().catch(() => undefined);
  })();
  await withDeadline(closing, CLOSE_GRACE_MS, 'closing').catch(() => undefined);
}

/**
 * The topic's partitions with their offsets, asked once before producing or consuming. It asks with
 * DescribeTopics, which answers an unknown topic at once: the client's metadata path would retry
 * it as possibly not yet created, and a typo would cost seconds before its error.
 */
export async function topicPartitions(admin: CliAdmin, topic: string, options: ClientOptions, partition?: number): Promise<CliPartitionDescription[]> {
  const [description] = await withDeadline(admin.describeTopics({ topics: [topic] }), options.timeoutMs, `the broker did not answer for topic ${topic}`);
  const partitions = description.partitions;
  if (partition !== undefined && !partitions.some((p) => p.partition === partition)) {
    throw new RillError(Errors.UNKNOWN_TOPIC_OR_PARTITION, `Topic ${topic} has no partition ${partition} (it has ${partitions.length}: 0..${partitions.length - 1})`, {
      topic,
      partition,
    });
  }
  return partitions;
}
