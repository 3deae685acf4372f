// One client connection of the binary protocol. Main thread.
//
// Per frame the main thread reads the fixed fields and the small msgpack header (never the
// records), answers metadata requests itself, and routes data requests to the partition owners:
// a produce's record set is copied once, from the socket's buffer into the owner's ring; a
// fetch's bytes go from the main thread's mapping of the segment straight to the socket.
//
// Bounds, so a client cannot make the broker hold unbounded memory:
// - at most MAX_IN_FLIGHT requests per connection await their answers;
// - reading stops (socket paused) while that many are in flight, while an owner's ring is full,
//   and while the socket's write buffer is over its high-water mark (a client that does not read
//   its responses stops being read from);
// - the frame reader holds at most one frame over max.frame.bytes plus one chunk.
// Errors: a bad frame gets an error frame (and, when the stream can no longer be trusted, the
// connection is closed after it); a failed acks=0 produce closes the connection, as Kafka does.

import { type Socket } from 'node:net';
import { Errors } from '../errors.js';
import { type Logger } from '../logger.js';
import {
  ApiKeys,
  FrameReader,
  decodeRequest,
  encodeErrorResponse,
  encodeProtocolError,
  encodeResponse,
  encodeResponseHead,
  isProtocolError,
  type DecodedRequest,
  type FetchRequest,
  type FetchedPartition,
  type DescribedGroup,
  type DeletedGroup,
  type ListedGroup,
  type ListOffsetsRequest,
  type ProduceRequest,
  type RequestHeaders,
  type RequestOf,
  type ResponseHeaders,
  type AlterIsrRequest,
  type AlterIsrResponse,
  type EpochAnswer,
  type ReplicaFetchedPartition,
} from '../protocol/index.js';
import { type Admin } from './admin.js';
import { type ClusterView, type LeaderMiss } from './cluster-view.js';
import { type GroupApiKey, type GroupRequestMeta } from './groups/coordinator-host.js';
import { coordinatorPartition, OFFSETS_TOPIC } from './groups/coordinator-partition.js';
import { groupFailure } from './groups/group-responses.js';
import {
  OwnerKind,
  type ErrorResult,
  type FetchPartitionResult,
  type FetchResultMeta,
  type GroupResultMeta,
  type ListOffsetsResultMeta,
  type ProduceResultMeta,
} from './owner-messages.js';
import { type OwnerRouter } from './owner-router.js';
import { type PartitionPlacement } from './partition-placement.js';
import { type AcquiredRange, type SegmentMappings } from './segment-mappings.js';

export const MAX_IN_FLIGHT = 1024;

export interface ConnectionContext {
  admin: Admin;
  router: OwnerRouter;
  placement: PartitionPlacement;
  mappings: SegmentMappings;
  maxFrameBytes: number;
  /** Partitions of __consumer_offsets: a group's coordinator is the owner of one of them. */
  offsetsPartitions: number;
  /** Set in a cluster: only partition leaders serve, others answer NOT_LEADER_OR_FOLLOWER. */
  cluster?: ClusterView;
  logger: Logger;
  /**
   * On the active controller: applies an AlterIsr from a partition leader (alter-isr through Raft).
   * Absent elsewhere: AlterIsr is answered NOT_CONTROLLER.
   */
  alterIsr?: (request: AlterIsrRequest) => Promise<AlterIsrResponse>;
}

export class Connection {
  private readonly socket: Socket;
  private readonly ctx: ConnectionContext;
  private readonly reader: FrameReader;
  private inFlight = 0;
  /** Set while a request waits for room in an owner's ring: no further frame is taken. */
  private blocked: Promise<void> | null = null;
  private closed = false;

  constructor(socket: Socket, ctx: ConnectionContext) {
    this.socket = socket;
    this.ctx = ctx;
    this.reader = new FrameReader({ maxFrameBytes: ctx.maxFrameBytes });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.reader.push(chunk);
      this.pump();
    });
    socket.on('drain', () => this.pump());
    socket.on('error', (error) => ctx.logger.debug({ err: error }, 'client connection error'));
    socket.on('close', () => {
      this.closed = true;
    });
  }

  /** Takes frames while the bounds allow, then pauses or resumes the socket accordingly. */
  private pump(): void {
    while (!this.closed && this.blocked === null && this.inFlight < MAX_IN_FLIGHT && !this.socket.writableNeedDrain) {
      const frame = this.reader.next();
      if (frame === undefined) break;
      if (isProtocolError(frame)) {
        this.fail(frame);
        return;
      }
      const request = decodeRequest(frame);
      if (isProtocolError(request)) {
        this.fail(request);
        if (request.closeConnection) return;
        continue;
      }
      const dispatching = this.dispatch(request);
      if (dispatching !== undefined) {
        this.blocked = dispatching.then(() => {
          this.blocked = null;
          this.pump();
        });
      }
    }
    if (this.closed) return;
    const stop = this.blocked !== null || this.inFlight >= MAX_IN_FLIGHT || this.socket.writableNeedDrain;
    if (stop && !this.socket.isPaused()) this.socket.pause();
    else if (!stop && this.socket.isPaused()) this.socket.resume();
  }

  private fail(error: Parameters<typeof encodeProtocolError>[0]): void {
    this.write(encodeProtocolError(error));
    if (error.closeConnection) this.close();
  }

  private write(frame: Uint8Array, callback?: () => void): void {
    if (this.closed) {
      callback?.();
      return;
    }
    this.socket.write(frame, callback);
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end();
  }

  /** Runs a request's answer as one in flight; errors thrown become error frames. */
  private track(request: DecodedRequest, work: Promise<Uint8Array | null>): void {
    this.inFlight++;
    work
      .then(
        (frame) => {
          if (frame !== null) this.write(frame);
        },
        (error) => {
          this.ctx.logger.error({ err: error, api: request.apiKey }, 'request failed');
          this.write(encodeErrorResponse(request.correlationId, request.apiKey, Errors.UNKNOWN_SERVER_ERROR.code, { message: String((error as Error)?.message ?? error) }));
        },
      )
      .finally(() => {
        this.inFlight--;
        this.pump();
      });
  }

  /** Returns a promise only when the request is still waiting to be handed to an owner. */
  private dispatch(request: DecodedRequest): Promise<void> | undefined {
    const { admin } = this.ctx;
    const id = request.correlationId;
    switch (request.apiKey) {
      case ApiKeys.Hello:
        this.write(encodeResponse(id, ApiKeys.Hello, admin.hello()));
        return;
      case ApiKeys.Metadata:
        this.write(encodeResponse(id, ApiKeys.Metadata, admin.metadata(request.header)));
        return;
      case ApiKeys.ListTopics:
        this.write(encodeResponse(id, ApiKeys.ListTopics, admin.listTopics(request.header)));
        return;
      case ApiKeys.CreateTopics:
        this.track(request, admin.createTopics(request.header).then((h) => encodeResponse(id, ApiKeys.CreateTopics, h)));
        return;
      case ApiKeys.DeleteTopics:
        this.track(request, admin.deleteTopics(request.header).then((h) => encodeResponse(id, ApiKeys.DeleteTopics, h)));
        return;
      case ApiKeys.DescribeTopics:
        this.track(request, admin.describeTopics(request.header).then((h) => encodeResponse(id, ApiKeys.DescribeTopics, h)));
        return;
      case ApiKeys.Produce:
        return this.produce(request);
      case ApiKeys.Fetch:
        return this.fetch(request);
      case ApiKeys.ListOffsets:
        return this.listOffsets(request);
      case ApiKeys.ClusterStatus:
        this.write(encodeResponse(id, ApiKeys.ClusterStatus, admin.clusterStatus()));
        return;
      case ApiKeys.Rebalance:
        this.track(request, admin.rebalance(request.header).then((h) => encodeResponse(id, ApiKeys.Rebalance, h)));
        return;
      case ApiKeys.InitProducerId:
        this.write(encodeResponse(id, ApiKeys.InitProducerId, admin.initProducerId(request.header)));
        return;
      case ApiKeys.FindCoordinator:
        this.write(encodeResponse(id, ApiKeys.FindCoordinator, admin.findCoordinator(request.header, coordinatorPartition(request.header.groupId, this.ctx.offsetsPartitions))));
        return;
      case ApiKeys.JoinGroup:
      case ApiKeys.SyncGroup:
      case ApiKeys.Heartbeat:
      case ApiKeys.LeaveGroup:
      case ApiKeys.OffsetCommit:
      case ApiKeys.OffsetFetch:
        return this.toCoordinator(request, request.apiKey, request.header, [request.header.groupId], (answers) => answers[0]);
      case ApiKeys.DescribeGroups:
        return this.toCoordinator(request, ApiKeys.DescribeGroups, request.header, request.header.groups, (answers) => {
          const byId = new Map<string, DescribedGroup>();
          for (const a of answers) for (const g of a.groups) byId.set(g.groupId, g);
          return { groups: request.header.groups.map((g) => byId.get(g)!) };
        });
      case ApiKeys.DeleteGroups:
        return this.toCoordinator(request, ApiKeys.DeleteGroups, request.header, request.header.groups, (answers) => {
          const byId = new Map<string, DeletedGroup>();
          for (const a of answers) for (const g of a.groups) byId.set(g.groupId, g);
          return { groups: request.header.groups.map((g) => byId.get(g)!) };
        });
      case ApiKeys.ReplicaFetch:
        return this.replicaFetch(request);
      case ApiKeys.OffsetForLeaderEpoch:
        return this.offsetForLeaderEpoch(request);
      case ApiKeys.AlterIsr: {
        const alter = this.ctx.alterIsr;
        const refused: AlterIsrResponse = { topic: request.header.topic, partition: request.header.partition, errorCode: Errors.NOT_CONTROLLER.code, message: 'this node is not the active controller', isr: [] };
        this.track(request, (alter === undefined ? Promise.resolve(refused) : alter(request.header)).then((h) => encodeResponse(id, ApiKeys.AlterIsr, h)));
        return;
      }
      case ApiKeys.ListGroups:
        return this.toCoordinator(request, ApiKeys.ListGroups, request.header, null, (answers) => {
          const failed = answers.find((a) => a.errorCode !== 0);
          const groups: ListedGroup[] = answers.flatMap((a) => a.groups).sort((a, b) => (a.groupId < b.groupId ? -1 : 1));
          return failed === undefined ? { errorCode: 0, groups } : { errorCode: failed.errorCode, message: failed.message, groups };
        });
    }
  }

  // --- produce ---------------------------------------------------------------------------------

  private produce(request: RequestOf<typeof ApiKeys.Produce>): Promise<void> | undefined {
    const { topic, partition, acks, timeoutMs } = request.header;
    const miss = this.ctx.cluster?.leaderCheck(topic, partition);
    if (miss !== undefined && miss !== null) {
      if (acks === 0) this.close();
      else this.write(produceResponse(request.correlationId, request.header, miss.spec.code, miss.message, miss.leaderId));
      return;
    }
    const slot = this.ctx.placement.owner(topic, partition);
    if (slot === undefined) {
      this.produceFailed(request.correlationId, request.header, Errors.UNKNOWN_TOPIC_OR_PARTITION.code, `topic-partition ${topic}-${partition} does not exist`);
      return;
    }
    // Waiting for ring room (if the owner's ring is full) holds this frame and pauses the socket.
    const { sent, answer } = this.ctx.router.request(slot, OwnerKind.Produce, { topic, partition, acks, timeoutMs }, request.body, () => this.closed);
    this.track(
      request,
      answer.then((meta) => {
        const result = meta as ProduceResultMeta;
        if (result.errorCode !== 0) {
          if (acks === 0) {
            this.ctx.logger.debug({ topic, partition, errorCode: result.errorCode }, 'acks=0 produce failed; closing the connection');
            this.close();
            return null;
          }
          return produceResponse(request.correlationId, request.header, result.errorCode, result.message);
        }
        return acks === 0 ? null : encodeResponse(request.correlationId, ApiKeys.Produce, {
          topic,
          partition,
          errorCode: 0,
          baseOffset: result.baseOffset,
          logAppendTime: -1,
          logStartOffset: result.logStartOffset,
        });
      }),
    );
    return sent ?? undefined;
  }

  private produceFailed(correlationId: number, header: ProduceRequest, errorCode: number, message: string): void {
    if (header.acks === 0) {
      this.close();
      return;
    }
    this.write(produceResponse(correlationId, header, errorCode, message));
  }

  // --- fetch and list offsets: fan out by owner, answer together ----------------------------------

  /**
   * Sends one sub-request per owner (waiting for ring room if needed) and resolves once all are
   * sent, with `answers`: the results, when every owner has answered. (Wrapped in an object: a
   * promise resolved with a promise would wait for the inner one, and block the connection for as
   * long as a long poll.) Owners that are down answer with `down(partition)`. `meta` gets the
   * number of owners involved. Once `enough` holds for the results in so far, the owners still
   * waiting are told to end their long polls (EndWait) and answer with what they have.
   */
  private async fanOut<P extends { topic: string; partition: number }, R>(
    partitions: P[],
    kind: OwnerKind,
    meta: (group: P[], owners: number) => unknown,
    unknown: (p: P) => R,
    down: (p: P) => R,
    results: (answer: unknown) => R[],
    enough?: (answered: readonly R[]) => boolean,
    refused?: (p: P, miss: LeaderMiss) => R,
  ): Promise<{ answers: Promise<R[]> }> {
    // In a cluster, partitions this node does not lead are answered here, never sent to an owner.
    const refusals: R[] = [];
    const cluster = this.ctx.cluster;
    if (cluster !== undefined && refused !== undefined) {
      const served: P[] = [];
      for (const p of partitions) {
        const miss = cluster.leaderCheck(p.topic, p.partition);
        if (miss === null) served.push(p);
        else refusals.push(refused(p, miss));
      }
      partitions = served;
    }
    const { bySlot, unknown: unplaced } = this.ctx.placement.groupByOwner(partitions);
    const answers: Promise<R[]>[] = [Promise.resolve([...refusals, ...unplaced.map(unknown)])];
    const waiting = new Map<number, number>(); // slot -> request id, while its answer is out
    const answered: R[] = [];
    let ended = false;
    const arrived = (slot: number, list: R[]): R[] => {
      waiting.delete(slot);
      if (enough === undefined || ended || waiting.size === 0) return list;
      answered.push(...list);
      if (enough(answered)) {
        ended = true;
        for (const [other, requestId] of waiting) this.ctx.router.endWait(other, requestId);
      }
      return list;
    };
    for (const [slot, group] of bySlot) {
      const request = this.ctx.router.request(slot, kind, meta(group, bySlot.size), undefined, () => this.closed);
      let answered = false;
      answers.push(
        request.answer.then((answer) => {
          answered = true;
          // A whole-request failure (the owner is down or restarting) is each partition's.
          if ((answer as ErrorResult).errorCode === Errors.LEADER_NOT_AVAILABLE.code) return arrived(slot, group.map(down));
          return arrived(slot, results(answer));
        }),
      );
      if (request.sent !== null) await request.sent;
      if (!answered && request.requestId !== 0) waiting.set(slot, request.requestId);
    }
    return { answers: Promise.all(answers).then((lists) => lists.flat()) };
  }

  private fetch(request: RequestOf<typeof ApiKeys.Fetch>): Promise<void> {
    const header: FetchRequest = request.header;
    const noData = (p: { topic: string; partition: number }, errorCode: number, message: string): FetchPartitionResult => ({
      topic: p.topic,
      partition: p.partition,
      errorCode,
      message,
      highWatermark: -1,
      logStartOffset: -1,
      file: null,
      position: 0,
      length: 0,
    });
    return this.fanOut(
      header.partitions,
      OwnerKind.Fetch,
      // Each owner waits for its share of minBytes; once the owners that answered hold minBytes
      // between them, the others are told to stop waiting.
      (group, owners) => ({ partitions: group, maxWaitMs: header.maxWaitMs, minBytes: Math.ceil(header.minBytes / owners), maxBytes: header.maxBytes }),
      (p) => noData(p, Errors.UNKNOWN_TOPIC_OR_PARTITION.code, `topic-partition ${p.topic}-${p.partition} does not exist`),
      (p) => noData(p, Errors.LEADER_NOT_AVAILABLE.code, 'the owner is restarting; retry'),
      (answer) => {
        const result = answer as FetchResultMeta;
        return result.errorCode === 0 ? result.partitions : [];
      },
      (answered) => answered.reduce((sum, r) => sum + r.length, 0) >= Math.max(1, header.minBytes) || answered.some((r) => r.errorCode !== 0),
      (p, miss) => ({ ...noData(p, miss.spec.code, miss.message), leaderId: miss.leaderId }),
    ).then(({ answers }) => this.track(request, answers.then((results) => this.fetchResponse(request.correlationId, header, results))));
  }

  /**
   * Writes the fetch response: the head, then each partition's bytes from the main thread's
   * mapping of its segment. The ranges are released when the last write completes.
   */
  private async fetchResponse(
    correlationId: number,
    request: { partitions: { topic: string; partition: number }[]; maxBytes: number },
    results: FetchPartitionResult[],
    apiKey: typeof ApiKeys.Fetch | typeof ApiKeys.ReplicaFetch = ApiKeys.Fetch,
  ): Promise<null> {
    const byKey = new Map(results.map((r) => [`${r.topic}/${r.partition}`, r]));
    const ranges: AcquiredRange[] = [];
    const partitions: (FetchedPartition | ReplicaFetchedPartition)[] = [];
    // Each owner keeps within maxBytes; together they may not. Slices past the request's maxBytes
    // are left out whole (the first always goes, as the soft limit promises), and the client
    // fetches them next time from the same offsets.
    let taken = 0;
    for (const p of request.partitions) {
      const r = byKey.get(`${p.topic}/${p.partition}`) ?? { topic: p.topic, partition: p.partition, errorCode: Errors.UNKNOWN_SERVER_ERROR.code, highWatermark: -1, logStartOffset: -1, file: null, position: 0, length: 0 };
      let errorCode = r.errorCode;
      let bytes = 0;
      const fits = taken === 0 || taken + r.length <= request.maxBytes;
      if (errorCode === 0 && r.file !== null && r.length > 0 && fits && !this.closed) {
        try {
          ranges.push(this.ctx.mappings.acquire(r.file, r.position, r.length));
          bytes = r.length;
          taken += bytes;
        } catch (error) {
          // The segment went away under us (retention): the client retries and learns the new range.
          this.ctx.logger.debug({ err: error, file: r.file }, 'segment vanished before its fetch was sent');
          errorCode = Errors.STORAGE_ERROR.code;
        }
      }
      const leaderId = (r as { leaderId?: number }).leaderId;
      const entry = { topic: p.topic, partition: p.partition, errorCode, highWatermark: r.highWatermark, logStartOffset: r.logStartOffset, ...(leaderId === undefined ? {} : { leaderId }), bytes };
      partitions.push(apiKey === ApiKeys.ReplicaFetch ? { ...entry, logEndOffset: r.logEndOffset ?? -1 } : entry);
    }
    const total = ranges.reduce((sum, range) => sum + range.bytes.length, 0);
    const head = encodeResponseHead(correlationId, apiKey, 0, { partitions }, total);
    const release = () => {
      for (const range of ranges) range.release();
    };
    if (this.closed) {
      release();
      return null;
    }
    this.socket.cork();
    this.socket.write(head);
    ranges.forEach((range, i) => this.socket.write(range.bytes, i === ranges.length - 1 ? release : undefined));
    if (ranges.length === 0) release();
    this.socket.uncork();
    return null;
  }

  // --- replication: a follower's requests, to the owners of the partitions ----------------------

  /** As fetch(), with the follower's id and epochs; owners answer from replication/ (to the log end). */
  private replicaFetch(request: RequestOf<typeof ApiKeys.ReplicaFetch>): Promise<void> {
    const header = request.header;
    const noData = (p: { topic: string; partition: number }, errorCode: number, message: string): FetchPartitionResult => ({ topic: p.topic, partition: p.partition, errorCode, message, highWatermark: -1, logStartOffset: -1, logEndOffset: -1, file: null, position: 0, length: 0 });
    return this.fanOut(
      header.partitions,
      OwnerKind.ReplicaFetch,
      (group, owners) => ({ replicaId: header.replicaId, partitions: group, maxWaitMs: header.maxWaitMs, minBytes: Math.ceil(header.minBytes / owners), maxBytes: header.maxBytes }),
      (p) => noData(p, Errors.NOT_LEADER_OR_FOLLOWER.code, `topic-partition ${p.topic}-${p.partition} is not hosted here`),
      (p) => noData(p, Errors.LEADER_NOT_AVAILABLE.code, 'the owner is restarting; retry'),
      (answer) => {
        const result = answer as FetchResultMeta;
        return result.errorCode === 0 ? result.partitions : [];
      },
      (answered) => answered.reduce((sum, r) => sum + r.length, 0) >= Math.max(1, header.minBytes) || answered.some((r) => r.errorCode !== 0),
    ).then(({ answers }) => this.track(request, answers.then((results) => this.fetchResponse(request.correlationId, header, results, ApiKeys.ReplicaFetch))));
  }

  private offsetForLeaderEpoch(request: RequestOf<typeof ApiKeys.OffsetForLeaderEpoch>): Promise<void> {
    const header = request.header;
    const none = (p: { topic: string; partition: number }, errorCode: number): EpochAnswer => ({ topic: p.topic, partition: p.partition, errorCode, leaderEpoch: -1, endOffset: -1 });
    return this.fanOut(
      header.partitions,
      OwnerKind.OffsetForLeaderEpoch,
      (group) => ({ replicaId: header.replicaId, partitions: group }),
      (p) => none(p, Errors.NOT_LEADER_OR_FOLLOWER.code),
      (p) => none(p, Errors.LEADER_NOT_AVAILABLE.code),
      (answer) => (answer as { partitions?: EpochAnswer[] }).partitions ?? [],
    ).then(({ answers }) =>
      this.track(
        request,
        answers.then((results) => {
          const byKey = new Map(results.map((r) => [`${r.topic}/${r.partition}`, r]));
          const partitions = header.partitions.map((p) => byKey.get(`${p.topic}/${p.partition}`) ?? none(p, Errors.UNKNOWN_SERVER_ERROR.code));
          return encodeResponse(request.correlationId, ApiKeys.OffsetForLeaderEpoch, { partitions });
        }),
      ),
    );
  }

  private listOffsets(request: RequestOf<typeof ApiKeys.ListOffsets>): Promise<void> {
    const header: ListOffsetsRequest = request.header;
    type Listed = ListOffsetsResultMeta['partitions'][number];
    const none = (p: { topic: string; partition: number }, errorCode: number, message: string): Listed => ({ topic: p.topic, partition: p.partition, errorCode, message, offset: -1, timestamp: -1 });
    return this.fanOut(
      header.partitions,
      OwnerKind.ListOffsets,
      (group) => ({ partitions: group }),
      (p) => none(p, Errors.UNKNOWN_TOPIC_OR_PARTITION.code, `topic-partition ${p.topic}-${p.partition} does not exist`),
      (p) => none(p, Errors.LEADER_NOT_AVAILABLE.code, 'the owner is restarting; retry'),
      (answer) => (answer as ListOffsetsResultMeta).partitions ?? [],
      undefined,
      (p, miss) => ({ ...none(p, miss.spec.code, miss.message), leaderId: miss.leaderId }),
    ).then(({ answers }) =>
      this.track(
        request,
        answers.then((results) => {
          const byKey = new Map(results.map((r) => [`${r.topic}/${r.partition}`, r]));
          const partitions = header.partitions.map((p) => {
            const r = byKey.get(`${p.topic}/${p.partition}`) ?? none(p, Errors.UNKNOWN_SERVER_ERROR.code, 'no answer');
            const leaderId = (r as { leaderId?: number }).leaderId;
            return { topic: r.topic, partition: r.partition, errorCode: r.errorCode, offset: r.offset, timestamp: r.timestamp, ...(leaderId === undefined ? {} : { leaderId }) };
          });
          return encodeResponse(request.correlationId, ApiKeys.ListOffsets, { partitions });
        }),
      ),
    );
  }

  // --- consumer groups: to the owner of each group's __consumer_offsets partition -----------------

  /**
   * Sends a group request to the coordinators of `groupIds` (every offsets partition's owner when
   * null, for ListGroups): one sub-request per owner, each carrying its groups, and answers with
   * `merge` of their answers. An owner that is down answers COORDINATOR_LOAD_IN_PROGRESS (its
   * replacement replays the groups first), which clients retry.
   */
  private toCoordinator<K extends GroupApiKey>(
    request: DecodedRequest,
    apiKey: K,
    header: RequestHeaders[K],
    groupIds: readonly string[] | null,
    merge: (answers: ResponseHeaders[K][]) => ResponseHeaders[K],
  ): Promise<void> {
    const n = this.ctx.offsetsPartitions;
    const cluster = this.ctx.cluster;
    let refs =
      groupIds === null
        ? Array.from({ length: n }, (_, partition) => ({ topic: OFFSETS_TOPIC, partition, groupId: '' }))
        : groupIds.map((groupId) => ({ topic: OFFSETS_TOPIC, partition: coordinatorPartition(groupId, n), groupId }));
    if (cluster !== undefined) {
      // ListGroups lists the groups this node coordinates (as Kafka's does); any other group
      // request must reach the coordinator of each of its groups.
      const ours = refs.filter((r) => cluster.leaderCheck(r.topic, r.partition) === null);
      if (groupIds === null) refs = ours;
      else if (ours.length < refs.length) {
        const stray = refs.filter((r) => !ours.includes(r));
        this.write(encodeResponse(request.correlationId, apiKey, groupFailure(apiKey, (apiKey === ApiKeys.DescribeGroups || apiKey === ApiKeys.DeleteGroups ? { ...header, groups: refs.map((g) => g.groupId) } : header) as RequestHeaders[K], Errors.NOT_COORDINATOR.code, `node ${cluster.selfId} does not coordinate group ${stray.map((r) => r.groupId).join(', ')}; find its coordinator again`)));
        return Promise.resolve();
      }
      if (refs.length === 0) {
        this.write(encodeResponse(request.correlationId, apiKey, merge([])));
        return Promise.resolve();
      }
    }
    const clientHost = this.socket.remoteAddress ?? '';
    // Each owner gets the request narrowed to its groups.
    const narrowed = (group: { groupId: string }[]): RequestHeaders[K] =>
      (apiKey === ApiKeys.DescribeGroups || apiKey === ApiKeys.DeleteGroups ? { ...header, groups: group.map((g) => g.groupId) } : header) as RequestHeaders[K];
    const failed = (group: { groupId: string }[], spec: typeof Errors.NOT_COORDINATOR, message: string) => groupFailure(apiKey, narrowed(group), spec.code, message);
    type Answer = { response: ResponseHeaders[K] };
    const { bySlot } = this.ctx.placement.groupByOwner(refs);
    if (bySlot.size === 0) {
      this.write(encodeResponse(request.correlationId, apiKey, failed(refs, Errors.COORDINATOR_NOT_AVAILABLE, 'no worker owns the group\'s __consumer_offsets partition')));
      return Promise.resolve();
    }
    const bySlotGroups = new Map([...bySlot].map(([slot, group]) => [slot, group]));
    return this.fanOut(
      [...bySlotGroups.values()].map((group) => group[0]),
      OwnerKind.Group,
      (firsts) => {
        const group = bySlotGroups.get(this.ctx.placement.owner(firsts[0].topic, firsts[0].partition)!)!;
        return { apiKey, header: narrowed(group), clientHost } satisfies GroupRequestMeta;
      },
      (p) => ({ response: failed([p], Errors.COORDINATOR_NOT_AVAILABLE, 'no worker owns the group\'s __consumer_offsets partition') }) as Answer,
      (p) => ({ response: failed(bySlotGroups.get(this.ctx.placement.owner(p.topic, p.partition)!) ?? [p], Errors.COORDINATOR_LOAD_IN_PROGRESS, 'the coordinator is restarting; retry') }) as Answer,
      (answer) => {
        const result = answer as GroupResultMeta;
        return [{ response: (result.errorCode === 0 ? result.response : failed(refs, Errors.COORDINATOR_LOAD_IN_PROGRESS, result.message ?? 'the coordinator failed')) as ResponseHeaders[K] }];
      },
    ).then(({ answers }) => this.track(request, answers.then((list) => encodeResponse(request.correlationId, apiKey, merge(list.map((a) => a.response))))));
  }
}

function produceResponse(correlationId: number, header: ProduceRequest, errorCode: number, message?: string, leaderId?: number): Uint8Array {
  return encodeResponse(correlationId, ApiKeys.Produce, {
    topic: header.topic,
    partition: header.partition,
    errorCode,
    ...(message === undefined ? {} : { message }),
    ...(leaderId === undefined ? {} : { leaderId }),
    baseOffset: -1,
    logAppendTime: -1,
    logStartOffset: -1,
  });
}
