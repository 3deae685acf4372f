import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TopicRegistry } from '../../src/broker/topic-registry.js';
import { DEFAULT_LOG_CONFIG } from '../../src/storage/index.js';
import { tempDirs } from '../helpers/temp-dir.js';
import { captureLogger } from '../helpers/capture-logger.js';

const tempDir = tempDirs();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const open = (dir: string) => TopicRegistry.open(dir, DEFAULT_LOG_CONFIG, captureLogger().logger);

describe('TopicRegistry', () => {
  it('creates topics durably and finds them again after a restart', () => {
    const dir = tempDir();
    const registry = open(dir);
    registry.create('orders', 6, { 'retention.ms': 60_000 }, { now: 1234 });
    registry.create('audit.log', 1);
    const again = open(dir);
    expect(again.list()).toEqual([
      { name: 'audit.log', id: expect.stringMatching(UUID), partitions: 1, config: {}, createdAt: expect.any(Number) },
      { name: 'orders', id: registry.require('orders').id, partitions: 6, config: { 'retention.ms': 60_000 }, createdAt: 1234 },
    ]);
    expect(again.require('orders').id).not.toBe(again.require('audit.log').id);
    expect(again.logConfig(again.require('orders'))).toEqual({ ...DEFAULT_LOG_CONFIG, retentionMs: 60_000 });
    expect(again.partitionDir('orders', 3)).toBe(join(dir, 'topics', 'orders', '3'));
  });

  it('keeps the id it is given (the cluster metadata\'s), reads topic.json files without one, and ignores a bad one', () => {
    const dir = tempDir();
    open(dir).create('orders', 2, {}, { id: 'the-cluster-id' });
    // Written before topic ids, by hand; and one with an id that is not a string.
    mkdirSync(join(dir, 'topics', 'legacy'));
    writeFileSync(join(dir, 'topics', 'legacy', 'topic.json'), JSON.stringify({ name: 'legacy', partitions: 1, config: {}, createdAt: 5 }));
    mkdirSync(join(dir, 'topics', 'odd'));
    writeFileSync(join(dir, 'topics', 'odd', 'topic.json'), JSON.stringify({ name: 'odd', id: 7, partitions: 1, config: {}, createdAt: 5 }));
    const { logger, lines } = captureLogger();
    const again = TopicRegistry.open(dir, DEFAULT_LOG_CONFIG, logger);
    expect(again.require('orders').id).toBe('the-cluster-id');
    expect(again.require('legacy')).toEqual({ name: 'legacy', partitions: 1, config: {}, createdAt: 5 });
    expect(again.get('odd')).toBeUndefined();
    expect(lines.some((l) => l.msg === 'ignoring topic directory without valid topic.json' && /id 7/.test(String(l.err)))).toBe(true);
  });

  it('sets a topic aside into stray/, files kept, so a topic of the same name can be created', () => {
    const dir = tempDir();
    const registry = open(dir);
    const old = registry.create('orders', 1, {}, { id: 'old' });
    mkdirSync(registry.partitionDir('orders', 0));
    writeFileSync(join(registry.partitionDir('orders', 0), '00000000000000000000.log'), 'old records');
    const aside = registry.setAside('orders', 42);
    expect(aside).toBe(join(dir, 'stray', 'orders-42'));
    expect(readdirSync(join(aside, '0'))).toEqual(['00000000000000000000.log']);
    expect(registry.get('orders')).toBeUndefined();
    registry.create('orders', 1, {}, { id: 'new' });
    expect(existsSync(registry.partitionDir('orders', 0))).toBe(false);
    const again = open(dir);
    expect(again.require('orders').id).toBe('new');
    expect(existsSync(aside)).toBe(true); // a restart does not remove stray/ (deleted/ it empties)
    expect(old.id).toBe('old');
    expect(() => registry.setAside('nope')).toThrow(expect.objectContaining({ type: 'UNKNOWN_TOPIC_OR_PARTITION' }));
  });

  it('adds config a topic lacks, keeping what it has, durably (an old __consumer_offsets becomes compacted)', () => {
    const dir = tempDir();
    open(dir).create('__consumer_offsets', 2, { 'retention.ms': -1, 'segment.bytes': 1 << 20 }, { internal: true });
    const registry = open(dir);
    registry.addMissingConfig('__consumer_offsets', { 'retention.ms': 5, 'cleanup.policy': 'compact' });
    const again = open(dir);
    expect(again.require('__consumer_offsets').config).toEqual({ 'retention.ms': -1, 'segment.bytes': 1 << 20, 'cleanup.policy': 'compact' });
    expect(again.logConfig(again.require('__consumer_offsets')).cleanupPolicy).toBe('compact');
  });

  it('grows a topic durably, keeping its config, and refuses unknown, internal, shrinking and out-of-range counts', () => {
    const dir = tempDir();
    const registry = open(dir);
    registry.create('orders', 2, { 'retention.ms': 60_000 }, { now: 1234 });
    registry.create('__consumer_offsets', 2, {}, { internal: true });
    expect(registry.validateGrowth('orders', 5).partitions).toBe(2);
    expect(registry.require('orders').partitions).toBe(2);
    registry.grow('orders', 4);
    expect(open(dir).require('orders')).toEqual({ name: 'orders', id: registry.require('orders').id, partitions: 4, config: { 'retention.ms': 60_000 }, createdAt: 1234 });
    const cases: [() => unknown, string, RegExp][] = [
      [() => registry.grow('nope', 3), 'UNKNOWN_TOPIC_OR_PARTITION', /does not exist/],
      [() => registry.grow('__consumer_offsets', 3), 'INVALID_REQUEST', /internal topic '__consumer_offsets'/],
      [() => registry.grow('orders', 3), 'INVALID_PARTITIONS', /^Topic currently has 4 partitions, which is higher than the requested 3$/],
      [() => registry.grow('orders', 4), 'INVALID_PARTITIONS', /which is equal to the requested 4/],
      [() => registry.grow('orders', 10_001), 'INVALID_PARTITIONS', /from 1 to 10000/],
      [() => registry.grow('orders', 4.5), 'INVALID_PARTITIONS', /from 1 to 10000/],
    ];
    for (const [act, type, message] of cases) expect(act).toThrow(expect.objectContaining({ type, message: expect.stringMatching(message) }));
    expect(open(dir).require('orders').partitions).toBe(4);
  });

  it('refuses bad names, duplicates, collisions, bad partition counts and bad configs with clear codes', () => {
    const registry = open(tempDir());
    registry.create('orders.eu', 1);
    const cases: [() => unknown, string, RegExp][] = [
      [() => registry.create('bad/name', 1), 'INVALID_TOPIC_EXCEPTION', /may contain only/],
      [() => registry.create('..', 1), 'INVALID_TOPIC_EXCEPTION', /must not be/],
      [() => registry.create('__internal', 1), 'INVALID_TOPIC_EXCEPTION', /reserved for internal topics/],
      [() => registry.create('orders.eu', 1), 'TOPIC_ALREADY_EXISTS', /already exists/],
      [() => registry.create('orders_eu', 1), 'INVALID_TOPIC_EXCEPTION', /collides with 'orders.eu'/],
      [() => registry.create('t', 0), 'INVALID_PARTITIONS', /from 1 to/],
      [() => registry.create('t', 1.5), 'INVALID_PARTITIONS', /integer/],
      [() => registry.create('t', 1, { 'retention.ms': 'soon' }), 'INVALID_CONFIG', /retention.ms/],
      [() => registry.create('t', 1, { 'no.such': 1 }), 'INVALID_CONFIG', /unknown log config 'no.such'/],
      [() => registry.require('missing'), 'UNKNOWN_TOPIC_OR_PARTITION', /does not exist/],
    ];
    for (const [fn, type, message] of cases) expect(fn).toThrow(expect.objectContaining({ type, message: expect.stringMatching(message) }));
    expect(registry.list().map((t) => t.name)).toEqual(['orders.eu']);
    expect(registry.create('__consumer_offsets', 50, {}, { internal: true }).partitions).toBe(50);
  });

  it('deletes one partition\'s files (a replica moved off this node) and keeps the topic and its other partitions', async () => {
    const dir = tempDir();
    const registry = open(dir);
    registry.create('orders', 2);
    for (const p of [0, 1]) {
      mkdirSync(registry.partitionDir('orders', p), { recursive: true });
      writeFileSync(join(registry.partitionDir('orders', p), '00000000000000000000.log'), 'x');
    }
    await registry.deletePartition('orders', 1);
    expect(existsSync(registry.partitionDir('orders', 1))).toBe(false);
    expect(existsSync(registry.partitionDir('orders', 0))).toBe(true);
    expect(readdirSync(join(dir, 'deleted'))).toEqual([]);
    expect(open(dir).require('orders').partitions).toBe(2);
    // Nothing there: nothing to do.
    await registry.deletePartition('orders', 1);
  });

  it('deletes a topic with one rename, and finishes a deletion a crash interrupted', async () => {
    const dir = tempDir();
    const registry = open(dir);
    registry.create('orders', 2);
    mkdirSync(registry.partitionDir('orders', 0), { recursive: true });
    writeFileSync(join(registry.partitionDir('orders', 0), '00000000000000000000.log'), 'data');
    await registry.delete('orders');
    expect(registry.get('orders')).toBeUndefined();
    expect(existsSync(join(dir, 'topics', 'orders'))).toBe(false);
    expect(readdirSync(join(dir, 'deleted'))).toEqual([]);
    expect(() => registry.delete('orders')).toThrow(expect.objectContaining({ type: 'UNKNOWN_TOPIC_OR_PARTITION' }));
    // A leftover from a crash mid-delete is removed at the next start; the name is free again.
    mkdirSync(join(dir, 'deleted', 'payments-1'), { recursive: true });
    const again = open(dir);
    expect(readdirSync(join(dir, 'deleted'))).toEqual([]);
    expect(again.create('orders', 1).partitions).toBe(1);
  });

  it('ignores a topic directory without valid metadata, with a warning, and keeps its files', () => {
    const dir = tempDir();
    open(dir).create('good', 1);
    mkdirSync(join(dir, 'topics', 'broken'), { recursive: true });
    writeFileSync(join(dir, 'topics', 'broken', 'topic.json'), '{ not json');
    mkdirSync(join(dir, 'topics', 'bare'), { recursive: true });
    const { logger, warnings } = captureLogger();
    const registry = TopicRegistry.open(dir, DEFAULT_LOG_CONFIG, logger);
    expect(registry.list().map((t) => t.name)).toEqual(['good']);
    expect(warnings()).toHaveLength(2);
    expect(existsSync(join(dir, 'topics', 'broken', 'topic.json'))).toBe(true);
  });
});
