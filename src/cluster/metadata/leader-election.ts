// Choosing a partition's leader from its replicas, as the metadata state machine applies it. Pure
// functions (deterministic: every voter applying the same command chooses the same leader). Any
// thread.
//
// Clean election: the first live replica, in assignment order, that is in the ISR. Only an ISR
// member holds every record acknowledged with acks=all, so only it may lead without losing any.
// Unclean election (`unclean.leader.election.enable=true`, off by default as in Kafka): when no
// ISR member is live, the first live replica leads and becomes the whole ISR — records only the
// lost ISR held are gone, so the state machine's caller logs it loudly.
// Preferred election: the first replica of the assignment leads again once it is live and in sync,
// which spreads leadership as placement intended after a node comes back.

import type { PartitionRecord } from './metadata-state.js';

export const UNCLEAN_LEADER_ELECTION = 'unclean.leader.election.enable';
export const MIN_INSYNC_REPLICAS = 'min.insync.replicas';
export const REPLICATION_NO_LEADER = -1;

/** The ISR of a partition record; records written before replication lists none: all replicas. */
export function isrOf(p: PartitionRecord): readonly number[] {
  return p.isr ?? p.replicas;
}

export interface Election {
  leader: number;
  isr: readonly number[];
  unclean: boolean;
}

/** The leader a clean (or, if allowed, unclean) election picks; null when none may lead. */
export function electLeader(p: PartitionRecord, live: (id: number) => boolean, allowUnclean: boolean): Election | null {
  const isr = isrOf(p);
  const clean = p.replicas.find((r) => live(r) && isr.includes(r));
  if (clean !== undefined) return { leader: clean, isr, unclean: false };
  if (!allowUnclean) return null;
  const any = p.replicas.find(live);
  return any === undefined ? null : { leader: any, isr: [any], unclean: true };
}

/** The preferred replica, if it should take over now: live, in sync, not leading. */
export function preferredLeader(p: PartitionRecord, live: (id: number) => boolean): number | null {
  const preferred = p.replicas[0];
  if (preferred === undefined || preferred === p.leader || !live(preferred) || !isrOf(p).includes(preferred)) return null;
  return preferred;
}

/**
 * The ISR after broker `id` is fenced: without it, unless it is the last member (then it stays, so
 * that the partition waits for it to come back rather than electing a replica that is behind).
 */
export function isrWithout(p: PartitionRecord, id: number): readonly number[] {
  const isr = isrOf(p);
  if (!isr.includes(id) || isr.length === 1) return isr;
  return isr.filter((r) => r !== id);
}

/** Whether the config map enables unclean election. */
export function uncleanAllowed(configs: Readonly<Record<string, string>>): boolean {
  return configs[UNCLEAN_LEADER_ELECTION] === 'true';
}
