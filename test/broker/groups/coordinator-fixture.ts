// A group coordinator on a manual clock and an in-memory log, for the coordinator's unit tests.

import { GroupCoordinator, type CoordinatorClock, type CoordinatorSettings } from '../../../src/broker/groups/group-coordinator.js';
import { readGroupLogEntry, type GroupLogEntry, type KeyedRecord } from '../../../src/broker/groups/group-records.js';
import type { JoinGroupRequest } from '../../../src/protocol/index.js';

export class ManualClock implements CoordinatorClock {
  private time = 1_000_000;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 0;

  now(): number {
    return this.time;
  }

  schedule(ms: number, fn: () => void): () => void {
    const id = this.nextId++;
    this.timers.push({ at: this.time + ms, fn, id });
    return () => {
      this.timers = this.timers.filter((t) => t.id !== id);
    };
  }

  /** Moves time on, running due timers in time order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = due.at;
      due.fn();
    }
    this.time = end;
  }
}

export class MemoryLog {
  readonly partitions = new Map<number, KeyedRecord[]>();
  failNext = false;

  append(partition: number, records: KeyedRecord[]): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('disk full'));
    }
    const list = this.partitions.get(partition) ?? [];
    list.push(...records);
    this.partitions.set(partition, list);
    return Promise.resolve();
  }

  entries(partition: number): GroupLogEntry[] {
    return (this.partitions.get(partition) ?? []).map((r) => readGroupLogEntry(r.key, r.value)!);
  }
}

export const SETTINGS: CoordinatorSettings = { offsetsPartitions: 4, minSessionTimeoutMs: 1000, maxSessionTimeoutMs: 60_000, initialRebalanceDelayMs: 0 };

export function coordinator(settings: Partial<CoordinatorSettings> = {}, log = new MemoryLog(), clock = new ManualClock()) {
  const c = new GroupCoordinator({ ...SETTINGS, ...settings }, log, clock);
  for (let p = 0; p < (settings.offsetsPartitions ?? SETTINGS.offsetsPartitions); p++) c.load(p, log.entries(p));
  return { c, log, clock };
}

export function joinRequest(groupId: string, overrides: Partial<JoinGroupRequest> = {}): JoinGroupRequest {
  return {
    groupId,
    memberId: '',
    clientId: 'test',
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 30_000,
    protocolType: 'consumer',
    protocols: [{ name: 'range' }],
    subscription: { topics: ['t'], ownedPartitions: [] },
    ...overrides,
  };
}

/** Gets a member id (MEMBER_ID_REQUIRED) and sends the real join; resolves with the held join's promise. */
export async function joinNew(c: GroupCoordinator, groupId: string, overrides: Partial<JoinGroupRequest> = {}) {
  const first = await c.join(joinRequest(groupId, overrides), '127.0.0.1');
  if (overrides.groupInstanceId !== undefined) return { memberId: first.memberId, answer: Promise.resolve(first) };
  return { memberId: first.memberId, answer: c.join(joinRequest(groupId, { ...overrides, memberId: first.memberId }), '127.0.0.1') };
}

/** Lets promise callbacks run. */
export const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
