// ListTopics (api key 4): the names of the cluster's topics. Any thread.

import { topicInResponse } from './fields.js';
import { array, boolean, nonNegativeInt32, optional, struct, type Field } from './schema.js';

export interface ListTopicsRequest {
  /** Include "__" topics. Absent means false. */
  includeInternal?: boolean;
}

export interface ListedTopic {
  name: string;
  partitions: number;
  internal: boolean;
}

export interface ListTopicsResponse {
  /** Sorted by name. */
  topics: ListedTopic[];
}

export const listTopicsRequest: Field<ListTopicsRequest> = struct<ListTopicsRequest>({
  includeInternal: optional(boolean),
});

export const listTopicsResponse: Field<ListTopicsResponse> = struct<ListTopicsResponse>({
  topics: array(struct<ListedTopic>({ name: topicInResponse, partitions: nonNegativeInt32, internal: boolean })),
});
