// ClusterStatus (api key 20): what one node knows of the cluster — gossip members, the Raft
// controller, the registered brokers and where every partition is. Any thread. Answered by any
// node from its own view (a node cut off from the others shows what it last knew); `rill cluster
// status` prints it. A single-node broker answers with itself only and controller leader -1.

import { errorCode, errorMessage, nodeId, partition, topicInResponse } from './fields.js';
import { array, boolean, int64, nonNegativeInt32, nonNegativeInt64, optional, string, stringMap, struct, type Field } from './schema.js';

export type ClusterStatusRequest = Record<string, never>;

export interface ClusterMemberStatus {
  id: number;
  /** alive, suspect, dead or left, as gossip holds it here. */
  state: string;
  /** Gossip address, host:port (UDP). */
  address: string;
  host: string;
  /** broker, http, raft, ... */
  ports: Record<string, number>;
  rack?: string;
  incarnation: number;
  /** Load figures the member gossips: partitions, leaders. */
  load: Record<string, number>;
}

export interface ClusterBrokerStatus {
  id: number;
  host: string;
  port: number;
  rack?: string;
  /** Fenced: gossip declared it dead (or it left); it leads nothing until it returns. */
  fenced: boolean;
}

export interface ClusterPartitionStatus {
  topic: string;
  partition: number;
  replicas: number[];
  /** -1 while no replica is live. */
  leader: number;
  leaderEpoch: number;
}

export interface ClusterStatusResponse {
  errorCode: number;
  message?: string;
  nodeId: number;
  clusterId: string;
  /** The active controller as this node knows it; -1 when unknown. */
  controllerId: number;
  /** Raft term of this node: the controller epoch. */
  controllerTerm: number;
  /** This node's Raft role: leader, follower, pre-candidate, candidate (learners are followers). */
  raftRole: string;
  voters: number[];
  /** The last applied metadata log index. */
  metadataVersion: number;
  members: ClusterMemberStatus[];
  brokers: ClusterBrokerStatus[];
  partitions: ClusterPartitionStatus[];
  /** Gossip and Raft frames dropped here: malformed, foreignCluster, unsupportedVersion, ... */
  drops: Record<string, number>;
}

export const clusterStatusRequest: Field<ClusterStatusRequest> = struct<ClusterStatusRequest>({});

const counts = stringMap(int64);

export const clusterStatusResponse: Field<ClusterStatusResponse> = struct<ClusterStatusResponse>({
  errorCode,
  message: errorMessage,
  nodeId: nonNegativeInt32,
  clusterId: string(255),
  controllerId: nodeId,
  controllerTerm: nonNegativeInt64,
  raftRole: string(32),
  voters: array(nonNegativeInt32),
  metadataVersion: nonNegativeInt64,
  members: array(
    struct<ClusterMemberStatus>({
      id: nonNegativeInt32,
      state: string(16),
      address: string(300),
      host: string(255),
      ports: counts,
      rack: optional(string(255)),
      incarnation: nonNegativeInt64,
      load: counts,
    }),
  ),
  brokers: array(struct<ClusterBrokerStatus>({ id: nonNegativeInt32, host: string(255), port: nonNegativeInt32, rack: optional(string(255)), fenced: boolean })),
  partitions: array(struct<ClusterPartitionStatus>({ topic: topicInResponse, partition, replicas: array(nonNegativeInt32), leader: nodeId, leaderEpoch: nonNegativeInt32 })),
  drops: counts,
});
