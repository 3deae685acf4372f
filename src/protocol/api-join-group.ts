// JoinGroup (api key 11): a member asks to be part of the group's next generation. Any thread.
//
// The coordinator holds the answer until every known member has rejoined (or the rebalance
// timeout has passed, and the stragglers are dropped), then answers all of them at once with the
// new generation. The leader's answer lists every member with its subscription; the leader runs
// the assignor and sends the result in SyncGroup.
//
// A first join carries memberId ''. Without a groupInstanceId it is answered MEMBER_ID_REQUIRED
// with a fresh memberId, and the member joins again with it (Kafka's KIP-394: a member that never
// comes back leaves nothing behind). A static member (groupInstanceId) gets its id at once; if it
// rejoins a stable group with an unchanged subscription, it takes its old place (and partitions)
// without a rebalance, and the answer has skipAssignment: true.

import { errorCode, errorMessage } from './fields.js';
import { clientId, generationId, groupId, groupInstanceId, memberId, protocolName, protocolType, subscription, type Subscription } from './group-fields.js';
import { array, boolean, integer, optional, string, struct, unique, type Field } from './schema.js';

/** Kafka's bounds of session.timeout.ms (group.min/max.session.timeout.ms): 6 s .. 30 min. */
export const MIN_SESSION_TIMEOUT_MS = 1_000;
export const MAX_SESSION_TIMEOUT_MS = 30 * 60 * 1000;

export interface JoinGroupProtocol {
  /** An assignor name: 'range', 'roundrobin', 'cooperative-sticky', ... */
  name: string;
}

export interface JoinGroupRequest {
  groupId: string;
  memberId: string;
  groupInstanceId?: string;
  /** Free text for DescribeGroups. */
  clientId?: string;
  /** Evicted after this long without a heartbeat. */
  sessionTimeoutMs: number;
  /** How long the coordinator waits for all members to rejoin during a rebalance. */
  rebalanceTimeoutMs: number;
  /** 'consumer' for consumer groups; all members of a group must agree. */
  protocolType: string;
  /** The assignors the member supports, most preferred first; the group picks one all support. */
  protocols: JoinGroupProtocol[];
  subscription: Subscription;
}

export interface JoinGroupMember {
  memberId: string;
  groupInstanceId?: string;
  subscription: Subscription;
}

export interface JoinGroupResponse {
  /** NONE, or e.g. MEMBER_ID_REQUIRED, UNKNOWN_MEMBER_ID, INCONSISTENT_GROUP_PROTOCOL, INVALID_SESSION_TIMEOUT. */
  errorCode: number;
  message?: string;
  /** The new generation; -1 on error. */
  generationId: number;
  /** The protocol (assignor) chosen for the generation; '' on error. */
  protocolName: string;
  leader: string;
  /** The member's id (also with MEMBER_ID_REQUIRED: the id to join with). */
  memberId: string;
  /** Only in the leader's answer: every member of the generation. */
  members: JoinGroupMember[];
  /** A static member that took its old place: do not assign, just SyncGroup for the current assignment. */
  skipAssignment?: boolean;
}

const timeout = integer(MIN_SESSION_TIMEOUT_MS, MAX_SESSION_TIMEOUT_MS, `a timeout in ms (${MIN_SESSION_TIMEOUT_MS}..${MAX_SESSION_TIMEOUT_MS})`);

export const joinGroupRequest: Field<JoinGroupRequest> = struct<JoinGroupRequest>({
  groupId,
  memberId,
  groupInstanceId: optional(groupInstanceId),
  clientId: optional(clientId),
  sessionTimeoutMs: integer(0, 0x7fff_ffff, 'a session timeout in ms'),
  rebalanceTimeoutMs: timeout,
  protocolType,
  protocols: unique(array(struct<JoinGroupProtocol>({ name: protocolName }), 1, 16), (p) => p.name, 'protocol'),
  subscription,
});

export const joinGroupResponse: Field<JoinGroupResponse> = struct<JoinGroupResponse>({
  errorCode,
  message: errorMessage,
  generationId,
  protocolName: string(255),
  leader: memberId,
  memberId,
  members: array(struct<JoinGroupMember>({ memberId, groupInstanceId: optional(groupInstanceId), subscription })),
  skipAssignment: optional(boolean),
});
