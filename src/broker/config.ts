// Broker settings: one table, read from (lowest to highest precedence) built-in defaults, a
// config file (JSON or YAML), RILL_* environment variables and command-line flags.
// Main thread; the resolved BrokerConfig is plain data that workers receive as is.
//
// Every setting has a dotted name ('data.dir'), a flag (--data-dir) and an environment variable
// (RILL_DATA_DIR) derived from it. Log defaults for new topics use Kafka's broker names: the topic
// property prefixed with 'log.' ('log.segment.bytes', 'log.flush.mode', ...).

import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Errors, RillError } from '../errors.js';
import { describeLogConfig, logConfigFromProperties, type LogConfig } from '../storage/index.js';

export interface BrokerConfig {
  dataDir: string;
  host: string;
  port: number;
  httpPort: number;
  clusterPort: number;
  nodeId: number;
  workers: number;
  maxFrameBytes: number;
  logLevel: string;
  /** Partitions of a topic created without a count. */
  defaultPartitions: number;
  /** How often each worker applies retention to its partitions (Kafka's default: 5 minutes). */
  retentionCheckIntervalMs: number;
  /** How often owners look for compacted topics dirty enough to clean (Kafka's log.cleaner.backoff.ms). */
  cleanerBackoffMs: number;
  /** Largest HTTP request body accepted (413 beyond). */
  httpMaxBodyBytes: number;
  /** HTTP fetches allowed to wait for data at once (429 beyond). */
  httpMaxLongPolls: number;
  /** Longest waitMs an HTTP fetch may ask for. */
  httpMaxWaitMs: number;
  /** HTTP group members this node holds at once (429 beyond). */
  httpMaxGroupMembers: number;
  /** An HTTP group member nobody calls for this long is closed and leaves its group. */
  httpGroupMemberIdleMs: number;
  /** Partitions of __consumer_offsets, fixed when the topic is first created (Kafka's offsets.topic.num.partitions). */
  offsetsTopicPartitions: number;
  /**
   * Replicas of __consumer_offsets in a cluster, fixed when the topic is first created (Kafka's
   * offsets.topic.replication.factor); clamped to the live nodes then, where Kafka refuses.
   */
  offsetsTopicReplicationFactor: number;
  /** Bounds of a consumer's session timeout (Kafka's group.min/max.session.timeout.ms). */
  groupMinSessionTimeoutMs: number;
  groupMaxSessionTimeoutMs: number;
  /** How long a new group's first rebalance waits for more members (group.initial.rebalance.delay.ms). */
  groupInitialRebalanceDelayMs: number;
  /**
   * Cluster mode (seeds or controller.voters set): gossip addresses to join through,
   * "host:port" comma-separated; empty runs the single-node broker.
   */
  clusterSeeds: string;
  /** Shared by every node of one cluster; gossip and Raft frames of another are dropped. */
  clusterId: string;
  /** Node ids of the Raft controller voters, comma-separated; empty: 1,2,3. */
  controllerVoters: string;
  /** TCP port of the Raft metadata channel; -1: the same number as cluster.port (which is UDP). */
  controllerPort: number;
  /** Rack label for rack-aware placement; empty: none. */
  clusterRack: string;
  gossipPeriodMs: number;
  gossipAckTimeoutMs: number;
  gossipSuspicionMult: number;
  /** Replicas of a topic created without a replication factor; -1: min(3, live nodes) in a cluster, 1 alone. */
  defaultReplicationFactor: number;
  /** A follower not caught up with the leader's log end for this long leaves the ISR. */
  replicaLagTimeMaxMs: number;
  /** How long a follower's replica fetch waits at the leader for new records. */
  replicaFetchWaitMaxMs: number;
  /** How often the controller moves leadership back to preferred replicas. */
  leaderImbalanceCheckIntervalMs: number;
  /** Log settings of topics that do not override them. */
  logDefaults: LogConfig;
}

type Kind = 'string' | 'text' | 'int' | 'port' | 'level';

interface Setting {
  name: string;
  key: Exclude<keyof BrokerConfig, 'logDefaults'>;
  kind: Kind;
  default: string | number;
  description: string;
  min?: number;
  max?: number;
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const BROKER_SETTINGS: readonly Setting[] = [
  { name: 'data.dir', key: 'dataDir', kind: 'string', default: './data', description: 'where topics, partitions and metadata live' },
  { name: 'host', key: 'host', kind: 'string', default: '127.0.0.1', description: 'address the listeners bind to' },
  { name: 'port', key: 'port', kind: 'port', default: 9400, description: 'binary protocol port (0 picks a free one)' },
  { name: 'http.port', key: 'httpPort', kind: 'port', default: 9480, description: 'HTTP API port (0 picks a free one)' },
  { name: 'cluster.port', key: 'clusterPort', kind: 'port', default: 9440, description: 'cluster channel port: gossip on UDP (and Raft on TCP unless controller.port says otherwise)' },
  { name: 'node.id', key: 'nodeId', kind: 'int', default: 1, min: 0, max: 2 ** 31 - 1, description: 'this node\'s id in the cluster' },
  { name: 'workers', key: 'workers', kind: 'int', default: availableParallelism(), min: 1, max: 1024, description: 'partition-owner worker threads (default: CPU count)' },
  // 2,000,000: a produce frame carries one partition's batches, and a batch is at most
  // max.message.bytes (1 MiB by default). Each owner's request ring holds two of the largest
  // frames rounded up to a power of two (requestRingBytes), and stays resident once a burst has
  // gone through it: 4 MiB with this default, where 2 MiB exactly would make it 8 MiB.
  { name: 'max.frame.bytes', key: 'maxFrameBytes', kind: 'int', default: 2_000_000, min: 1024, max: 256 * 1024 * 1024, description: 'largest protocol frame accepted (keep it above max.message.bytes)' },
  { name: 'log.level', key: 'logLevel', kind: 'level', default: 'info', description: `log level: ${LEVELS.join(', ')}` },
  { name: 'num.partitions', key: 'defaultPartitions', kind: 'int', default: 1, min: 1, max: 100_000, description: 'partitions of a topic created without a count' },
  // 1 MiB: a JSON body turns into record batches no larger than itself plus ~70 bytes per
  // partition, so with max.message.bytes at its 1 MiB default every accepted body fits a batch.
  // Bodies are held whole before parsing (JSON needs all of it), so this also bounds the memory
  // of each request in flight.
  { name: 'http.max.body.bytes', key: 'httpMaxBodyBytes', kind: 'int', default: 1024 * 1024, min: 1024, max: 64 * 1024 * 1024, description: 'largest HTTP request body accepted (413 beyond; keep it below max.frame.bytes)' },
  // Each waiting HTTP fetch holds a socket, a pending owner request (of 4,096 per worker) and a
  // timer; 1,000 leaves owners room for producers and binary consumers.
  { name: 'http.max.long.polls', key: 'httpMaxLongPolls', kind: 'int', default: 1000, min: 1, max: 100_000, description: 'HTTP fetches that may wait for data at once (429 beyond)' },
  { name: 'http.max.wait.ms', key: 'httpMaxWaitMs', kind: 'int', default: 60_000, min: 0, max: 2 ** 31 - 1, description: 'longest waitMs an HTTP fetch may ask for' },
  // Each HTTP group member holds a group membership (heartbeats), and up to a poll's worth of
  // prefetched messages: 1,000 of them fit a node comfortably.
  { name: 'http.max.group.members', key: 'httpMaxGroupMembers', kind: 'int', default: 1000, min: 1, max: 100_000, description: 'HTTP group members this node holds at once (429 beyond)' },
  // 5 minutes, the Confluent REST proxy's consumer.instance.timeout.ms.
  { name: 'http.group.member.idle.ms', key: 'httpGroupMemberIdleMs', kind: 'int', default: 300_000, min: 1000, max: 2 ** 31 - 1, description: 'an HTTP group member not called for this long is closed and leaves its group' },
  // 8, not Kafka's 50: one node has few workers, and each partition is a set of mapped files.
  { name: 'offsets.topic.num.partitions', key: 'offsetsTopicPartitions', kind: 'int', default: 8, min: 1, max: 1000, description: 'partitions of __consumer_offsets (set when it is first created)' },
  // Kafka's default 3, but clamped to the live nodes when the topic is created (Kafka refuses to
  // create it until 3 brokers are up): a 1- or 2-node dev cluster must still run groups.
  { name: 'offsets.topic.replication.factor', key: 'offsetsTopicReplicationFactor', kind: 'int', default: 3, min: 1, max: 100, description: 'replicas of __consumer_offsets in a cluster (set when it is first created; at most the live nodes then)' },
  { name: 'group.min.session.timeout.ms', key: 'groupMinSessionTimeoutMs', kind: 'int', default: 6000, min: 1, max: 2 ** 31 - 1, description: 'shortest session timeout a consumer may ask for' },
  { name: 'group.max.session.timeout.ms', key: 'groupMaxSessionTimeoutMs', kind: 'int', default: 1_800_000, min: 1, max: 2 ** 31 - 1, description: 'longest session timeout a consumer may ask for' },
  { name: 'group.initial.rebalance.delay.ms', key: 'groupInitialRebalanceDelayMs', kind: 'int', default: 3000, min: 0, max: 2 ** 31 - 1, description: 'how long a new group waits for more members before its first generation' },
  // Cluster (docs in README "Running a cluster"): gossip over UDP on cluster.port, Raft over TCP on
  // controller.port (the same number by default: UDP and TCP ports are separate name spaces).
  { name: 'seeds', key: 'clusterSeeds', kind: 'text', default: '', description: 'gossip addresses (host:port,...) to join a cluster through; empty: single node' },
  { name: 'cluster.id', key: 'clusterId', kind: 'string', default: 'rill', description: 'cluster name shared by all nodes; frames of another cluster are dropped' },
  { name: 'controller.voters', key: 'controllerVoters', kind: 'text', default: '', description: 'node ids of the Raft controller voters (comma-separated; empty: 1,2,3)' },
  { name: 'controller.port', key: 'controllerPort', kind: 'int', default: -1, min: -1, max: 65535, description: 'TCP port of the Raft metadata channel (-1: the cluster.port number; 0 picks one)' },
  { name: 'cluster.rack', key: 'clusterRack', kind: 'text', default: '', description: 'rack of this node for rack-aware placement (empty: none)' },
  { name: 'gossip.period.ms', key: 'gossipPeriodMs', kind: 'int', default: 500, min: 10, max: 60_000, description: 'gossip protocol period (one probe per period)' },
  { name: 'gossip.ack.timeout.ms', key: 'gossipAckTimeoutMs', kind: 'int', default: 200, min: 5, max: 60_000, description: 'how long a probe waits for its ack before asking others (below gossip.period.ms)' },
  { name: 'gossip.suspicion.mult', key: 'gossipSuspicionMult', kind: 'int', default: 4, min: 1, max: 100, description: 'minimum suspicion timeout in periods (times max(1, log10 n)) before a suspect is dead' },
  // Replication (README "Replication"), Kafka's names and defaults except where noted.
  { name: 'default.replication.factor', key: 'defaultReplicationFactor', kind: 'int', default: -1, min: -1, max: 100, description: 'replicas of a topic created without a replication factor (-1: min(3, live nodes) in a cluster, 1 on a single node)' },
  { name: 'replica.lag.time.max.ms', key: 'replicaLagTimeMaxMs', kind: 'int', default: 30_000, min: 10, max: 2 ** 31 - 1, description: 'a follower not caught up for this long leaves the ISR' },
  { name: 'replica.fetch.wait.max.ms', key: 'replicaFetchWaitMaxMs', kind: 'int', default: 500, min: 0, max: 60_000, description: 'how long a follower\'s fetch waits at the leader for new records' },
  { name: 'leader.imbalance.check.interval.ms', key: 'leaderImbalanceCheckIntervalMs', kind: 'int', default: 300_000, min: 10, max: 2 ** 31 - 1, description: 'how often the controller moves leadership back to preferred replicas that are in sync' },
  { name: 'log.retention.check.interval.ms', key: 'retentionCheckIntervalMs', kind: 'int', default: 300_000, min: 100, max: 2 ** 31 - 1, description: 'how often retention deletes expired segments' },
  { name: 'log.cleaner.backoff.ms', key: 'cleanerBackoffMs', kind: 'int', default: 15_000, min: 10, max: 2 ** 31 - 1, description: 'how often the log cleaner checks compacted topics for dirty segments' },
];

/** Broker-level log defaults: every topic log property, prefixed with 'log.'. */
export const LOG_DEFAULT_SETTINGS = describeLogConfig().map((s) => ({ name: `log.${s.property}`, property: s.property, default: s.default }));

/** Every setting name, flag and environment variable with its default, for help texts and docs. */
export function describeBrokerSettings(): { name: string; flag: string; env: string; default: string | number; description: string }[] {
  return [
    ...BROKER_SETTINGS.map((s) => ({ name: s.name, flag: flagFor(s.name), env: envFor(s.name), default: s.default, description: s.description })),
    ...LOG_DEFAULT_SETTINGS.map((s) => ({
      name: s.name,
      flag: flagFor(s.name),
      env: envFor(s.name),
      default: s.default,
      description: `default ${s.property} of topics`,
    })),
  ];
}

export function flagFor(name: string): string {
  return '--' + name.replace(/\./g, '-');
}

export function envFor(name: string): string {
  return 'RILL_' + name.toUpperCase().replace(/[.-]/g, '_');
}

function invalid(message: string): RillError {
  return new RillError(Errors.INVALID_CONFIG, message);
}

function coerce(setting: Setting, raw: unknown, source: string): string | number {
  const where = `${setting.name} (from ${source})`;
  switch (setting.kind) {
    case 'string':
      if (typeof raw !== 'string' && typeof raw !== 'number') throw invalid(`${where} must be a string`);
      if (String(raw).trim() === '') throw invalid(`${where} must not be empty`);
      return String(raw);
    case 'text':
      if (typeof raw !== 'string' && typeof raw !== 'number') throw invalid(`${where} must be a string`);
      return String(raw).trim();
    case 'level':
      if (typeof raw !== 'string' || !LEVELS.includes(raw)) throw invalid(`${where} must be one of ${LEVELS.join(', ')}, got ${JSON.stringify(raw)}`);
      return raw;
    case 'int':
    case 'port': {
      const value = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
      const min = setting.kind === 'port' ? 0 : (setting.min ?? Number.MIN_SAFE_INTEGER);
      const max = setting.kind === 'port' ? 65535 : (setting.max ?? Number.MAX_SAFE_INTEGER);
      if (!Number.isSafeInteger(value)) throw invalid(`${where} must be an integer, got ${JSON.stringify(raw)}`);
      if (value < min || value > max) throw invalid(`${where} must be between ${min} and ${max}, got ${value}`);
      return value;
    }
  }
}

/** Flattens { data: { dir: 'x' } } to { 'data.dir': 'x' }; dotted keys pass through. */
function flatten(value: unknown, prefix: string, out: Record<string, unknown>, source: string): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    if (prefix === '') throw invalid(`${source} must hold an object of settings`);
    out[prefix] = value;
    return;
  }
  for (const [key, inner] of Object.entries(value)) flatten(inner, prefix === '' ? key : `${prefix}.${key}`, out, source);
}

/** Reads a JSON or YAML config file (by extension; YAML otherwise) into dotted settings. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw invalid(`cannot read config file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw invalid(`config file ${path} is not valid ${extname(path).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message}`);
  }
  const out: Record<string, unknown> = {};
  flatten(parsed ?? {}, '', out, `config file ${path}`);
  return out;
}

export interface ConfigSources {
  /** Dotted settings from a config file. */
  file?: Record<string, unknown>;
  fileName?: string;
  /** The process environment; only RILL_* variables are read. */
  env?: Record<string, string | undefined>;
  /** Dotted settings from the command line (only those the user gave). */
  flags?: Record<string, unknown>;
}

export interface ResolvedConfig {
  config: BrokerConfig;
  /** RILL_* variables that name no setting (a typo, or another tool's): worth a warning. */
  unknownEnv: string[];
}

/**
 * Resolves the broker configuration. Unknown keys in the file or flags are errors (a typo must not
 * silently fall back to a default); unknown RILL_* variables are reported, since the environment
 * is shared with other tools.
 */
export function resolveBrokerConfig(sources: ConfigSources = {}): ResolvedConfig {
  const names = new Map<string, Setting>(BROKER_SETTINGS.map((s) => [s.name, s]));
  const logNames = new Map(LOG_DEFAULT_SETTINGS.map((s) => [s.name, s.property]));
  const values = new Map<string, string | number>(BROKER_SETTINGS.map((s) => [s.name, s.default]));
  const logProperties: Record<string, string | number> = {};

  const apply = (name: string, raw: unknown, source: string) => {
    const setting = names.get(name);
    if (setting !== undefined) {
      values.set(name, coerce(setting, raw, source));
      return;
    }
    const property = logNames.get(name);
    if (property !== undefined) {
      if (typeof raw !== 'string' && typeof raw !== 'number') throw invalid(`${name} (from ${source}) must be a string or number`);
      logProperties[property] = raw;
      return;
    }
    throw invalid(`unknown setting '${name}' (from ${source})`);
  };

  for (const [name, raw] of Object.entries(sources.file ?? {})) apply(name, raw, sources.fileName ?? 'config file');
  const envNames = new Map([...names.keys(), ...logNames.keys()].map((name) => [envFor(name), name]));
  const unknownEnv: string[] = [];
  for (const [variable, raw] of Object.entries(sources.env ?? {})) {
    if (!variable.startsWith('RILL_') || raw === undefined) continue;
    const name = envNames.get(variable);
    if (name === undefined) unknownEnv.push(variable);
    else apply(name, raw, variable);
  }
  for (const [name, raw] of Object.entries(sources.flags ?? {})) apply(name, raw, flagFor(name));

  let logDefaults: LogConfig;
  try {
    logDefaults = logConfigFromProperties(logProperties);
  } catch (error) {
    throw invalid(`log defaults: ${(error as Error).message}`);
  }
  const config = { logDefaults } as BrokerConfig;
  for (const setting of BROKER_SETTINGS) (config as unknown as Record<string, unknown>)[setting.key] = values.get(setting.name);
  return { config, unknownEnv };
}
