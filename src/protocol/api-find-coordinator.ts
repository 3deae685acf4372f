// FindCoordinator (api key 10): which broker coordinates a consumer group. Any thread.
//
// A group's coordinator is the leader of one partition of the internal topic __consumer_offsets:
// partition = abs(Java hashCode of groupId) % its partitions, as Kafka does. Clients send every other
// group request (JoinGroup .. DeleteGroups) to the node this names; a broker that is not (or no
// longer) the coordinator answers NOT_COORDINATOR and the client asks again.

import { errorCode, errorMessage, nodeId, partition } from './fields.js';
import { groupId } from './group-fields.js';
import { integer, string, struct, type Field } from './schema.js';

export interface FindCoordinatorRequest {
  groupId: string;
}

export interface FindCoordinatorResponse {
  errorCode: number;
  message?: string;
  /** The coordinator's node id; -1 on error. */
  nodeId: number;
  /** Its address; '' on error. */
  host: string;
  /** -1 on error. */
  port: number;
  /** The __consumer_offsets partition that holds the group. */
  partition: number;
}

export const findCoordinatorRequest: Field<FindCoordinatorRequest> = struct<FindCoordinatorRequest>({ groupId });

export const findCoordinatorResponse: Field<FindCoordinatorResponse> = struct<FindCoordinatorResponse>({
  errorCode,
  message: errorMessage,
  nodeId,
  host: string(255),
  port: integer(-1, 65535, 'a port or -1'),
  partition,
});
