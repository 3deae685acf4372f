// The one table of error codes, shared by storage, the binary protocol, HTTP and the client.
// Any thread. Only codes (and plain details) cross threads and the network, never Error objects.
//
// Numbers follow Kafka's error codes where Kafka has the same error, so that a Kafka wire
// adapter can pass them through; Rill's own codes start at 1000. A code is never reused or
// renumbered once released; retired codes stay in the table.

export interface ErrorSpec {
  /** Stable wire code. */
  readonly code: number;
  /** Stable name, e.g. 'OFFSET_OUT_OF_RANGE'; HTTP puts it in `{ "error": ... }`. */
  readonly type: string;
  /** Default message, used when the thrower has nothing more specific. */
  readonly message: string;
  /** HTTP status for this error. */
  readonly httpStatus: number;
  /** Whether the same request may succeed if retried later, unchanged. */
  readonly retriable: boolean;
}

function spec(code: number, type: string, httpStatus: number, retriable: boolean, message: string): ErrorSpec {
  return Object.freeze({ code, type, message, httpStatus, retriable });
}

export const Errors = Object.freeze({
  UNKNOWN_SERVER_ERROR: spec(-1, 'UNKNOWN_SERVER_ERROR', 500, false, 'Unexpected internal error'),
  OFFSET_OUT_OF_RANGE: spec(1, 'OFFSET_OUT_OF_RANGE', 416, false, 'The offset is outside the range held by the partition'),
  CORRUPT_MESSAGE: spec(2, 'CORRUPT_MESSAGE', 500, false, 'Stored data failed its length or CRC check'),
  UNKNOWN_TOPIC_OR_PARTITION: spec(3, 'UNKNOWN_TOPIC_OR_PARTITION', 404, true, 'This server does not host this topic-partition'),
  INVALID_FETCH_SIZE: spec(4, 'INVALID_FETCH_SIZE', 400, false, 'The requested fetch size is invalid'),
  LEADER_NOT_AVAILABLE: spec(5, 'LEADER_NOT_AVAILABLE', 503, true, 'The partition has no leader right now'),
  NOT_LEADER_OR_FOLLOWER: spec(6, 'NOT_LEADER_OR_FOLLOWER', 421, true, 'This server is not the leader of the partition'),
  REQUEST_TIMED_OUT: spec(7, 'REQUEST_TIMED_OUT', 504, true, 'The request timed out'),
  MESSAGE_TOO_LARGE: spec(10, 'MESSAGE_TOO_LARGE', 413, false, 'The record batch is larger than the maximum allowed'),
  STALE_CONTROLLER_EPOCH: spec(11, 'STALE_CONTROLLER_EPOCH', 409, false, 'The request came from a controller whose epoch a newer controller has superseded'),
  NETWORK_EXCEPTION: spec(13, 'NETWORK_EXCEPTION', 503, true, 'The connection to the broker failed or was lost before a response was received'),
  COORDINATOR_LOAD_IN_PROGRESS: spec(14, 'COORDINATOR_LOAD_IN_PROGRESS', 503, true, 'The coordinator is loading the group\'s state; retry'),
  COORDINATOR_NOT_AVAILABLE: spec(15, 'COORDINATOR_NOT_AVAILABLE', 503, true, 'The group coordinator is not available; retry'),
  NOT_COORDINATOR: spec(16, 'NOT_COORDINATOR', 421, true, 'This broker is not the coordinator of the group; find the coordinator again'),
  INVALID_TOPIC_EXCEPTION: spec(17, 'INVALID_TOPIC_EXCEPTION', 400, false, 'The topic name is invalid'),
  NOT_ENOUGH_REPLICAS: spec(19, 'NOT_ENOUGH_REPLICAS', 503, true, 'Fewer in-sync replicas than min.insync.replicas'),
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: spec(20, 'NOT_ENOUGH_REPLICAS_AFTER_APPEND', 503, true, 'The records were appended, but the in-sync replicas fell below min.insync.replicas before they were replicated'),
  ILLEGAL_GENERATION: spec(22, 'ILLEGAL_GENERATION', 409, false, 'The generation id is not the group\'s current generation: rejoin the group'),
  INCONSISTENT_GROUP_PROTOCOL: spec(23, 'INCONSISTENT_GROUP_PROTOCOL', 409, false, 'The member\'s protocol type or assignors do not match the group\'s'),
  INVALID_GROUP_ID: spec(24, 'INVALID_GROUP_ID', 400, false, 'The group id is invalid'),
  UNKNOWN_MEMBER_ID: spec(25, 'UNKNOWN_MEMBER_ID', 409, false, 'The member id is not a member of the group: join again as a new member'),
  INVALID_SESSION_TIMEOUT: spec(26, 'INVALID_SESSION_TIMEOUT', 400, false, 'The session timeout is outside the range the broker allows'),
  REBALANCE_IN_PROGRESS: spec(27, 'REBALANCE_IN_PROGRESS', 409, true, 'The group is rebalancing: join again'),
  UNSUPPORTED_VERSION: spec(35, 'UNSUPPORTED_VERSION', 400, false, 'The API or API version is not supported by this server'),
  TOPIC_ALREADY_EXISTS: spec(36, 'TOPIC_ALREADY_EXISTS', 409, false, 'The topic already exists'),
  INVALID_PARTITIONS: spec(37, 'INVALID_PARTITIONS', 400, false, 'The number of partitions is invalid'),
  INVALID_REPLICATION_FACTOR: spec(38, 'INVALID_REPLICATION_FACTOR', 400, false, 'The replication factor is invalid for this cluster'),
  INVALID_REPLICA_ASSIGNMENT: spec(39, 'INVALID_REPLICA_ASSIGNMENT', 400, false, 'The replica assignment is invalid: replicas must be distinct, registered, live brokers'),
  INVALID_CONFIG: spec(40, 'INVALID_CONFIG', 400, false, 'The configuration is invalid'),
  NOT_CONTROLLER: spec(41, 'NOT_CONTROLLER', 421, true, 'This node is not the active controller; details carry the leader if known'),
  INVALID_REQUEST: spec(42, 'INVALID_REQUEST', 400, false, 'The request is malformed'),
  OUT_OF_ORDER_SEQUENCE_NUMBER: spec(45, 'OUT_OF_ORDER_SEQUENCE_NUMBER', 409, false, 'The batch does not follow the last sequence number the broker holds for this producer'),
  INVALID_PRODUCER_EPOCH: spec(47, 'INVALID_PRODUCER_EPOCH', 409, false, 'The producer epoch is older than the one the broker holds: another instance of this producer fenced it'),
  STORAGE_ERROR: spec(56, 'STORAGE_ERROR', 503, true, 'The disk failed the operation'),
  UNKNOWN_PRODUCER_ID: spec(59, 'UNKNOWN_PRODUCER_ID', 409, false, 'The broker holds no state for this producer id: it expired or was never seen; bump the epoch and restart sequences'),
  REASSIGNMENT_IN_PROGRESS: spec(60, 'REASSIGNMENT_IN_PROGRESS', 409, false, 'A rebalance is already moving partitions: wait for it (rill cluster reassignments) or cancel it'),
  NON_EMPTY_GROUP: spec(68, 'NON_EMPTY_GROUP', 409, false, 'The group still has members'),
  GROUP_ID_NOT_FOUND: spec(69, 'GROUP_ID_NOT_FOUND', 404, false, 'The group does not exist'),
  FENCED_LEADER_EPOCH: spec(74, 'FENCED_LEADER_EPOCH', 409, true, 'The leader epoch in the request is older than the replica\'s: refresh metadata'),
  UNKNOWN_LEADER_EPOCH: spec(75, 'UNKNOWN_LEADER_EPOCH', 409, true, 'The leader epoch in the request is newer than the replica\'s: it has not learnt of the new leader yet; retry'),
  UNSUPPORTED_COMPRESSION_TYPE: spec(76, 'UNSUPPORTED_COMPRESSION_TYPE', 400, false, 'The compression codec is not supported'),
  MEMBER_ID_REQUIRED: spec(79, 'MEMBER_ID_REQUIRED', 409, true, 'Join again with the member id given in this answer'),
  PREFERRED_LEADER_NOT_AVAILABLE: spec(80, 'PREFERRED_LEADER_NOT_AVAILABLE', 503, true, 'The preferred leader is not alive or not in sync'),
  FENCED_INSTANCE_ID: spec(82, 'FENCED_INSTANCE_ID', 409, false, 'Another member with the same groupInstanceId joined the group: this one is fenced'),
  ELIGIBLE_LEADERS_NOT_AVAILABLE: spec(83, 'ELIGIBLE_LEADERS_NOT_AVAILABLE', 503, true, 'No in-sync replica is alive to lead the partition (unclean.leader.election.enable is off)'),
  ELECTION_NOT_NEEDED: spec(84, 'ELECTION_NOT_NEEDED', 409, false, 'The partition is already led by the replica the election would choose'),
  NO_REASSIGNMENT_IN_PROGRESS: spec(85, 'NO_REASSIGNMENT_IN_PROGRESS', 409, false, 'No partition is being moved'),
  INVALID_RECORD: spec(87, 'INVALID_RECORD', 400, false, 'The record batch is invalid'),
  LOG_CLOSED: spec(1000, 'LOG_CLOSED', 503, true, 'The partition log is closed'),
  LOG_TRUNCATED: spec(1001, 'LOG_TRUNCATED', 503, true, 'The records were truncated away before they became durable'),
  FRAME_TOO_LARGE: spec(1002, 'FRAME_TOO_LARGE', 413, false, 'The protocol frame is larger than max.frame.bytes'),
  // Raised by the client itself, never sent by a broker.
  CLIENT_DISCONNECTED: spec(1003, 'CLIENT_DISCONNECTED', 503, false, 'The client is not connected: connect() it first, or it was disconnected'),
  // HTTP API (src/http): failures that only an HTTP request can have.
  TOO_MANY_LONG_POLLS: spec(1010, 'TOO_MANY_LONG_POLLS', 429, true, 'Too many long-polling fetches are waiting; retry later or with waitMs=0'),
  UNSUPPORTED_MEDIA_TYPE: spec(1011, 'UNSUPPORTED_MEDIA_TYPE', 415, false, 'The request body has a content type this endpoint does not accept'),
  REQUEST_BODY_TOO_LARGE: spec(1012, 'REQUEST_BODY_TOO_LARGE', 413, false, 'The request body is larger than http.max.body.bytes'),
  NOT_FOUND: spec(1013, 'NOT_FOUND', 404, false, 'No such endpoint'),
  METHOD_NOT_ALLOWED: spec(1014, 'METHOD_NOT_ALLOWED', 405, false, 'The endpoint does not support this method'),
  UNKNOWN_GROUP_MEMBER: spec(1015, 'UNKNOWN_GROUP_MEMBER', 404, false, 'No such HTTP group member on this node: deleted, expired, or created on another node'),
  GROUP_MEMBER_EXISTS: spec(1016, 'GROUP_MEMBER_EXISTS', 409, false, 'The group already has an HTTP member of this name on this node'),
  TOO_MANY_GROUP_MEMBERS: spec(1017, 'TOO_MANY_GROUP_MEMBERS', 429, true, 'This node holds http.max.group.members HTTP group members already'),
  NOT_SUBSCRIBED: spec(1018, 'NOT_SUBSCRIBED', 409, false, 'The HTTP group member has no subscription: subscribe it first'),
  // Consumer groups: 1020-1029.
  NOT_GROUP_LEADER: spec(1020, 'NOT_GROUP_LEADER', 409, false, 'Only the group\'s leader may send assignments in SyncGroup'),
  INVALID_ASSIGNMENT: spec(1021, 'INVALID_ASSIGNMENT', 400, false, 'The assignment is malformed: a partition given twice, or a member that is not in the generation'),
  PARTITION_NOT_ASSIGNED: spec(1022, 'PARTITION_NOT_ASSIGNED', 409, false, 'The member commits an offset for a partition that is not assigned to it'),
  // Replication: 1050-1059.
  TOO_MANY_PENDING_ACKS: spec(1050, 'TOO_MANY_PENDING_ACKS', 503, true, 'Too many acks=all produces are waiting for replication on this partition; retry'),
  NOT_IN_ISR: spec(1051, 'NOT_IN_ISR', 409, false, 'The change would put a replica that is not caught up, or not assigned, into the in-sync replica set'),
});

export type ErrorType = keyof typeof Errors;

const byCode = new Map<number, ErrorSpec>(Object.values(Errors).map((s) => [s.code, s]));

/** The spec for a wire code; unknown codes map to UNKNOWN_SERVER_ERROR. */
export function errorSpecByCode(code: number): ErrorSpec {
  return byCode.get(code) ?? Errors.UNKNOWN_SERVER_ERROR;
}

/** Plain, serializable facts that go with an error (offset ranges, file positions, errno names). */
export type ErrorDetails = Readonly<Record<string, string | number | boolean | null>>;

/**
 * An error with a code from the table. `code` and `type` are stable; `message` is for people.
 * Shaped like kafkajs's errors (`type`, `code`, `retriable`) so its users feel at home.
 */
export class RillError extends Error {
  readonly code: number;
  readonly type: string;
  readonly retriable: boolean;
  readonly httpStatus: number;
  readonly details: ErrorDetails;

  constructor(spec: ErrorSpec, message?: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message ?? spec.message, options);
    this.name = 'RillError';
    this.code = spec.code;
    this.type = spec.type;
    this.retriable = spec.retriable;
    this.httpStatus = spec.httpStatus;
    this.details = details;
  }

  /** What crosses threads and the network. */
  toJSON(): { error: string; code: number; message: string; details: ErrorDetails } {
    return { error: this.type, code: this.code, message: this.message, details: this.details };
  }
}

export function isRillError(error: unknown, spec?: ErrorSpec): error is RillError {
  return error instanceof RillError && (spec === undefined || error.code === spec.code);
}
