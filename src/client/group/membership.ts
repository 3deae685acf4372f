// A consumer's membership of its group: the join / sync / heartbeat state machine of Kafka's
// classic protocol, seen from the member. Application thread.
//
//   unjoined --JoinGroup--> joining --SyncGroup--> stable --heartbeat every heartbeatIntervalMs-->
//       ^                      | MEMBER_ID_REQUIRED: join again with the id handed out (KIP-394)
//       |                      | UNKNOWN_MEMBER_ID: forget the id, join again as new
//       +--- rejoin <----------+ REBALANCE_IN_PROGRESS (join, sync or heartbeat): join again
//            ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID from sync or heartbeat: partitions are lost
//            (not revoked: someone else may own them already, so nothing is committed), rejoin
//            FENCED_INSTANCE_ID, INCONSISTENT_GROUP_PROTOCOL, INVALID_SESSION_TIMEOUT,
//            INVALID_GROUP_ID: fatal, reported to the consumer
//
// One join runs at a time, in a loop that waits for a reason to (re)join. Heartbeats continue
// while the consumer prepares to rejoin (finishing the message in hand, committing, revoking):
// the coordinator holds a rebalance for members that still heartbeat, up to the rebalance timeout;
// they stop while a JoinGroup is held (the coordinator suspends the session then).
//
// The leader (the member the JoinGroup answer names) runs the assignor the group chose over every
// member's subscription and the partition counts it reads from metadata, and sends the result in
// its SyncGroup; it remembers those counts, so a later change (partitions added) makes it rejoin.
// What a new assignment means for the partitions (revoke, fetch committed offsets, resume) is the
// consumer's business, reached through MembershipHooks.

import { Errors, RillError } from '../../errors.js';
import { ApiKeys, type JoinGroupResponse, type TopicPartitions } from '../../protocol/index.js';
import { type Assignor, type RebalanceProtocol } from '../assignors/index.js';
import { errorFromCode } from '../errors.js';
import { type ClientLogger } from '../logger.js';
import { type RetryPolicy } from '../retry.js';
import { type GroupChannel } from './coordinator-channel.js';
import { type GenerationInfo } from './offset-committer.js';

export interface MembershipOptions {
  groupId: string;
  groupInstanceId?: string;
  clientId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** Most preferred first. */
  assignors: readonly Assignor[];
  retry: RetryPolicy;
  logger: ClientLogger;
}

export interface MembershipHooks {
  /** The topics subscribed to now (a pattern resolved against the cluster's topics). */
  topics(): string[];
  /** The partitions owned now (sent in JoinGroup for cooperative assignors). */
  owned(): TopicPartitions[];
  /** Partition counts of `topics` for the leader's assignment (topics that do not exist left out). */
  partitionCounts(topics: string[]): Promise<Map<string, number>>;
  /** Before each JoinGroup: eager revokes everything, cooperative commits what it has. */
  beforeJoin(protocol: RebalanceProtocol): Promise<void>;
  /** The generation's assignment; resolves true when the member must rejoin at once (cooperative revocation). */
  assigned(assignment: TopicPartitions[], protocol: RebalanceProtocol): Promise<boolean>;
  /** Membership was lost (stale generation, unknown member): drop every partition without committing. */
  lost(error: RillError): Promise<void>;
  /** A fatal error: the member cannot be part of the group. */
  fatal(error: RillError): void;
}

export type MembershipState = 'unjoined' | 'preparing' | 'joining' | 'syncing' | 'stable' | 'left';

const FATAL_JOIN_CODES = new Set([
  Errors.FENCED_INSTANCE_ID.code,
  Errors.INCONSISTENT_GROUP_PROTOCOL.code,
  Errors.INVALID_SESSION_TIMEOUT.code,
  Errors.INVALID_GROUP_ID.code,
  Errors.INVALID_REQUEST.code,
]);

export class GroupMembership {
  private readonly channel: GroupChannel;
  private readonly options: MembershipOptions;
  private readonly hooks: MembershipHooks;
  state: MembershipState = 'unjoined';
  memberId = '';
  generationId = -1;
  leader = '';
  /** The assignor of the current generation. */
  protocol: Assignor | null = null;
  /** Partition counts the leader assigned with (empty for followers). */
  assignedCounts = new Map<string, number>();
  /** Completed rebalances (generations this member synced), for listeners and the benchmark. */
  rebalances = 0;
  private rejoinNeeded = true;
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private heartbeating = false;
  private stopped = false;

  constructor(channel: GroupChannel, options: MembershipOptions, hooks: MembershipHooks) {
    this.channel = channel;
    this.options = options;
    this.hooks = hooks;
  }

  get isLeader(): boolean {
    return this.memberId !== '' && this.memberId === this.leader;
  }

  generation(): GenerationInfo {
    return { generationId: this.generationId, memberId: this.memberId, ...(this.options.groupInstanceId === undefined ? {} : { groupInstanceId: this.options.groupInstanceId }) };
  }

  /** Joins, and keeps the membership until leave() or stop(). */
  start(): void {
    if (this.loop !== null) return;
    this.stopped = false;
    this.rejoinNeeded = true;
    this.loop = this.run().finally(() => (this.loop = null));
  }

  /** Asks for a rejoin soon (subscription or metadata changed, or the coordinator said so). */
  requestRejoin(reason: string): void {
    if (this.stopped) return;
    if (!this.rejoinNeeded) this.options.logger.info({ groupId: this.options.groupId, reason }, 'rejoining the group');
    this.rejoinNeeded = true;
    this.wake?.();
  }

  /** Stops heartbeating and rejoining; the coordinator still counts the member until its session ends or it leaves. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopHeartbeat();
    this.wake?.();
    const loop = this.loop;
    if (loop !== null) await loop;
  }

  /** Stops, then sends LeaveGroup so the group rebalances at once instead of after the session timeout. */
  async leave(): Promise<void> {
    // Not waiting for the join loop first: a JoinGroup held by the coordinator ends with the leave.
    this.stopped = true;
    this.stopHeartbeat();
    this.wake?.();
    if (this.memberId === '') {
      await this.stop();
      return;
    }
    const memberId = this.memberId;
    this.reset();
    this.state = 'left';
    try {
      const response = await this.channel.call(ApiKeys.LeaveGroup, {
        groupId: this.options.groupId,
        members: [{ memberId, ...(this.options.groupInstanceId === undefined ? {} : { groupInstanceId: this.options.groupInstanceId }) }],
      });
      const code = response.errorCode || response.members[0]?.errorCode || 0;
      if (code !== 0 && code !== Errors.UNKNOWN_MEMBER_ID.code) this.options.logger.warn({ groupId: this.options.groupId, error: errorFromCode(code, response.message).message }, 'LeaveGroup failed');
    } catch (error) {
      this.options.logger.warn({ err: error, groupId: this.options.groupId }, 'could not leave the group; the coordinator will evict this member after its session timeout');
    }
    await this.stop();
  }

  private reset(): void {
    this.memberId = '';
    this.generationId = -1;
    this.leader = '';
    this.assignedCounts = new Map();
  }

  // ---- the join loop -----------------------------------------------------------------------------

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      if (!this.rejoinNeeded) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
        continue;
      }
      this.rejoinNeeded = false;
      try {
        await this.joinAndSync();
        failures = 0;
      } catch (error) {
        if (this.stopped) return;
        const rill = error instanceof RillError ? error : new RillError(Errors.UNKNOWN_SERVER_ERROR, (error as Error).message, {}, { cause: error });
        if (!rill.retriable) {
          this.stopped = true;
          this.stopHeartbeat();
          this.hooks.fatal(rill);
          return;
        }
        failures++;
        this.rejoinNeeded = true;
        const wait = this.options.retry.delay(Math.min(failures, 10));
        this.options.logger.warn({ err: rill, groupId: this.options.groupId, retry: failures, delayMs: wait }, 'joining the group failed; retrying');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = null;
      }
    }
  }

  private async joinAndSync(): Promise<void> {
    const protocolKind: RebalanceProtocol = this.protocol?.protocol ?? 'eager';
    this.state = 'preparing';
    if (this.memberId !== '') this.startHeartbeat();
    await this.hooks.beforeJoin(protocolKind);
    if (this.stopped) return;
    this.stopHeartbeat();
    this.state = 'joining';
    const joined = await this.join();
    if (joined === null || this.stopped) return;
    this.state = 'syncing';
    const assignments = this.isLeader && joined.skipAssignment !== true ? await this.assign(joined) : undefined;
    // A static leader that took its old place assigns nothing, but must know the counts the group
    // was assigned with, or the next metadata change would look like new partitions.
    if (this.isLeader && joined.skipAssignment === true) this.assignedCounts = await this.hooks.partitionCounts(this.hooks.topics());
    if (this.stopped) return;
    const sync = await this.channel.call(ApiKeys.SyncGroup, {
      groupId: this.options.groupId,
      generationId: this.generationId,
      memberId: this.memberId,
      ...(this.options.groupInstanceId === undefined ? {} : { groupInstanceId: this.options.groupInstanceId }),
      ...(assignments === undefined ? {} : { assignments }),
    });
    if (sync.errorCode !== 0) {
      await this.onGroupError(sync.errorCode, sync.message, 'SyncGroup');
      return;
    }
    this.state = 'stable';
    this.rebalances++;
    this.startHeartbeat();
    const rejoin = await this.hooks.assigned(sync.assignment, this.protocol!.protocol);
    if (rejoin) this.requestRejoin('cooperative rebalance: partitions were revoked, the group assigns them in a second round');
  }

  /** JoinGroup until an answer with a generation (or null when a rejoin was requested instead). */
  private async join(): Promise<JoinGroupResponse | null> {
    for (let attempt = 0; ; attempt++) {
      const topics = this.hooks.topics();
      const cooperative = this.options.assignors.some((a) => a.protocol === 'cooperative');
      const response = await this.channel.call(
        ApiKeys.JoinGroup,
        {
          groupId: this.options.groupId,
          memberId: this.memberId,
          ...(this.options.groupInstanceId === undefined ? {} : { groupInstanceId: this.options.groupInstanceId }),
          clientId: this.options.clientId,
          sessionTimeoutMs: this.options.sessionTimeoutMs,
          rebalanceTimeoutMs: this.options.rebalanceTimeoutMs,
          protocolType: 'consumer',
          protocols: this.options.assignors.map((a) => ({ name: a.name })),
          subscription: { topics, ownedPartitions: cooperative ? this.hooks.owned() : [] },
        },
        this.options.rebalanceTimeoutMs,
      );
      if (this.stopped) return null;
      const code = response.errorCode;
      if (code === 0) {
        this.memberId = response.memberId;
        this.generationId = response.generationId;
        this.leader = response.leader;
        const protocol = this.options.assignors.find((a) => a.name === response.protocolName);
        if (protocol === undefined) throw new RillError(Errors.INCONSISTENT_GROUP_PROTOCOL, `the group chose assignor '${response.protocolName}', which this consumer does not have`, { groupId: this.options.groupId });
        this.protocol = protocol;
        this.options.logger.info({ groupId: this.options.groupId, memberId: this.memberId, generationId: this.generationId, leader: this.isLeader, protocol: protocol.name }, 'joined the group');
        return response;
      }
      if (code === Errors.MEMBER_ID_REQUIRED.code) {
        this.memberId = response.memberId;
        continue;
      }
      if (code === Errors.UNKNOWN_MEMBER_ID.code) {
        this.reset();
        await this.hooks.lost(errorFromCode(code, response.message, { groupId: this.options.groupId }));
        continue;
      }
      if (code === Errors.REBALANCE_IN_PROGRESS.code && attempt < 100) continue;
      throw errorFromCode(code, response.message, { groupId: this.options.groupId });
    }
  }

  private async assign(joined: JoinGroupResponse): Promise<{ memberId: string; partitions: TopicPartitions[] }[]> {
    const topics = [...new Set(joined.members.flatMap((m) => m.subscription.topics))];
    const counts = await this.hooks.partitionCounts(topics);
    this.assignedCounts = counts;
    const result = this.protocol!.assign(
      joined.members.map((m) => ({ memberId: m.memberId, ...(m.groupInstanceId === undefined ? {} : { groupInstanceId: m.groupInstanceId }), subscription: m.subscription })),
      counts,
    );
    return [...result].map(([memberId, partitions]) => ({ memberId, partitions }));
  }

  /** What an error answer to sync or heartbeat means for the membership. */
  private async onGroupError(code: number, message: string | undefined, api: string): Promise<void> {
    const error = errorFromCode(code, message, { groupId: this.options.groupId, memberId: this.memberId, generationId: this.generationId });
    if (code === Errors.REBALANCE_IN_PROGRESS.code) {
      this.requestRejoin(`${api}: the group is rebalancing`);
      return;
    }
    if (code === Errors.ILLEGAL_GENERATION.code || code === Errors.UNKNOWN_MEMBER_ID.code) {
      this.stopHeartbeat();
      this.options.logger.warn({ groupId: this.options.groupId, memberId: this.memberId, generationId: this.generationId, error: error.message }, `${api}: this member fell out of the group; its partitions are lost, rejoining`);
      if (code === Errors.UNKNOWN_MEMBER_ID.code) this.reset();
      else this.generationId = -1;
      this.state = 'unjoined';
      await this.hooks.lost(error);
      this.requestRejoin(`${api}: ${error.message}`);
      return;
    }
    throw error;
  }

  // ---- heartbeats --------------------------------------------------------------------------------

  private startHeartbeat(): void {
    this.stopHeartbeat();
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.options.heartbeatIntervalMs);
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  private async heartbeat(): Promise<void> {
    if (this.heartbeating || this.stopped || this.memberId === '') return;
    const generationId = this.generationId;
    this.heartbeating = true;
    try {
      const response = await this.channel.call(ApiKeys.Heartbeat, { groupId: this.options.groupId, ...this.generation() });
      if (this.stopped || generationId !== this.generationId || this.heartbeatTimer === null) return;
      if (response.errorCode === 0) return;
      if (this.state === 'preparing' && response.errorCode === Errors.REBALANCE_IN_PROGRESS.code) return; // already on the way
      await this.onGroupError(response.errorCode, response.message, 'Heartbeat');
    } catch (error) {
      if (this.stopped) return;
      if (error instanceof RillError && !error.retriable) {
        this.stopped = true;
        this.stopHeartbeat();
        this.hooks.fatal(error);
        return;
      }
      this.options.logger.warn({ err: error, groupId: this.options.groupId }, 'heartbeat failed; trying again at the next interval');
    } finally {
      this.heartbeating = false;
    }
  }
}
