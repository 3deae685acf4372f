import { describe, expect, it } from 'vitest';
import { Errors, isRillError } from '../../src/errors.js';
import {
  assertValidTopicName,
  collisionKey,
  isInternalTopicName,
  isValidTopicName,
  MAX_TOPIC_NAME_LENGTH,
  topicNameProblem,
} from '../../src/protocol/index.js';

describe('topic names (Kafka rules)', () => {
  const valid: [string, string][] = [
    ['one letter', 'a'],
    ['every legal character', 'Orders.v2_EU-west-1'],
    ['digits only', '0123456789'],
    ['249 characters', 'x'.repeat(MAX_TOPIC_NAME_LENGTH)],
    ['three dots', '...'],
    ['a leading dot', '.hidden'],
    ['a single leading underscore', '_private'],
    ['"__" inside the name', 'a__b'],
  ];
  const invalid: [string, unknown, string][] = [
    ['empty', '', 'must not be empty'],
    ['"."', '.', 'must not be "."'],
    ['".."', '..', 'must not be ".."'],
    ['250 characters', 'x'.repeat(250), 'must be at most 249 characters, got 250'],
    ['a space', 'my topic', 'may contain only ASCII letters'],
    ['a slash', 'a/b', 'may contain only ASCII letters'],
    ['a path', '../etc', 'may contain only ASCII letters'],
    ['a non-ASCII letter', 'café', 'may contain only ASCII letters'],
    ['a newline', 'a\n', 'may contain only ASCII letters'],
    ['a NUL', 'a\u0000', 'may contain only ASCII letters'],
    ['a colon', 'a:b', 'may contain only ASCII letters'],
    ['a leading "__" (reserved)', '__consumer_offsets', 'reserved for internal topics'],
    ['a number', 42, 'must be a string'],
    ['nil', null, 'must be a string'],
  ];

  it.each(valid)('accepts %s', (_name, name) => {
    expect(topicNameProblem(name)).toBeUndefined();
    expect(isValidTopicName(name)).toBe(true);
    expect(() => assertValidTopicName(name)).not.toThrow();
  });

  it.each(invalid)('refuses %s', (_name, name, problem) => {
    expect(topicNameProblem(name)).toContain(problem);
    expect(isValidTopicName(name)).toBe(false);
    try {
      assertValidTopicName(name);
      expect.unreachable();
    } catch (error) {
      expect(isRillError(error, Errors.INVALID_TOPIC_EXCEPTION)).toBe(true);
      expect((error as Error).message).toContain(problem);
    }
  });

  it('accepts "__" names where internal topics are allowed, and only the prefix rule relaxes', () => {
    expect(isInternalTopicName('__consumer_offsets')).toBe(true);
    expect(isInternalTopicName('_a')).toBe(false);
    expect(isValidTopicName('__consumer_offsets', { allowInternal: true })).toBe(true);
    expect(isValidTopicName('__a b', { allowInternal: true })).toBe(false);
    expect(isValidTopicName('__' + 'x'.repeat(248), { allowInternal: true })).toBe(false);
  });

  it('maps "." and "_" to the same collision key', () => {
    expect(collisionKey('a.b_c')).toBe(collisionKey('a_b.c'));
    expect(collisionKey('a.b')).not.toBe(collisionKey('a-b'));
  });

  it('uses Kafka code 17', () => {
    expect(Errors.INVALID_TOPIC_EXCEPTION.code).toBe(17);
  });
});
