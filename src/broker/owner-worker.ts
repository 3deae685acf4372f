// A partition owner: the module piscina runs in each worker thread. Worker thread only.
//
// Control tasks (attach, open, close, stats, retention, shutdown) arrive as piscina tasks, routed
// to this thread by SlotPool. Data requests (produce, fetch, list offsets) and group requests (for
// the groups of the __consumer_offsets partitions this thread owns) arrive on the slot's request
// ring and are answered on its response ring, in whatever order they complete.
//
// Bounds: every request here was admitted by the main thread, which bounds what it has in flight
// per slot; responses that find the response ring full wait in `backlog`, which is therefore
// bounded by the same number.

import { threadId, workerData } from 'node:worker_threads';
import { Errors, RillError } from '../errors.js';
import { createLogger } from '../logger.js';
import { Ring, type RingProducer } from '../threads/index.js';
import type { AttachTask } from '../threads/slot-pool.js';
import {
  OwnerKind,
  decodeOwnerRequest,
  encodeOwnerResult,
  type ErrorResult,
  type EndWaitMeta,
  type FetchMeta,
  type FetchPartitionResult,
  type ListOffsetsMeta,
  type ProduceMeta,
} from './owner-messages.js';
import { PartitionHost, type DataWait, type PartitionSpec, type PartitionStatus } from './partition-host.js';
import { CoordinatorHost, type GroupRequestMeta } from './groups/coordinator-host.js';
import { OFFSETS_TOPIC } from './groups/coordinator-partition.js';
import type { CoordinatorSettings } from './groups/group-coordinator.js';
import type { OffsetForLeaderEpochRequest } from '../protocol/index.js';
import type { ReplicaFetchMeta } from './owner-messages.js';
import { WorkerReplication, type LeadershipTask } from './replication/worker-replication.js';
import { controllerLinkIsrChannel } from './replication/controller-isr-link.js';
import { NodeIsolation } from '../cluster/node-isolation.js';

export type OwnerTask =
  | AttachTask
  | { op: 'open'; partitions: PartitionSpec[] }
  | { op: 'close'; partitions: { topic: string; partition: number }[] }
  | { op: 'stats' }
  | { op: 'retention'; now?: number }
  /** Starts a log-cleaner pass on compacted partitions that need one; answers without waiting for it. */
  | { op: 'clean'; now?: number }
  | { op: 'shutdown' }
  /** Replication (replication/worker-replication.ts): how metadata says these partitions are led. */
  | LeadershipTask
  /** Ends this thread as a crash would (logs left unflushed): for fault tests and operators. */
  | { op: 'exit'; code: number };

/** What the broker gives each owner thread. */
export interface OwnerWorkerData {
  logLevel?: string;
  groups?: CoordinatorSettings;
  /** Fault tests only: the node-isolation table (node-isolation.ts) replica and ISR links obey. */
  isolation?: SharedArrayBuffer;
}

const data = (workerData ?? {}) as OwnerWorkerData;
const logger = createLogger({ thread: threadId }, data.logLevel);
const host = new PartitionHost(logger);
// Coordinates the groups of the __consumer_offsets partitions this worker owns.
const groups = new CoordinatorHost(host, data.groups ?? { offsetsPartitions: 1, minSessionTimeoutMs: 6000, maxSessionTimeoutMs: 1_800_000, initialRebalanceDelayMs: 3000 }, logger);
// Replicated partitions' roles, fetchers and the leader side of ReplicaFetch (created on the first
// leadership task; a single-node broker never sends one and pays nothing).
const isolation = data.isolation === undefined ? null : new NodeIsolation(data.isolation);
const replication: WorkerReplication = new WorkerReplication(host, controllerLinkIsrChannel(() => leadershipController, logger, (): boolean => replication.isCutFromBrokerAt(leadershipController)), logger, isolation);
let leadershipController: LeadershipTask['controller'];
let responses: RingProducer | null = null;
const backlog: Uint8Array[][] = [];
let draining = false;

export default async function handleTask(task: OwnerTask): Promise<unknown> {
  switch (task.op) {
    case 'attach':
      attach(task);
      return { threadId };
    case 'open': {
      const opened: PartitionStatus[] = [];
      for (const spec of task.partitions) {
        opened.push(await host.open(spec));
        // A replicated one (cluster) is loaded when this node becomes its leader (roleChanged).
        if (spec.topic === OFFSETS_TOPIC && spec.replicated !== true) groups.load(spec.partition);
      }
      return opened;
    }
    case 'close':
      for (const { topic, partition } of task.partitions) {
        replication.stop(topic, partition);
        if (topic === OFFSETS_TOPIC) groups.unload(partition);
        await host.close(topic, partition);
      }
      return null;
    case 'stats': {
      const stats = host.stats();
      const replicas = replication.replicas;
      if (replicas === null) return stats;
      const byKey = new Map(replicas.status().map((r) => [`${r.topic}/${r.partition}`, r]));
      return stats.map((s) => {
        const r = byKey.get(`${s.topic}/${s.partition}`);
        return r === undefined ? s : { ...s, replication: { role: r.role, leader: r.leader, leaderEpoch: r.leaderEpoch, isr: r.isr, highWatermark: r.highWatermark, underReplicated: r.underReplicated, followers: r.followers } };
      });
    }
    case 'retention':
      return host.retention(task.now);
    case 'clean':
      return host.startCleaning(task.now);
    case 'leadership': {
      leadershipController = task.controller ?? leadershipController;
      const outcomes = replication.leadership(task);
      task.partitions.forEach((m, i) => m.topic === OFFSETS_TOPIC && groups.roleChanged(m.partition, outcomes[i]));
      return outcomes;
    }
    case 'shutdown':
      replication.close();
      await host.closeAll();
      return null;
    case 'exit':
      logger.warn({ code: task.code }, 'owner exiting on request');
      setImmediate(() => process.exit(task.code));
      return null;
  }
}

function attach(task: AttachTask): void {
  logger.info({ slot: task.slot }, 'owner attached');
  const requests = Ring.consumer(task.requests);
  responses = Ring.producer(task.responses);
  void requests.consume(onRequest).catch((error) => logger.error({ err: error }, 'request ring failed'));
}

/** Called for each ring entry; the entry is only valid during the call. */
function onRequest(entry: Uint8Array): void {
  const message = decodeOwnerRequest<unknown>(entry);
  const { requestId } = message;
  switch (message.kind) {
    case OwnerKind.Produce: {
      const meta = message.meta as ProduceMeta;
      // produce() copies the body into the log before its first await, while the entry is valid.
      // acks=0 is answered too (internally): the main thread drops a success and closes the
      // client's connection on a failure, the one signal an acks=0 producer gets.
      host.produce(meta.topic, meta.partition, message.body, meta.acks, meta.timeoutMs).then(
        (result) => respond(requestId, OwnerKind.Produce, { errorCode: 0, baseOffset: result?.baseOffset ?? -1, logStartOffset: result?.logStartOffset ?? -1 }),
        (error) => respond(requestId, OwnerKind.Produce, { ...errorResult(error), baseOffset: -1, logStartOffset: -1 }),
      );
      return;
    }
    case OwnerKind.Fetch:
      fetch(requestId, message.meta as FetchMeta).then(
        (partitions) => respond(requestId, OwnerKind.Fetch, { errorCode: 0, partitions }),
        (error) => respond(requestId, OwnerKind.Fetch, { ...errorResult(error), partitions: [] }),
      );
      return;
    case OwnerKind.ListOffsets: {
      const meta = message.meta as ListOffsetsMeta;
      const partitions = meta.partitions.map(({ topic, partition, timestamp }) => {
        try {
          return { topic, partition, errorCode: 0, ...host.listOffset(topic, partition, timestamp) };
        } catch (error) {
          return { topic, partition, ...errorResult(error), offset: -1, timestamp: -1 };
        }
      });
      respond(requestId, OwnerKind.ListOffsets, { errorCode: 0, partitions });
      return;
    }
    case OwnerKind.Group:
      groups.handle(message.meta as GroupRequestMeta).then(
        (response) => respond(requestId, OwnerKind.Group, { errorCode: 0, response }),
        (error) => respond(requestId, OwnerKind.Group, errorResult(error)),
      );
      return;
    case OwnerKind.ReplicaFetch: {
      const control: FetchInFlight = { ended: false, wait: null };
      fetchesInFlight.set(requestId, control);
      replication
        .replicaFetch(message.meta as ReplicaFetchMeta, control)
        .then(
          (partitions) => respond(requestId, OwnerKind.ReplicaFetch, { errorCode: 0, partitions }),
          (error) => respond(requestId, OwnerKind.ReplicaFetch, { ...errorResult(error), partitions: [] }),
        )
        .finally(() => fetchesInFlight.delete(requestId));
      return;
    }
    case OwnerKind.OffsetForLeaderEpoch:
      respond(requestId, OwnerKind.OffsetForLeaderEpoch, { errorCode: 0, partitions: replication.offsetForLeaderEpoch(message.meta as OffsetForLeaderEpochRequest) });
      return;
    case OwnerKind.EndWait:
      // Not answered: the fetch it names answers (now) instead, if it is still waiting.
      endFetchWait((message.meta as EndWaitMeta).requestId);
      return;
    default:
      respond(requestId, message.kind, { errorCode: Errors.INVALID_REQUEST.code, message: `unknown owner request kind ${message.kind}` });
  }
}

/** A fetch in progress: EndWait sets `ended` and cuts its current long poll short. */
interface FetchInFlight {
  ended: boolean;
  wait: DataWait | null;
}

/** Fetches in progress by request id, so that an EndWait can cut their long poll short. */
const fetchesInFlight = new Map<number, FetchInFlight>();

/**
 * Reads each partition; if fewer than minBytes came back, waits (up to maxWaitMs) for any of them
 * to grow and reads again. Slices are located, not copied: the main thread sends the bytes.
 * An EndWait for this request (the main thread has enough from other owners) ends the wait at once.
 */
async function fetch(requestId: number, meta: FetchMeta): Promise<FetchPartitionResult[]> {
  const deadline = Date.now() + Math.max(0, meta.maxWaitMs);
  const inFlight: FetchInFlight = { ended: false, wait: null };
  fetchesInFlight.set(requestId, inFlight);
  try {
    for (;;) {
      const results = readAll(meta);
      const bytes = results.reduce((sum, r) => sum + r.length, 0);
      const remaining = deadline - Date.now();
      if (bytes >= Math.max(1, meta.minBytes) || remaining <= 0 || inFlight.ended || results.some((r) => r.errorCode !== 0)) return results;
      // The first partition to grow, the deadline or an EndWait ends the wait on all of them.
      inFlight.wait = host.waitForAny(meta.partitions, remaining);
      await inFlight.wait.done;
      inFlight.wait = null;
    }
  } finally {
    fetchesInFlight.delete(requestId);
  }
}

function endFetchWait(requestId: number): void {
  const inFlight = fetchesInFlight.get(requestId);
  if (inFlight === undefined) return;
  inFlight.ended = true;
  inFlight.wait?.end();
}

function readAll(meta: FetchMeta): FetchPartitionResult[] {
  let budget = meta.maxBytes;
  return meta.partitions.map(({ topic, partition, offset, maxBytes }) => {
    try {
      const slice = host.fetch(topic, partition, offset, Math.max(1, Math.min(maxBytes, budget)));
      const length = slice.records.length;
      budget = Math.max(0, budget - length);
      return { topic, partition, errorCode: 0, highWatermark: slice.highWatermark, logStartOffset: slice.logStartOffset, file: slice.file, fileId: slice.fileId, position: slice.position, length };
    } catch (error) {
      // Out of range: say what the range is, so that the client (HTTP answers 416 with it) can
      // reset without another round trip.
      const range = error instanceof RillError && error.code === Errors.OFFSET_OUT_OF_RANGE.code ? error.details : undefined;
      const highWatermark = typeof range?.logEndOffset === 'number' ? range.logEndOffset : -1;
      const logStartOffset = typeof range?.logStartOffset === 'number' ? range.logStartOffset : -1;
      return { topic, partition, ...errorResult(error), highWatermark, logStartOffset, file: null, fileId: 0, position: 0, length: 0 };
    }
  });
}

function errorResult(error: unknown): ErrorResult {
  if (error instanceof RillError) return { errorCode: error.code, message: error.message };
  logger.error({ err: error }, 'unexpected error serving a request');
  return { errorCode: Errors.UNKNOWN_SERVER_ERROR.code, message: String((error as Error)?.message ?? error) };
}

function respond(requestId: number, kind: OwnerKind, meta: unknown): void {
  if (responses === null) return;
  const parts = encodeOwnerResult(requestId, kind, meta);
  if (backlog.length === 0 && responses.tryWriteParts(parts)) return;
  backlog.push(parts.map((part) => new Uint8Array(part))); // copies: the encoding buffer is reused
  if (!draining) void drainBacklog();
}

/** Writes responses that found the ring full, in order, as the main thread makes room. */
async function drainBacklog(): Promise<void> {
  draining = true;
  try {
    while (backlog.length > 0 && responses !== null && !responses.closed) {
      const parts = backlog[0];
      if (responses.tryWriteParts(parts)) {
        backlog.shift();
        continue;
      }
      await responses.waitForSpace(parts.reduce((n, p) => n + p.length, 0));
    }
  } catch (error) {
    logger.error({ err: error }, 'response ring failed');
  } finally {
    draining = false;
  }
}
