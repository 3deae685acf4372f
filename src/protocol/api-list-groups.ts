// ListGroups (api key 17): the groups this broker coordinates, with their state. Any thread.

import { errorCode, errorMessage } from './fields.js';
import { groupId, groupState } from './group-fields.js';
import { array, optional, string, struct, type Field } from './schema.js';

export interface ListGroupsRequest {
  /** Only groups in one of these states ('Stable', 'Empty', ...); absent: all. */
  states?: string[];
}

export interface ListedGroup {
  groupId: string;
  /** '' for a group that only has committed offsets. */
  protocolType: string;
  state: string;
}

export interface ListGroupsResponse {
  errorCode: number;
  message?: string;
  groups: ListedGroup[];
}

export const listGroupsRequest: Field<ListGroupsRequest> = struct<ListGroupsRequest>({ states: optional(array(groupState)) });

export const listGroupsResponse: Field<ListGroupsResponse> = struct<ListGroupsResponse>({
  errorCode,
  message: errorMessage,
  groups: array(struct<ListedGroup>({ groupId, protocolType: string(255), state: groupState })),
});
