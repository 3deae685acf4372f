// The topics this node holds, their partition counts and config overrides, persisted so that
// they survive restarts. Main thread only (it answers metadata; workers own the partition logs).
//
// Layout:
//   <data>/topics/<topic>/topic.json      { name, id, partitions, config, createdAt } — written to a
//                                        temporary file, fsynced, renamed, directory fsynced
//   <data>/topics/<topic>/<partition>/   the partition logs (created by their owner worker)
//   <data>/deleted/<topic>-<ms>/         topics being deleted: a delete is one atomic rename out
//                                        of topics/, then removal in the background; whatever a
//                                        crash leaves here is removed at the next start
//   <data>/stray/<topic>-<ms>/           local copies of an earlier topic of the same name, set
//                                        aside in a cluster (see ClusterView); never removed by Rill
//
// A topic directory without a readable topic.json is ignored with a warning (never deleted: it
// may hold data someone wants back).

import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { writeDurably } from '../storage/index.js';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Errors, RillError } from '../errors.js';
import { type Logger } from '../logger.js';
import { assertValidTopicName, collisionKey, isInternalTopicName } from '../protocol/index.js';
import { logConfigFromProperties, logConfigToProperties, syncDirectory, type LogConfig } from '../storage/index.js';

export type TopicConfig = Readonly<Record<string, string | number>>;

export interface TopicMetadata {
  readonly name: string;
  readonly partitions: number;
  /** Overrides of the broker's log defaults, by topic property name ('retention.ms', ...). */
  readonly config: TopicConfig;
  readonly createdAt: number;
  /**
   * The topic's id (a UUID; in a cluster the metadata's, see TopicRecord.id): tells this topic from
   * an earlier one of the same name. Absent in topic.json files from before topic ids.
   */
  readonly id?: string;
}

const METADATA_FILE = 'topic.json';
/** Kafka's limit on partitions per topic creation is the broker's; ours keeps file counts sane. */
export const MAX_PARTITIONS = 10_000;

export class TopicRegistry {
  readonly topicsDir: string;
  private readonly deletedDir: string;
  private readonly strayDir: string;
  private readonly topics = new Map<string, TopicMetadata>();
  private readonly logDefaults: LogConfig;
  private readonly resolvedConfigs = new WeakMap<TopicMetadata, LogConfig>();
  private readonly logger: Logger;

  private constructor(dataDir: string, logDefaults: LogConfig, logger: Logger) {
    this.topicsDir = join(dataDir, 'topics');
    this.deletedDir = join(dataDir, 'deleted');
    this.strayDir = join(dataDir, 'stray');
    this.logDefaults = logDefaults;
    this.logger = logger;
  }

  /** Loads the topics under `dataDir`, finishing deletions a crash interrupted. */
  static open(dataDir: string, logDefaults: LogConfig, logger: Logger): TopicRegistry {
    const registry = new TopicRegistry(dataDir, logDefaults, logger);
    mkdirSync(registry.topicsDir, { recursive: true });
    mkdirSync(registry.deletedDir, { recursive: true });
    for (const leftover of readdirSync(registry.deletedDir)) {
      logger.info({ dir: leftover }, 'removing a topic whose deletion was interrupted');
      rmSync(join(registry.deletedDir, leftover), { recursive: true, force: true });
    }
    for (const name of readdirSync(registry.topicsDir)) {
      const metadata = registry.readMetadata(name);
      if (metadata !== null) registry.topics.set(name, metadata);
    }
    return registry;
  }

  private readMetadata(dirName: string): TopicMetadata | null {
    const path = join(this.topicsDir, dirName, METADATA_FILE);
    try {
      const parsed = JSON.parse(readFileSync(path, 'utf8')) as TopicMetadata;
      if (parsed.name !== dirName || !Number.isSafeInteger(parsed.partitions) || parsed.partitions < 1) {
        throw new Error(`it describes ${JSON.stringify(parsed.name)} with ${parsed.partitions} partitions`);
      }
      logConfigFromProperties({ ...parsed.config }); // still valid with this version's rules
      if (parsed.id !== undefined && (typeof parsed.id !== 'string' || parsed.id === '')) throw new Error(`its id ${JSON.stringify(parsed.id)} is not a non-empty string`);
      return { name: parsed.name, id: parsed.id, partitions: parsed.partitions, config: parsed.config ?? {}, createdAt: parsed.createdAt ?? 0 };
    } catch (error) {
      this.logger.warn({ dir: join(this.topicsDir, dirName), err: (error as Error).message }, 'ignoring topic directory without valid topic.json');
      return null;
    }
  }

  list(): TopicMetadata[] {
    return [...this.topics.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): TopicMetadata | undefined {
    return this.topics.get(name);
  }

  /** The topic, or UNKNOWN_TOPIC_OR_PARTITION. */
  require(name: string): TopicMetadata {
    const topic = this.topics.get(name);
    if (topic === undefined) throw new RillError(Errors.UNKNOWN_TOPIC_OR_PARTITION, `topic '${name}' does not exist`, { topic: name });
    return topic;
  }

  /**
   * The effective log settings of a topic: broker defaults overlaid with its overrides. Resolved
   * once per topic record (records are replaced, never changed, when a topic changes): resolving
   * takes ~27 µs, and Metadata asks for every topic's on the main thread. Frozen, as it is shared.
   */
  logConfig(topic: TopicMetadata): LogConfig {
    let config = this.resolvedConfigs.get(topic);
    if (config === undefined) {
      config = Object.freeze(logConfigFromProperties({ ...logConfigToProperties(this.logDefaults), ...topic.config }));
      this.resolvedConfigs.set(topic, config);
    }
    return config;
  }

  partitionDir(topic: string, partition: number): string {
    return join(this.topicsDir, topic, String(partition));
  }

  /**
   * Validates a topic as it would be created (name, partition count, config) without creating it.
   * Throws INVALID_TOPIC_EXCEPTION, TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS or INVALID_CONFIG.
   */
  validate(name: string, partitions: number, config: TopicConfig = {}, rules: { internal?: boolean } = {}): void {
    assertValidTopicName(name, { allowInternal: rules.internal === true });
    if (this.topics.has(name)) throw new RillError(Errors.TOPIC_ALREADY_EXISTS, `topic '${name}' already exists`, { topic: name });
    // As in Kafka: '.' and '_' would give two topics the same metric names.
    const clash = [...this.topics.keys()].find((existing) => collisionKey(existing) === collisionKey(name));
    if (clash !== undefined) {
      throw new RillError(Errors.INVALID_TOPIC_EXCEPTION, `topic '${name}' collides with '${clash}' ('.' and '_' are treated alike)`, { topic: name });
    }
    if (!Number.isSafeInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
      throw new RillError(Errors.INVALID_PARTITIONS, `partitions must be an integer from 1 to ${MAX_PARTITIONS}, got ${partitions}`);
    }
    logConfigFromProperties({ ...config });
  }

  /**
   * Creates a topic durably (its metadata survives a crash once this returns). `id`: the cluster
   * metadata's topic id; a single node makes up its own.
   */
  create(name: string, partitions: number, config: TopicConfig = {}, options: { internal?: boolean; now?: number; id?: string } = {}): TopicMetadata {
    this.validate(name, partitions, config, options);
    const now = options.now ?? Date.now();
    const metadata: TopicMetadata = { name, id: options.id ?? randomUUID(), partitions, config: { ...config }, createdAt: now };
    const dir = join(this.topicsDir, name);
    mkdirSync(dir, { recursive: true });
    writeDurably(join(dir, METADATA_FILE), JSON.stringify(metadata, null, 2) + '\n');
    syncDirectory(this.topicsDir);
    this.topics.set(name, metadata);
    this.logger.info({ topic: name, id: metadata.id, partitions, config }, 'created topic');
    return metadata;
  }

  /**
   * Adds config overrides a topic lacks (keeping those it has), durably; returns the topic. For
   * internal topics whose defaults grew since they were created (__consumer_offsets predating
   * compaction gets cleanup.policy=compact).
   */
  addMissingConfig(name: string, config: TopicConfig): TopicMetadata {
    const topic = this.require(name);
    const missing = Object.fromEntries(Object.entries(config).filter(([k]) => !Object.hasOwn(topic.config, k)));
    if (Object.keys(missing).length === 0) return topic;
    const updated: TopicMetadata = { ...topic, config: { ...topic.config, ...missing } };
    logConfigFromProperties({ ...updated.config });
    writeDurably(join(this.topicsDir, name, METADATA_FILE), JSON.stringify(updated, null, 2) + '\n');
    this.topics.set(name, updated);
    this.logger.info({ topic: name, added: missing }, 'added topic config');
    return updated;
  }

  /** Checks that a topic may grow to `count` partitions without changing anything (assertValidGrowth). */
  validateGrowth(name: string, count: number, rules: { internal?: boolean } = {}): TopicMetadata {
    assertValidGrowth(name, this.topics.get(name)?.partitions, count, rules);
    return this.require(name);
  }

  /**
   * Grows a topic to `count` partitions, durably (topic.json rewritten by the write-temp, fsync,
   * rename path) before anything else knows: the registry is the source of truth, so a crash before
   * the rename leaves the old count and one after it leaves the new count, whose partition
   * directories the owner workers create when they open them at start. Existing partitions are
   * not touched. `internal` lets the cluster view follow the metadata for any topic.
   */
  grow(name: string, count: number, rules: { internal?: boolean } = {}): TopicMetadata {
    const topic = this.validateGrowth(name, count, rules);
    const updated: TopicMetadata = { ...topic, partitions: count };
    writeDurably(join(this.topicsDir, name, METADATA_FILE), JSON.stringify(updated, null, 2) + '\n');
    this.topics.set(name, updated);
    this.logger.info({ topic: name, from: topic.partitions, to: count }, 'added partitions to topic');
    return updated;
  }

  /**
   * Deletes one partition's files (a reassignment moved its replica off this node): gone from
   * topics/ at once (one rename), removed in the background. The caller closes the log first. A
   * partition directory that is not there is nothing to delete.
   */
  deletePartition(name: string, partition: number, now = Date.now()): Promise<void> {
    const dir = this.partitionDir(name, partition);
    if (!existsSync(dir)) return Promise.resolve();
    const trash = join(this.deletedDir, `${name}-${partition}-${now}`);
    renameSync(dir, trash);
    syncDirectory(join(this.topicsDir, name));
    this.logger.info({ topic: name, partition }, 'deleted a partition replica moved off this node');
    return rm(trash, { recursive: true, force: true });
  }

  /**
   * Moves a topic's directory out of topics/ into stray/ (one rename) and forgets the topic, keeping
   * its files for an operator to inspect or remove; returns where they went. The caller closes the
   * partition logs first.
   */
  setAside(name: string, now = Date.now()): string {
    mkdirSync(this.strayDir, { recursive: true });
    const aside = this.moveOut(name, join(this.strayDir, `${name}-${now}`));
    this.logger.warn({ topic: name, dir: aside }, 'set aside the files of an earlier topic of the same name');
    return aside;
  }

  /**
   * Deletes a topic: gone from the registry and from topics/ at once (one rename), its files
   * removed in the background. The caller closes the partition logs first.
   */
  delete(name: string, now = Date.now()): Promise<void> {
    const trash = this.moveOut(name, join(this.deletedDir, `${name}-${now}`));
    this.logger.info({ topic: name }, 'deleted topic');
    return rm(trash, { recursive: true, force: true });
  }

  /** Renames a topic's directory out of topics/ to `to`, durably, and forgets the topic; returns `to`. */
  private moveOut(name: string, to: string): string {
    this.require(name);
    renameSync(join(this.topicsDir, name), to);
    syncDirectory(this.topicsDir);
    this.topics.delete(name);
    return to;
  }
}

/**
 * Kafka's CreatePartitions rules for a topic of `current` partitions (undefined: no such topic)
 * growing to `count` (the single node's registry and the cluster's controller both check these).
 * Throws INVALID_REQUEST for an internal topic (more __consumer_offsets partitions would move
 * groups to other coordinators), UNKNOWN_TOPIC_OR_PARTITION, or INVALID_PARTITIONS with Kafka's
 * message for a count that does not grow.
 */
export function assertValidGrowth(name: string, current: number | undefined, count: number, rules: { internal?: boolean } = {}): void {
  if (rules.internal !== true && isInternalTopicName(name)) {
    throw new RillError(Errors.INVALID_REQUEST, `cannot add partitions to internal topic '${name}': it would move consumer groups to other coordinators`, { topic: name });
  }
  if (current === undefined) throw new RillError(Errors.UNKNOWN_TOPIC_OR_PARTITION, `topic '${name}' does not exist`, { topic: name });
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_PARTITIONS) {
    throw new RillError(Errors.INVALID_PARTITIONS, `partitions must be an integer from 1 to ${MAX_PARTITIONS}, got ${count}`, { topic: name });
  }
  if (count <= current) {
    const relation = count === current ? 'equal to' : 'higher than';
    throw new RillError(Errors.INVALID_PARTITIONS, `Topic currently has ${current} partitions, which is ${relation} the requested ${count}`, { topic: name });
  }
}
