// Per-partition log settings: one table with the Kafka-style property name, default and bounds of
// each. Any thread. Topic configs (later, in the broker) are parsed through this table.

import { Errors, RillError } from '../errors.js';

export type FlushMode = 'async' | 'sync';

/**
 * cleanup.policy, as Kafka has it: 'delete' drops whole old segments by retention.ms/bytes,
 * 'compact' keeps the latest record per key (log-cleaner.ts), 'compact,delete' does both.
 */
export type CleanupPolicy = 'delete' | 'compact' | 'compact,delete';

const CLEANUP_POLICIES: readonly CleanupPolicy[] = ['delete', 'compact', 'compact,delete'];

export interface LogConfig {
  /** segment.bytes: roll to a new segment beyond this size. Positions are u32, hence < 2 GiB. */
  segmentBytes: number;
  /** segment.ms: roll a segment this long after its first append. */
  segmentMs: number;
  /** retention.ms: delete sealed segments whose newest record is older; -1 keeps forever. */
  retentionMs: number;
  /** retention.bytes: delete the oldest sealed segments while the log is larger; -1 = no limit. */
  retentionBytes: number;
  /** index.interval.bytes: log bytes between two sparse index entries. */
  indexIntervalBytes: number;
  /** max.message.bytes: largest record batch an append may carry (a record set must also fit segment.bytes). */
  maxMessageBytes: number;
  /** flush.mode: 'async' acknowledges on write and fdatasyncs periodically; 'sync' after fdatasync. */
  flushMode: FlushMode;
  /** flush.interval.ms: period of the background fdatasync (async) and of checkpoints (both). */
  flushIntervalMs: number;
  /** producer.id.expiration.ms: forget an idempotent producer's sequences after this long idle. */
  producerIdExpirationMs: number;
  /** cleanup.policy: see CleanupPolicy. */
  cleanupPolicy: CleanupPolicy;
  /** delete.retention.ms: how long a tombstone (null value) outlives the records it deletes. */
  deleteRetentionMs: number;
  /** min.cleanable.dirty.ratio: clean once this share of the sealed bytes is not yet cleaned. */
  minCleanableDirtyRatio: number;
  /** cleaner.dedupe.buffer.bytes: memory the cleaner's key map may use per cleaning pass. */
  cleanerDedupeBufferBytes: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const GiB = 1024 * 1024 * 1024;

interface NumberSetting {
  key: keyof LogConfig;
  property: string;
  default: number;
  min: number;
  max: number;
  /** -1 allowed as "unlimited". */
  unlimited?: boolean;
}

const NUMBER_SETTINGS: readonly NumberSetting[] = [
  // 1 GiB: RocketMQ's CommitLog file size and Kafka's default.
  { key: 'segmentBytes', property: 'segment.bytes', default: GiB, min: 4096, max: 2 * GiB - 1 },
  { key: 'segmentMs', property: 'segment.ms', default: 7 * DAY_MS, min: 1, max: Number.MAX_SAFE_INTEGER },
  { key: 'retentionMs', property: 'retention.ms', default: 7 * DAY_MS, min: 0, max: Number.MAX_SAFE_INTEGER, unlimited: true },
  { key: 'retentionBytes', property: 'retention.bytes', default: -1, min: 0, max: Number.MAX_SAFE_INTEGER, unlimited: true },
  { key: 'indexIntervalBytes', property: 'index.interval.bytes', default: 4096, min: 1, max: 2 * GiB - 1 },
  // Kafka's default (1 MiB of records plus the 12-byte log overhead).
  { key: 'maxMessageBytes', property: 'max.message.bytes', default: 1024 * 1024 + 12, min: 61, max: 2 * GiB - 1 },
  { key: 'flushIntervalMs', property: 'flush.interval.ms', default: 1000, min: 1, max: Number.MAX_SAFE_INTEGER },
  // Kafka's default: a producer idle for a day must bump its epoch before it writes again.
  { key: 'producerIdExpirationMs', property: 'producer.id.expiration.ms', default: DAY_MS, min: 1, max: Number.MAX_SAFE_INTEGER },
  // Kafka's default: consumers have a day to see a delete before its tombstone is cleaned away.
  { key: 'deleteRetentionMs', property: 'delete.retention.ms', default: DAY_MS, min: 0, max: Number.MAX_SAFE_INTEGER },
  // 128 MiB, Kafka's log.cleaner.dedupe.buffer.bytes: about 1.2 M keys per pass (offset-map.ts).
  { key: 'cleanerDedupeBufferBytes', property: 'cleaner.dedupe.buffer.bytes', default: 128 * 1024 * 1024, min: 64 * 1024, max: 2 * GiB - 1 },
];

/** Kafka's default min.cleanable.dirty.ratio: a log is at most about twice its compacted size. */
const DEFAULT_DIRTY_RATIO = 0.5;

export const DEFAULT_LOG_CONFIG: Readonly<LogConfig> = Object.freeze({
  ...(Object.fromEntries(NUMBER_SETTINGS.map((s) => [s.key, s.default])) as Omit<LogConfig, 'flushMode' | 'cleanupPolicy' | 'minCleanableDirtyRatio'>),
  flushMode: 'async' as FlushMode,
  cleanupPolicy: 'delete' as CleanupPolicy,
  minCleanableDirtyRatio: DEFAULT_DIRTY_RATIO,
});

/** Whether the policy compacts by key / deletes by retention. */
export function compacts(config: Pick<LogConfig, 'cleanupPolicy'>): boolean {
  return config.cleanupPolicy !== 'delete';
}

export function deletesByRetention(config: Pick<LogConfig, 'cleanupPolicy'>): boolean {
  return config.cleanupPolicy !== 'compact';
}

/** 'compact, delete', 'delete,compact' and 'compact,delete' are one policy, as in Kafka. */
function parseCleanupPolicy(raw: unknown): CleanupPolicy {
  const parts = String(raw).split(',').map((p) => p.trim()).filter((p) => p.length > 0);
  const set = new Set(parts);
  if (parts.length > 0 && parts.length === set.size && [...set].every((p) => p === 'compact' || p === 'delete')) {
    return set.size === 2 ? 'compact,delete' : (parts[0] as CleanupPolicy);
  }
  throw invalid(`cleanup.policy must be one of ${CLEANUP_POLICIES.join(', ')}, got ${JSON.stringify(raw)}`);
}

function invalid(message: string): RillError {
  return new RillError(Errors.INVALID_CONFIG, message);
}

/** Fills in defaults and checks every value; throws INVALID_CONFIG naming the property. */
export function resolveLogConfig(overrides: Partial<LogConfig> = {}): LogConfig {
  const config: LogConfig = { ...DEFAULT_LOG_CONFIG };
  for (const setting of NUMBER_SETTINGS) {
    const value = overrides[setting.key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
      throw invalid(`${setting.property} must be an integer, got ${JSON.stringify(value)}`);
    }
    if (!(setting.unlimited && value === -1) && (value < setting.min || value > setting.max)) {
      throw invalid(`${setting.property} must be between ${setting.min} and ${setting.max}${setting.unlimited ? ' or -1' : ''}, got ${value}`);
    }
    (config as unknown as Record<string, number>)[setting.key] = value;
  }
  if (overrides.flushMode !== undefined) {
    if (overrides.flushMode !== 'async' && overrides.flushMode !== 'sync') {
      throw invalid(`flush.mode must be 'async' or 'sync', got ${JSON.stringify(overrides.flushMode)}`);
    }
    config.flushMode = overrides.flushMode;
  }
  if (overrides.cleanupPolicy !== undefined) config.cleanupPolicy = parseCleanupPolicy(overrides.cleanupPolicy);
  if (overrides.minCleanableDirtyRatio !== undefined) {
    const ratio = overrides.minCleanableDirtyRatio;
    if (typeof ratio !== 'number' || !Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
      throw invalid(`min.cleanable.dirty.ratio must be a number between 0 and 1, got ${JSON.stringify(ratio)}`);
    }
    config.minCleanableDirtyRatio = ratio;
  }
  return config;
}

/** Parses Kafka-style properties ({ 'segment.bytes': '1048576', 'flush.mode': 'sync' }). */
export function logConfigFromProperties(properties: Readonly<Record<string, string | number>>): LogConfig {
  const overrides: Partial<LogConfig> = {};
  for (const [property, raw] of Object.entries(properties)) {
    if (property === 'flush.mode') {
      overrides.flushMode = String(raw) as FlushMode;
      continue;
    }
    if (property === 'cleanup.policy') {
      overrides.cleanupPolicy = parseCleanupPolicy(raw);
      continue;
    }
    if (property === 'min.cleanable.dirty.ratio') {
      const ratio = typeof raw === 'number' ? raw : /^\s*\d*\.?\d+\s*$/.test(raw) ? Number(raw) : NaN;
      if (Number.isNaN(ratio)) throw invalid(`min.cleanable.dirty.ratio must be a number between 0 and 1, got ${JSON.stringify(raw)}`);
      overrides.minCleanableDirtyRatio = ratio;
      continue;
    }
    const setting = NUMBER_SETTINGS.find((s) => s.property === property);
    if (setting === undefined) throw invalid(`unknown log config '${property}'`);
    const value = typeof raw === 'number' ? raw : /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
    if (Number.isNaN(value)) throw invalid(`${property} must be an integer, got ${JSON.stringify(raw)}`);
    (overrides as Record<string, number>)[setting.key] = value;
  }
  return resolveLogConfig(overrides);
}

/** The inverse of logConfigFromProperties: every setting under its Kafka-style property name. */
export function logConfigToProperties(config: LogConfig): Record<string, string | number> {
  const properties: Record<string, string | number> = Object.fromEntries(NUMBER_SETTINGS.map((s) => [s.property, config[s.key] as number]));
  properties['flush.mode'] = config.flushMode;
  properties['cleanup.policy'] = config.cleanupPolicy;
  properties['min.cleanable.dirty.ratio'] = config.minCleanableDirtyRatio;
  return properties;
}

/** The table, for help texts and docs: property name, default and description per setting. */
export function describeLogConfig(): { property: string; default: number | string }[] {
  return [
    ...NUMBER_SETTINGS.map((s) => ({ property: s.property, default: s.default })),
    { property: 'flush.mode', default: DEFAULT_LOG_CONFIG.flushMode },
    { property: 'cleanup.policy', default: DEFAULT_LOG_CONFIG.cleanupPolicy },
    { property: 'min.cleanable.dirty.ratio', default: DEFAULT_LOG_CONFIG.minCleanableDirtyRatio },
  ];
}
