// Parsers for flag values, in commander's shape `(value, previous) => parsed`. Main thread.
//
// A bad value throws commander's InvalidArgumentError, which commander turns into the usage error
// `rill: error: option '--partitions <n>' argument 'x' is invalid. <why>` (exit 2), before any
// connection is made: a typo should cost no round trip to the broker.

import { InvalidArgumentError } from 'commander';
import { assertValidTopicName } from '../protocol/index.js';

/** A whole number from `min` to `max` (decimal digits only: "1e3", "0x10", " 5" are refused). */
export function integerParser(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError(`must be a whole number${rangeText(min, max)}.`);
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be a whole number${rangeText(min, max)}.`);
    return n;
  };
}

function rangeText(min: number, max: number): string {
  if (max === Number.MAX_SAFE_INTEGER) return min === 0 ? ', 0 or more' : ` of at least ${min}`;
  return ` from ${min} to ${max}`;
}

export const parsePositiveInt = integerParser(1);
export const parseNonNegativeInt = integerParser(0);
/** Partition numbers are int32 on the wire. */
export const parsePartition = integerParser(0, 0x7fffffff);

/**
 * A repeatable `key=value` flag (--config, --header), collected into one record. The value may
 * itself hold '='; the key may not be empty; a key given twice is refused rather than silently
 * overwritten.
 */
export function parseKeyValue(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError('must be key=value, with a non-empty key.');
  const key = value.slice(0, at);
  const collected = { ...(previous ?? {}) };
  if (Object.hasOwn(collected, key)) throw new InvalidArgumentError(`gives '${key}' a second time.`);
  collected[key] = value.slice(at + 1);
  return collected;
}

/** Where a consumer starts: 'earliest', 'latest' or an offset (Kafka's console consumer --offset). */
export type StartOffset = number | 'earliest' | 'latest';

export function parseStartOffset(value: string): StartOffset {
  if (value === 'earliest' || value === 'latest') return value;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError("must be 'earliest', 'latest' or an offset (a whole number, 0 or more).");
  }
  return Number(value);
}

/**
 * A separator that splits a line into key and value; an empty one would split nothing. `\t` is read
 * as a tab (kafka-console-producer's default key.separator), since shells pass it through as two
 * characters; `\\` is a backslash.
 */
export function parseSeparator(value: string): string {
  const separator = value.replace(/\\(t|\\)/g, (_, c: string) => (c === 't' ? '\t' : '\\'));
  if (separator.length === 0) throw new InvalidArgumentError('must not be empty.');
  return separator;
}

/**
 * Checks a topic named on the command line by the broker's own rules, so a bad name fails as
 * INVALID_TOPIC_EXCEPTION with the rule it breaks, before any connection. Reading commands may name
 * internal topics ("__..."); creating, deleting and producing may not.
 */
export function checkTopicName(name: string, rules: { allowInternal?: boolean } = {}): string {
  assertValidTopicName(name, rules);
  return name;
}
