// The cluster layer's public face: gossip membership, the Raft metadata quorum, the metadata state
// machine and its controller, and the seams (clock, random, transports) they are built on. The
// broker imports from here only. Main thread only, all of it, but node-isolation.ts (any thread).

export { systemClock, type Clock, type TimerHandle } from './clock.js';
export { seededRandom, systemRandom, type Random } from './random.js';
export { DropCounters, type DropReason } from './envelope.js';
export { VirtualClock } from './virtual-clock.js';
export { MemoryNetwork, type NetworkFaults } from './memory-network.js';

export { Swim, SWIM_DEFAULTS, type SwimOptions, type SwimStats } from './gossip/swim.js';
export type { Member, MemberEvent, MemberEventType } from './gossip/member-list.js';
export { MemberState, type MemberInfo } from './gossip/messages.js';
export { memoryGossipTransport, type GossipTransport } from './gossip/gossip-transport.js';
export { UdpTransport } from './gossip/udp-transport.js';

export { RaftServer, RAFT_SERVER_DEFAULTS, type RaftServerOptions, type RaftStateMachine, type RaftStatus } from './raft/raft-server.js';
export { RaftNode, type RaftRole, type RaftConfig, type RaftOutput } from './raft/raft-node.js';
export { FileRaftStorage, MemoryRaftStorage, type RaftStorage } from './raft/raft-storage.js';
export { memoryRaftTransport, type RaftTransport } from './raft/raft-transport.js';
export { TcpRaftTransport, MAX_RAFT_FRAME, type RaftPeerAddress } from './raft/tcp-transport.js';

export { MetadataState, NO_LEADER, encodeCommand, type MetadataCommand, type MetadataResult, type BrokerRecord, type TopicRecord, type PartitionRecord } from './metadata/metadata-state.js';
export { MetadataController } from './metadata/controller.js';
export { placePartitions, type PlacementBroker, type PlacementResult } from './metadata/placement.js';

export { NodeIsolation, cutError, isolatableGossipTransport, isolatableRaftTransport } from './node-isolation.js';
export { ClusterNode, type ClusterNodeOptions, type ClusterStatus, type BootstrapTopic } from './cluster-node.js';

/** Default controller voters: the first three node ids (or all, if fewer). */
export function defaultControllerVoters(nodeIds: readonly number[]): number[] {
  return [...nodeIds].sort((a, b) => a - b).slice(0, 3);
}
