// A LeaderLink over the binary protocol: one client connection from a follower worker to one
// leader broker, opened on first use and again after it fails. Worker thread only (the follower's
// owner; each owner worker has its own links, so fetched bytes land where the replica's log is).
//
// Reuses the client's Connection (framing, pipelining, deadlines): a ReplicaFetch is a request
// like any other, its deadline its long poll plus requestTimeoutMs.

import { Connection } from '../../client/connection.js';
import { DEFAULT_MAX_FRAME_BYTES, ApiKeys, type OffsetForLeaderEpochRequest, type OffsetForLeaderEpochResponse, type ReplicaFetchRequest } from '../../protocol/index.js';
import { Errors, RillError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { LeaderLink, ReplicaFetchAnswer } from './leader-link.js';

export interface BrokerAddress {
  host: string;
  port: number;
}

export interface TcpLeaderLinkOptions {
  clientId: string;
  logger: Logger;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  maxFrameBytes?: number;
  /** Fault tests: whether an injected network cut separates this node from the leader now. */
  isCut?: () => boolean;
}

export class TcpLeaderLink implements LeaderLink {
  private connection: Promise<Connection> | null = null;
  private closed = false;

  constructor(
    private readonly address: () => BrokerAddress | undefined,
    private readonly options: TcpLeaderLinkOptions,
  ) {}

  private connect(): Promise<Connection> {
    if (this.closed) return Promise.reject(new RillError(Errors.CLIENT_DISCONNECTED, 'leader link closed'));
    if (this.connection !== null) return this.connection;
    const address = this.address();
    if (address === undefined) return Promise.reject(new RillError(Errors.LEADER_NOT_AVAILABLE, 'no address known for the leader'));
    const opening = Connection.open({
      host: address.host,
      port: address.port,
      clientId: this.options.clientId,
      connectionTimeoutMs: this.options.connectionTimeoutMs ?? 5_000,
      requestTimeoutMs: this.options.requestTimeoutMs ?? 30_000,
      maxFrameBytes: this.options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      logger: this.options.logger,
    });
    this.connection = opening;
    opening.then(
      (c) => c.onClose(() => {
        if (this.connection === opening) this.connection = null;
      }),
      () => {
        if (this.connection === opening) this.connection = null;
      },
    );
    return opening;
  }

  async replicaFetch(request: ReplicaFetchRequest): Promise<ReplicaFetchAnswer> {
    this.failIfCut();
    const c = await this.connect();
    const response = await c.request(ApiKeys.ReplicaFetch, request, undefined, request.maxWaitMs + (this.options.requestTimeoutMs ?? 30_000));
    this.failIfCut();
    const recordSets: Uint8Array[] = [];
    let at = 0;
    for (const p of response.header.partitions) {
      recordSets.push(response.body.subarray(at, at + p.bytes));
      at += p.bytes;
    }
    return { header: response.header, recordSets };
  }

  async offsetForLeaderEpoch(request: OffsetForLeaderEpochRequest): Promise<OffsetForLeaderEpochResponse> {
    this.failIfCut();
    const c = await this.connect();
    const answer = (await c.request(ApiKeys.OffsetForLeaderEpoch, request)).header;
    this.failIfCut();
    return answer;
  }

  /**
   * Across an injected cut a request fails as over a lost connection: the connection is dropped,
   * and an answer that arrives once the cut began (a long poll sent before it) is lost with it.
   */
  private failIfCut(): void {
    if (this.options.isCut?.() !== true) return;
    void this.connection?.then((c) => c.close(), () => {});
    this.connection = null;
    throw new RillError(Errors.NETWORK_EXCEPTION, 'the network to the leader is cut (injected fault)');
  }

  close(): void {
    this.closed = true;
    void this.connection?.then((c) => c.close(), () => {});
    this.connection = null;
  }
}
