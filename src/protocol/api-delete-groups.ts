// DeleteGroups (api key 19): forget groups and their committed offsets. Any thread. Only a group
// without members can be deleted (NON_EMPTY_GROUP otherwise); the deletion is written to
// __consumer_offsets as tombstones, so it survives restarts and compaction drops the old records.

import { errorCode, errorMessage } from './fields.js';
import { groupId } from './group-fields.js';
import { array, struct, unique, type Field } from './schema.js';

export interface DeleteGroupsRequest {
  groups: string[];
}

export interface DeletedGroup {
  groupId: string;
  /** NONE, GROUP_ID_NOT_FOUND or NON_EMPTY_GROUP. */
  errorCode: number;
  message?: string;
}

export interface DeleteGroupsResponse {
  groups: DeletedGroup[];
}

export const deleteGroupsRequest: Field<DeleteGroupsRequest> = struct<DeleteGroupsRequest>({
  groups: unique(array(groupId, 1), (g) => g, 'group'),
});

export const deleteGroupsResponse: Field<DeleteGroupsResponse> = struct<DeleteGroupsResponse>({
  groups: array(struct<DeletedGroup>({ groupId, errorCode, message: errorMessage })),
});
