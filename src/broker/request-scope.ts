// What a request handler of a client connection may use (connection.ts hands each handler one):
// the broker's shared parts, the connection's socket, and the connection's ways to answer. Main
// thread only.

import { type Socket } from 'node:net';
import { type Logger } from '../logger.js';
import { type AlterIsrRequest, type AlterIsrResponse, type DecodedRequest } from '../protocol/index.js';
import { type Admin } from './admin.js';
import { type ClusterView } from './cluster-view.js';
import { type OwnerRouter } from './owner-router.js';
import { type PartitionPlacement } from './partition-placement.js';
import { type SegmentMappings } from './segment-mappings.js';

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

export interface RequestScope {
  readonly ctx: ConnectionContext;
  readonly socket: Socket;
  /** True once the client went away or the connection was closed: nothing more is written. */
  isClosed(): boolean;
  /** Writes a frame unless closed (then only calls `callback`). */
  write(frame: Uint8Array, callback?: () => void): void;
  /** Ends the connection after what is already written. */
  close(): void;
  /** Counts `work` as one request in flight until it settles, and writes its frame; a thrown error becomes an error frame. */
  track(request: DecodedRequest, work: Promise<Uint8Array | null>): void;
}
