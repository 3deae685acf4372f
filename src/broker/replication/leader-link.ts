// A follower's line to one leader broker: the two requests replica fetchers send. Any thread (an
// interface); tcp-leader-link.ts speaks it over the binary protocol, tests also in memory.

import type { OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse, ReplicaFetchRequest, ReplicaFetchResponse } from '../../protocol/index.js';

export interface ReplicaFetchAnswer {
  header: ReplicaFetchResponse;
  /** Each partition's record set, in header order (views: valid until the next call). */
  recordSets: Uint8Array[];
}

export interface LeaderLink {
  replicaFetch(request: ReplicaFetchRequest): Promise<ReplicaFetchAnswer>;
  offsetForLeaderEpoch(request: OffsetForLeaderEpochRequest): Promise<OffsetForLeaderEpochResponse>;
  close(): void;
}
