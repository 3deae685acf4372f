// What the parts of the group coordinator share: settings, clock, log, the rebalance state
// machine and the lookups of groups and members. Worker thread only (the owner of the
// __consumer_offsets partitions); group-coordinator.ts builds the one context of a worker.

import { type ErrorSpec } from '../../errors.js';
import type { JoinGroupResponse, SyncGroupResponse } from '../../protocol/index.js';
import { type CoordinatorClock } from './coordinator-clock.js';
import { type Group, type Member } from './group.js';
import { type KeyedRecord } from './group-records.js';
import { type Rebalancer } from './rebalancer.js';

export interface CoordinatorSettings {
  /** Partitions of __consumer_offsets. */
  offsetsPartitions: number;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  initialRebalanceDelayMs: number;
}

export interface CoordinatorLog {
  /** Appends records to a __consumer_offsets partition; resolves once they are as durable as its flush.mode makes them. */
  append(partition: number, records: KeyedRecord[]): Promise<void>;
}

export type Failure = { errorCode: number; message: string };

export function fail(spec: ErrorSpec, message: string = spec.message): Failure {
  return { errorCode: spec.code, message };
}

export const joinFailure = (f: Failure, memberId = ''): JoinGroupResponse => ({ ...f, generationId: -1, protocolName: '', leader: '', memberId, members: [] });
export const syncFailure = (f: Failure): SyncGroupResponse => ({ ...f, protocolName: '', assignment: [] });

export interface CoordinatorContext {
  readonly settings: CoordinatorSettings;
  readonly clock: CoordinatorClock;
  readonly log: CoordinatorLog;
  readonly rebalancer: Rebalancer;
  /** Every group of the partitions this worker hosts. */
  readonly groups: Map<string, Group>;
  readonly hosted: ReadonlySet<number>;
  /** The group if this worker coordinates it (creating it when asked), or the failure to answer. */
  lookup(groupId: string, create: boolean): Group | Failure | undefined;
  /** FENCED_INSTANCE_ID when the request's groupInstanceId now belongs to another member id. */
  fenced(group: Group, member: Member | undefined, instanceId: string | undefined): Failure | undefined;
  /** The member a request names, checked: known, not fenced, of the current generation. */
  checkMember(groupId: string, memberId: string, instanceId: string | undefined, generationId: number): { group: Group; member: Member } | Failure;
}

