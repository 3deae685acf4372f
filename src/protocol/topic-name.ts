// Topic name rules, Kafka's (org.apache.kafka.common.internals.Topic). Any thread.
//
//   - 1 to 249 characters (Kafka's limit): a topic's partitions are directories named after it with
//     a suffix, and common file systems stop file names at 255 bytes.
//   - Only ASCII letters, digits, '.', '_' and '-'.
//   - Not "." or "..", which are directory names of their own.
//
// Names starting with "__" are reserved for internal topics (consumer offsets, queue state). Clients
// may read them — Metadata, ListTopics, DescribeTopics, ListOffsets and Fetch accept them — but may
// not create, delete or produce to them: those requests fail with INVALID_TOPIC_EXCEPTION. The broker
// writes internal topics itself, never through the binary protocol.
//
// Like Kafka, '.' and '_' in names map to the same metric names, so the broker should refuse a new
// topic whose collisionKey() equals an existing topic's; that needs the topic registry and is not
// checked here.

import { Errors, RillError } from '../errors.js';

export const MAX_TOPIC_NAME_LENGTH = 249;
export const INTERNAL_TOPIC_PREFIX = '__';

const LEGAL = /^[a-zA-Z0-9._-]+$/;

export interface TopicNameRules {
  /** Accept names starting with "__". Default false. */
  allowInternal?: boolean;
}

/** What is wrong with a topic name, or undefined when it is valid. */
export function topicNameProblem(name: unknown, rules: TopicNameRules = {}): string | undefined {
  if (typeof name !== 'string') return 'must be a string';
  if (name.length === 0) return 'must not be empty';
  if (name.length > MAX_TOPIC_NAME_LENGTH) {
    return `must be at most ${MAX_TOPIC_NAME_LENGTH} characters, got ${name.length}`;
  }
  if (name === '.' || name === '..') return `must not be "${name}"`;
  if (!LEGAL.test(name)) return 'may contain only ASCII letters, digits, ".", "_" and "-"';
  if (rules.allowInternal !== true && isInternalTopicName(name)) {
    return `must not start with "${INTERNAL_TOPIC_PREFIX}", which is reserved for internal topics`;
  }
  return undefined;
}

export function isValidTopicName(name: unknown, rules: TopicNameRules = {}): name is string {
  return topicNameProblem(name, rules) === undefined;
}

export function isInternalTopicName(name: string): boolean {
  return name.startsWith(INTERNAL_TOPIC_PREFIX);
}

/** Throws INVALID_TOPIC_EXCEPTION naming the problem. */
export function assertValidTopicName(name: unknown, rules: TopicNameRules = {}): asserts name is string {
  const problem = topicNameProblem(name, rules);
  if (problem !== undefined) {
    throw new RillError(Errors.INVALID_TOPIC_EXCEPTION, `Topic name ${describe(name)} ${problem}`, {
      topic: typeof name === 'string' ? name.slice(0, MAX_TOPIC_NAME_LENGTH + 1) : null,
    });
  }
}

/** Two names with the same key collide in metric names ('.' and '_' are interchangeable there). */
export function collisionKey(name: string): string {
  return name.replaceAll('.', '_');
}

function describe(name: unknown): string {
  if (typeof name !== 'string') return `(a ${name === null ? 'nil' : typeof name})`;
  return name.length <= 60 ? JSON.stringify(name) : `${JSON.stringify(name.slice(0, 60))}…`;
}
