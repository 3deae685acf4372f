// Heartbeat (api key 13): a member says it is alive. Any thread.
//
// Sent every heartbeat interval (a third of the session timeout by default). The answer is how a
// member learns of a rebalance: REBALANCE_IN_PROGRESS means "join again now"; ILLEGAL_GENERATION
// and UNKNOWN_MEMBER_ID mean it was left out of the group and must rejoin (as a new member for the
// latter); FENCED_INSTANCE_ID that another process took its groupInstanceId.

import { errorCode, errorMessage } from './fields.js';
import { generationId, groupId, groupInstanceId, memberId } from './group-fields.js';
import { optional, struct, type Field } from './schema.js';

export interface HeartbeatRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId?: string;
}

export interface HeartbeatResponse {
  errorCode: number;
  message?: string;
}

export const heartbeatRequest: Field<HeartbeatRequest> = struct<HeartbeatRequest>({
  groupId,
  generationId,
  memberId,
  groupInstanceId: optional(groupInstanceId),
});

export const heartbeatResponse: Field<HeartbeatResponse> = struct<HeartbeatResponse>({ errorCode, message: errorMessage });
