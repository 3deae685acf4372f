// The way a group consumer talks to its group's coordinator: FindCoordinator once, then every
// group request (JoinGroup .. OffsetFetch) to the node it named. Application thread.
//
// The coordinator is the owner of one __consumer_offsets partition, so it moves when that
// partition does (a worker replaced, a node lost). A request answered NOT_COORDINATOR or
// COORDINATOR_NOT_AVAILABLE, or one whose connection broke, forgets the coordinator and asks
// again, with the client's retry backoff; COORDINATOR_LOAD_IN_PROGRESS (the owner is replaying the
// partition after a restart) waits and retries the same node. Every other answer, errors included,
// goes back to the caller: the membership state machine decides what ILLEGAL_GENERATION means.
//
// `GroupChannel` is the seam: unit tests drive the membership and the committer with a fake.

import { Errors, RillError } from '../../errors.js';
import { ApiKeys, type ApiKey, type RequestHeaders, type ResponseHeaders } from '../../protocol/index.js';
import { type Cluster } from '../cluster.js';
import { type Connection } from '../connection.js';
import { errorFromCode, isRetriable } from '../errors.js';

export type GroupApi = typeof ApiKeys.JoinGroup | typeof ApiKeys.SyncGroup | typeof ApiKeys.Heartbeat | typeof ApiKeys.LeaveGroup | typeof ApiKeys.OffsetCommit | typeof ApiKeys.OffsetFetch;

export interface GroupChannel {
  /**
   * Sends a group request to the coordinator and resolves with its answer (whose errorCode the
   * caller reads). Rejects only when the coordinator could not be reached within the retries.
   * `timeoutMs` bounds the answer (a JoinGroup is held up to the rebalance timeout).
   */
  call<K extends GroupApi>(apiKey: K, header: RequestHeaders[K], timeoutMs?: number): Promise<ResponseHeaders[K]>;
  /** Forgets the coordinator (the next call looks it up again). */
  reset(): void;
}

/** Codes that mean "the coordinator is elsewhere, or not ready": find it again. */
export function isCoordinatorMoved(code: number): boolean {
  return code === Errors.NOT_COORDINATOR.code || code === Errors.COORDINATOR_NOT_AVAILABLE.code;
}

export class CoordinatorChannel implements GroupChannel {
  private readonly cluster: Cluster;
  private readonly groupId: string;
  private coordinator: number | null = null;
  private finding: Promise<number> | null = null;
  private closed = false;

  constructor(cluster: Cluster, groupId: string) {
    this.cluster = cluster;
    this.groupId = groupId;
  }

  reset(): void {
    this.coordinator = null;
  }

  /** Stops retrying: calls in progress end with their last error. */
  close(): void {
    this.closed = true;
  }

  open(): void {
    this.closed = false;
  }

  /** The coordinator's node id, once known. */
  get nodeId(): number | null {
    return this.coordinator;
  }

  async call<K extends GroupApi>(apiKey: K, header: RequestHeaders[K], timeoutMs?: number): Promise<ResponseHeaders[K]> {
    return this.cluster.retry.run(
      async () => {
        const connection = await this.connection();
        let response: ResponseHeaders[K];
        try {
          // A group request's frame-level errors are bugs or a lost connection; both retry here.
          response = (await connection.request(apiKey, header, undefined, timeoutMs === undefined ? undefined : timeoutMs + this.cluster.requestTimeoutMs)).header as ResponseHeaders[K];
        } catch (error) {
          if (isRetriable(error)) this.reset();
          throw error;
        }
        const code = (response as { errorCode: number }).errorCode;
        if (isCoordinatorMoved(code)) {
          this.reset();
          throw errorFromCode(code, (response as { message?: string }).message, { groupId: this.groupId });
        }
        if (code === Errors.COORDINATOR_LOAD_IN_PROGRESS.code) throw errorFromCode(code, (response as { message?: string }).message, { groupId: this.groupId });
        return response;
      },
      { stopped: () => this.closed },
    );
  }

  private async connection(): Promise<Connection> {
    const nodeId = this.coordinator ?? (await (this.finding ??= this.find().finally(() => (this.finding = null))));
    return this.cluster.connection(nodeId);
  }

  private async find(): Promise<number> {
    const connection = await this.cluster.anyConnection();
    const { header } = await connection.request(ApiKeys.FindCoordinator, { groupId: this.groupId });
    if (header.errorCode !== 0) throw errorFromCode(header.errorCode, header.message, { groupId: this.groupId });
    if (header.nodeId < 0) throw new RillError(Errors.COORDINATOR_NOT_AVAILABLE, `no coordinator known for group '${this.groupId}'`, { groupId: this.groupId });
    this.coordinator = header.nodeId;
    return header.nodeId;
  }
}
