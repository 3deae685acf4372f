// Field checks shared by several APIs: topic names, partitions, offsets, error codes. Any thread.

import { Errors } from '../errors.js';
import { int16, integer, nonNegativeInt32, nonNegativeInt64, optional, show, string, stringMap, Violation, type Field } from './schema.js';
import { MAX_TOPIC_NAME_LENGTH, topicNameProblem, type TopicNameRules } from './topic-name.js';

const INT32_MAX = 0x7fff_ffff;

function topicName(rules: TopicNameRules): Field<string> {
  return (value) => {
    if (typeof value !== 'string') throw new Violation(`must be a topic name (a string), got ${show(value)}`);
    const problem = topicNameProblem(value, rules);
    if (problem !== undefined) throw new Violation(`${problem}, got ${show(value)}`, Errors.INVALID_TOPIC_EXCEPTION);
    return value;
  };
}

/** A topic in a request that reads: internal ("__") names allowed. */
export const topic = topicName({ allowInternal: true });
/** A topic in a request that creates, deletes or writes: internal names refused. */
export const userTopic = topicName({ allowInternal: false });
/** A topic in a response: the broker is trusted to name topics; only the type and length are checked. */
export const topicInResponse = string(MAX_TOPIC_NAME_LENGTH, 1);

export const partition = nonNegativeInt32;
export const errorCode = int16;
/** A node id, or -1 for none (e.g. a partition without a leader). */
export const nodeId = integer(-1, INT32_MAX, 'a node id (-1 or a non-negative int32)');
export const offset = nonNegativeInt64;
/** An offset, or -1 where there is none (e.g. in a failed partition's result). */
export const offsetOrNone = integer(-1, Number.MAX_SAFE_INTEGER, 'an offset or -1');
/** Milliseconds since the epoch, or -1 where there is none. */
export const timestampOrNone = integer(-1, Number.MAX_SAFE_INTEGER, 'a timestamp in ms or -1');
export const timeoutMs = nonNegativeInt32;
/** Free-text error messages in responses. */
export const errorMessage = optional(string(0xffff));
/** Topic configs: names to string values, as in Kafka ("retention.ms": "86400000"). */
export const configs = stringMap(string(0xffff));
