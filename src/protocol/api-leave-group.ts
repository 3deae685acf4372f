// LeaveGroup (api key 14): members leave at once instead of waiting out their session timeout;
// the group rebalances without them. Any thread. One result per member, in request order.
//
// A static member is named by groupInstanceId (its memberId may be '' from an admin); a member
// whose groupInstanceId now belongs to another memberId is FENCED_INSTANCE_ID.

import { errorCode, errorMessage } from './fields.js';
import { groupId, groupInstanceId, memberId } from './group-fields.js';
import { array, optional, struct, type Field } from './schema.js';

export interface LeavingMember {
  memberId: string;
  groupInstanceId?: string;
}

export interface LeaveGroupRequest {
  groupId: string;
  members: LeavingMember[];
}

export interface LeftMember extends LeavingMember {
  /** NONE, UNKNOWN_MEMBER_ID or FENCED_INSTANCE_ID. */
  errorCode: number;
}

export interface LeaveGroupResponse {
  /** A whole-request error (e.g. GROUP_ID_NOT_FOUND); per-member errors are in members. */
  errorCode: number;
  message?: string;
  members: LeftMember[];
}

const leavingMember = { memberId, groupInstanceId: optional(groupInstanceId) };

export const leaveGroupRequest: Field<LeaveGroupRequest> = struct<LeaveGroupRequest>({
  groupId,
  members: array(struct<LeavingMember>(leavingMember), 1, 1024),
});

export const leaveGroupResponse: Field<LeaveGroupResponse> = struct<LeaveGroupResponse>({
  errorCode,
  message: errorMessage,
  members: array(struct<LeftMember>({ ...leavingMember, errorCode })),
});
