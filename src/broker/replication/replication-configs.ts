// The topic configs that belong to replication rather than to the log: min.insync.replicas and
// unclean.leader.election.enable. The log's config parser refuses properties it does not know (a
// typo must not pass silently), so these two are checked here and taken out before the rest goes
// to the log. Pure functions; any thread.

import { Errors, RillError } from '../../errors.js';
import { MIN_INSYNC_REPLICAS, UNCLEAN_LEADER_ELECTION } from '../../cluster/metadata/leader-election.js';

export const REPLICATION_TOPIC_CONFIGS: readonly string[] = [MIN_INSYNC_REPLICAS, UNCLEAN_LEADER_ELECTION];

export interface ReplicationTopicConfig {
  minInsyncReplicas: number;
  uncleanLeaderElection: boolean;
}

/** The log's share of a topic config map (replication keys removed). */
export function logShareOf(configs: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(configs).filter(([k]) => !REPLICATION_TOPIC_CONFIGS.includes(k)));
}

/**
 * Parses the replication keys; INVALID_CONFIG names the bad one. `replicationFactor`, when given,
 * bounds min.insync.replicas: a topic that could never satisfy acks=all is refused at creation,
 * as Kafka refuses it at produce time with nothing else to go on.
 */
export function replicationConfigOf(configs: Readonly<Record<string, string>>, replicationFactor?: number): ReplicationTopicConfig {
  const rawMin = configs[MIN_INSYNC_REPLICAS];
  let minInsyncReplicas = 1;
  if (rawMin !== undefined) {
    if (!/^\d+$/.test(String(rawMin).trim()) || Number(rawMin) < 1) throw new RillError(Errors.INVALID_CONFIG, `${MIN_INSYNC_REPLICAS} must be an integer of at least 1, got ${JSON.stringify(rawMin)}`);
    minInsyncReplicas = Number(rawMin);
  }
  if (replicationFactor !== undefined && minInsyncReplicas > replicationFactor) {
    throw new RillError(Errors.INVALID_CONFIG, `${MIN_INSYNC_REPLICAS}=${minInsyncReplicas} is above the replication factor ${replicationFactor}: acks=all could never succeed`);
  }
  const rawUnclean = configs[UNCLEAN_LEADER_ELECTION];
  if (rawUnclean !== undefined && rawUnclean !== 'true' && rawUnclean !== 'false') {
    throw new RillError(Errors.INVALID_CONFIG, `${UNCLEAN_LEADER_ELECTION} must be true or false, got ${JSON.stringify(rawUnclean)}`);
  }
  return { minInsyncReplicas, uncleanLeaderElection: rawUnclean === 'true' };
}
