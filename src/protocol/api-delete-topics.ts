// DeleteTopics (api key 3). Any thread. One result per requested topic, in request order.

import { errorCode, errorMessage, timeoutMs, topicInResponse, userTopic } from './fields.js';
import { array, optional, struct, unique, type Field } from './schema.js';

export interface DeleteTopicsRequest {
  /** Names of topics to delete; "__" topics cannot be deleted this way. */
  topics: string[];
  /** How long to wait for the deletion to reach the leaders; absent means the broker's default. */
  timeoutMs?: number;
}

export interface DeleteTopicResult {
  name: string;
  /** NONE, or e.g. UNKNOWN_TOPIC_OR_PARTITION. */
  errorCode: number;
  message?: string;
}

export interface DeleteTopicsResponse {
  topics: DeleteTopicResult[];
}

export const deleteTopicsRequest: Field<DeleteTopicsRequest> = struct<DeleteTopicsRequest>({
  topics: unique(array(userTopic, 1), (name) => name, 'topic'),
  timeoutMs: optional(timeoutMs),
});

export const deleteTopicsResponse: Field<DeleteTopicsResponse> = struct<DeleteTopicsResponse>({
  topics: array(struct<DeleteTopicResult>({ name: topicInResponse, errorCode, message: errorMessage })),
});
