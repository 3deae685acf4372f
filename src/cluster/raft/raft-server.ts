// A RaftNode at work: ticks it on a clock, feeds it frames from a transport, carries out its output
// (persist, then send, then apply) and turns proposals into promises. Main thread only.
//
// Group commit: inputs only mark the server dirty; the output is carried out once per turn of the
// event loop (clock.defer), so a burst of proposals and acknowledgements shares one fsync. Messages
// produced in the meantime wait in the node's output, so none leaves before the state it depends
// on is durable (raft-node.ts's contract).
//
// What propose() resolving means: the command is committed — on a majority of voters' disks — and
// this node has applied it; the value is what the state machine's apply() returned. A rejection
// with NOT_CONTROLLER means this node does not lead (details.leaderId names the leader if known),
// or lost leadership before the command committed: then the outcome is unknown (details.outcome),
// it may still commit under the next leader, so commands should be safe to retry (conditional, like
// "create topic if absent").

import { Errors, RillError } from '../../errors.js';
import type { Clock, TimerHandle } from '../clock.js';
import { DropCounters } from '../envelope.js';
import type { Random } from '../random.js';
import { decodeRaftMessage, encodeRaftMessage, EntryKind, type LogEntry } from './messages.js';
import { RaftNode, type RaftRole } from './raft-node.js';
import { hasWrites, type RaftStorage } from './raft-storage.js';
import type { RaftTransport } from './raft-transport.js';

/** The replicated state machine (the metadata state, in Rill). Must be deterministic. */
export interface RaftStateMachine<R = unknown> {
  apply(command: Uint8Array, index: number, term: number): R;
  /** A serialization of the whole state, as of the last applied entry. */
  snapshot(): Uint8Array;
  /** Replaces the whole state; `lastIndex` is the last entry the snapshot covers. */
  restore(data: Uint8Array, lastIndex: number): void;
}

export interface RaftServerOptions<R> {
  id: number;
  voters: readonly number[];
  /** Frames from any other cluster id are dropped. */
  clusterId: string;
  storage: RaftStorage;
  transport: RaftTransport;
  stateMachine: RaftStateMachine<R>;
  clock: Clock;
  random: Random;
  /** Milliseconds per tick. */
  tickMs?: number;
  electionTicks?: number;
  heartbeatTicks?: number;
  /** Take a snapshot and truncate the log after this many applied entries. */
  snapshotEvery?: number;
  /** Called whenever role, term or leader changes. */
  onStateChange?: (state: RaftStatus) => void;
}

export const RAFT_SERVER_DEFAULTS = Object.freeze({
  // 50 ms ticks, 10-tick (0.5-1 s) election timeouts and 100 ms heartbeats: a dead controller is
  // replaced in about a second, and a 2-core VM with a busy event loop does not time out spuriously.
  tickMs: 50,
  electionTicks: 10,
  heartbeatTicks: 2,
  snapshotEvery: 10_000,
});

export interface RaftStatus {
  id: number;
  role: RaftRole;
  term: number;
  leaderId: number | null;
  commitIndex: number;
  lastIndex: number;
  snapshotIndex: number;
}

interface Waiter<R> {
  term: number;
  resolve(result: R): void;
  reject(error: RillError): void;
}

export class RaftServer<R = unknown> {
  readonly id: number;
  readonly drops = new DropCounters();
  private readonly node: RaftNode;
  private readonly options: RaftServerOptions<R>;
  private readonly tickMs: number;
  private readonly snapshotEvery: number;
  private readonly waiters = new Map<number, Waiter<R>>();
  private timer: TimerHandle | null = null;
  private flushScheduled = false;
  private stopped = false;
  private lastState = '';
  private appliedIndex: number;

  constructor(options: RaftServerOptions<R>) {
    this.options = options;
    this.id = options.id;
    this.tickMs = options.tickMs ?? RAFT_SERVER_DEFAULTS.tickMs;
    this.snapshotEvery = options.snapshotEvery ?? RAFT_SERVER_DEFAULTS.snapshotEvery;
    const durable = options.storage.load();
    this.node = new RaftNode(
      {
        id: options.id,
        voters: options.voters,
        electionTicks: options.electionTicks ?? RAFT_SERVER_DEFAULTS.electionTicks,
        heartbeatTicks: options.heartbeatTicks ?? RAFT_SERVER_DEFAULTS.heartbeatTicks,
        random: options.random,
      },
      durable,
    );
    if (durable.snapshot.lastIndex > 0) options.stateMachine.restore(durable.snapshot.data, durable.snapshot.lastIndex);
    this.appliedIndex = durable.snapshot.lastIndex;
    options.transport.listen((frame) => this.receive(frame));
    this.armTimer();
  }

  status(): RaftStatus {
    const n = this.node;
    return { id: this.id, role: n.role, term: n.term, leaderId: n.leaderId, commitIndex: n.commitIndex, lastIndex: n.lastIndex, snapshotIndex: n.snapshotIndex };
  }

  get isLeader(): boolean {
    return this.node.role === 'leader';
  }

  /** The controller epoch: the term in which this node leads (meaningful while isLeader). */
  get term(): number {
    return this.node.term;
  }

  get lastApplied(): number {
    return this.appliedIndex;
  }

  /** The term of the entry at `index` in this node's log (undefined: compacted or absent). For checks and tests. */
  termAt(index: number): number | undefined {
    return this.node.termAt(index);
  }

  /** The non-voters this node replicates to while it leads (raft-node.ts, learners). */
  setLearners(ids: readonly number[]): void {
    if (this.stopped) return;
    this.node.setLearners(ids);
    this.scheduleFlush();
  }

  /** True while this leader may serve reads of the state machine without a round trip. */
  hasLease(): boolean {
    return this.node.hasLease();
  }

  /**
   * Replicates `command`; see the header for what the result means. `expectedTerm` fences a caller
   * that decided on the command as leader of an earlier term (it may be stale by now).
   */
  propose(command: Uint8Array, expectedTerm?: number): Promise<R> {
    if (this.stopped) return Promise.reject(this.notController('stopped'));
    if (expectedTerm !== undefined && expectedTerm !== this.node.term) {
      return Promise.reject(new RillError(Errors.STALE_CONTROLLER_EPOCH, undefined, { expectedTerm, term: this.node.term }));
    }
    const result = this.node.propose(command);
    if (!result.ok) return Promise.reject(this.notController('not-leader'));
    this.scheduleFlush();
    return new Promise<R>((resolve, reject) => this.waiters.set(result.index, { term: result.term, resolve, reject }));
  }

  /**
   * Stops ticking and receiving; pending proposals fail with NOT_CONTROLLER. Closes the storage.
   * `flush: false` drops output not yet carried out, as a crash would (the simulations use it).
   */
  stop({ flush = true }: { flush?: boolean } = {}): void {
    if (this.stopped) return;
    if (flush) this.flush();
    this.stopped = true;
    if (this.timer !== null) this.options.clock.clearTimer(this.timer);
    this.options.transport.close();
    this.options.storage.close();
    this.failWaiters(() => true);
  }

  private armTimer(): void {
    this.timer = this.options.clock.setTimer(this.tickMs, () => {
      if (this.stopped) return;
      this.node.tick();
      this.scheduleFlush();
      this.armTimer();
    });
  }

  private receive(frame: Uint8Array): void {
    if (this.stopped) return;
    const decoded = decodeRaftMessage(frame, this.options.clusterId);
    if (!decoded.ok) {
      this.drops.count(decoded.reason);
      return;
    }
    this.node.step(decoded.message);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.options.clock.defer(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.stopped) return;
    const out = this.node.takeOutput();
    if (hasWrites(out)) this.options.storage.save(out);
    for (const m of out.messages) this.options.transport.send(m.to, encodeRaftMessage(this.options.clusterId, m));
    if (out.restore !== null) {
      this.options.stateMachine.restore(out.restore.data, out.restore.lastIndex);
      this.appliedIndex = out.restore.lastIndex;
      // Entries the snapshot covers were decided elsewhere; whether ours among them won is unknown here.
      this.failWaiters((index) => index <= out.restore!.lastIndex);
    }
    for (const entry of out.committed) this.apply(entry);
    if (this.appliedIndex - this.node.snapshotIndex >= this.snapshotEvery) {
      this.node.compact(this.appliedIndex, this.options.stateMachine.snapshot());
      this.scheduleFlush();
    }
    this.reportState();
  }

  private apply(entry: LogEntry): void {
    const result = entry.kind === EntryKind.COMMAND ? this.options.stateMachine.apply(entry.data, entry.index, entry.term) : undefined;
    this.appliedIndex = entry.index;
    const waiter = this.waiters.get(entry.index);
    if (waiter === undefined) return;
    this.waiters.delete(entry.index);
    if (waiter.term === entry.term) waiter.resolve(result as R);
    else waiter.reject(this.notController('lost'));
  }

  private reportState(): void {
    const n = this.node;
    const key = `${n.role}/${n.term}/${n.leaderId}`;
    if (key === this.lastState) return;
    this.lastState = key;
    if (n.role !== 'leader') this.failWaiters(() => true, 'unknown');
    this.options.onStateChange?.(this.status());
  }

  private failWaiters(which: (index: number) => boolean, outcome = 'unknown'): void {
    for (const [index, waiter] of this.waiters) {
      if (!which(index)) continue;
      this.waiters.delete(index);
      waiter.reject(this.notController(outcome));
    }
  }

  private notController(outcome: string): RillError {
    return new RillError(Errors.NOT_CONTROLLER, undefined, { leaderId: this.node.leaderId, outcome });
  }
}
