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
// - the frame reader holds at most one frame over max.frame.bytes plus one chunk;
// - socket chunks already copied out are freed every few MiB read (socket-read-gc.ts), not when
//   V8 gets round to them.
// Errors: a bad frame gets an error frame (and, when the stream can no longer be trusted, the
// connection is closed after it); a failed acks=0 produce closes the connection, as Kafka does.

import { type Socket } from 'node:net';
import { Errors } from '../errors.js';
import {
  ApiKeys,
  FrameReader,
  decodeRequest,
  encodeErrorResponse,
  encodeProtocolError,
  encodeResponse,
  isProtocolError,
  type DecodedRequest,
  type DescribedGroup,
  type DeletedGroup,
  type ListedGroup,
  type AlterIsrResponse,
} from '../protocol/index.js';
import { toCoordinator } from './coordinator-routing.js';
import { fetch, listOffsets, offsetForLeaderEpoch, replicaFetch } from './fetch-handlers.js';
import { coordinatorPartition } from './groups/coordinator-partition.js';
import { produce } from './produce-handler.js';
import { noteSocketRead } from './socket-read-gc.js';
import { type ConnectionContext, type RequestScope } from './request-scope.js';

export type { ConnectionContext } from './request-scope.js';

export const MAX_IN_FLIGHT = 1024;

export class Connection {
  private readonly socket: Socket;
  private readonly ctx: ConnectionContext;
  private readonly reader: FrameReader;
  private inFlight = 0;
  /** Set while a request waits for room in an owner's ring: no further frame is taken. */
  private blocked: Promise<void> | null = null;
  private closed = false;
  /** What the request handlers see of this connection. */
  private readonly scope: RequestScope;

  constructor(socket: Socket, ctx: ConnectionContext) {
    this.socket = socket;
    this.ctx = ctx;
    this.reader = new FrameReader({ maxFrameBytes: ctx.maxFrameBytes });
    this.scope = {
      ctx,
      socket,
      isClosed: () => this.closed,
      write: (frame, callback) => this.write(frame, callback),
      close: () => this.close(),
      track: (request, work) => this.track(request, work),
    };
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      noteSocketRead(chunk.length);
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
      case ApiKeys.CreatePartitions:
        this.track(request, admin.createPartitions(request.header).then((h) => encodeResponse(id, ApiKeys.CreatePartitions, h)));
        return;
      case ApiKeys.DeleteTopics:
        this.track(request, admin.deleteTopics(request.header).then((h) => encodeResponse(id, ApiKeys.DeleteTopics, h)));
        return;
      case ApiKeys.DescribeTopics:
        this.track(request, admin.describeTopics(request.header).then((h) => encodeResponse(id, ApiKeys.DescribeTopics, h)));
        return;
      case ApiKeys.Produce:
        return produce(this.scope, request);
      case ApiKeys.Fetch:
        return fetch(this.scope, request);
      case ApiKeys.ListOffsets:
        return listOffsets(this.scope, request);
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
        return toCoordinator(this.scope, request, request.apiKey, request.header, [request.header.groupId], (answers) => answers[0]);
      case ApiKeys.DescribeGroups:
        return toCoordinator(this.scope, request, ApiKeys.DescribeGroups, request.header, request.header.groups, (answers) => {
          const byId = new Map<string, DescribedGroup>();
          for (const a of answers) for (const g of a.groups) byId.set(g.groupId, g);
          return { groups: request.header.groups.map((g) => byId.get(g)!) };
        });
      case ApiKeys.DeleteGroups:
        return toCoordinator(this.scope, request, ApiKeys.DeleteGroups, request.header, request.header.groups, (answers) => {
          const byId = new Map<string, DeletedGroup>();
          for (const a of answers) for (const g of a.groups) byId.set(g.groupId, g);
          return { groups: request.header.groups.map((g) => byId.get(g)!) };
        });
      case ApiKeys.ReplicaFetch:
        return replicaFetch(this.scope, request);
      case ApiKeys.OffsetForLeaderEpoch:
        return offsetForLeaderEpoch(this.scope, request);
      case ApiKeys.AlterIsr: {
        const alter = this.ctx.alterIsr;
        const refused: AlterIsrResponse = { topic: request.header.topic, partition: request.header.partition, errorCode: Errors.NOT_CONTROLLER.code, message: 'this node is not the active controller', isr: [] };
        this.track(request, (alter === undefined ? Promise.resolve(refused) : alter(request.header)).then((h) => encodeResponse(id, ApiKeys.AlterIsr, h)));
        return;
      }
      case ApiKeys.ListGroups:
        return toCoordinator(this.scope, request, ApiKeys.ListGroups, request.header, null, (answers) => {
          const failed = answers.find((a) => a.errorCode !== 0);
          const groups: ListedGroup[] = answers.flatMap((a) => a.groups).sort((a, b) => (a.groupId < b.groupId ? -1 : 1));
          return failed === undefined ? { errorCode: 0, groups } : { errorCode: failed.errorCode, message: failed.message, groups };
        });
    }
  }
}
