// When a partition log's bytes reach the disk: fdatasync rounds, group commit, the periodic
// flush and the checkpoint. Owner thread only; one LogFlusher per PartitionLog.
//
// A round captures the log end, fdatasyncs every segment with unsynced bytes (on the thread
// pool), then declares everything below the captured end durable and settles the appends waiting
// for it. Rounds never overlap; appends that arrive during one are covered by the next, so
// concurrent appends share one fdatasync (group commit).
//
// Checkpoints (checkpoint.ts) ride on rounds: every round in async mode, at most once per
// flush.interval.ms in sync mode (an fdatasync per append is enough). A checkpoint is written only
// after the bytes and index entries it counts were synced, and never for a state that a
// truncation overtook meanwhile.

import { Errors, RillError } from '../errors.js';
import { type Logger } from '../logger.js';
import { type FileIo } from '../native/index.js';
import { type CheckpointFile } from './checkpoint.js';
import { DurabilityWaiters } from './durability-waiters.js';
import { type LogConfig } from './log-config.js';
import { type Segment } from './segment.js';
import { storageError } from './storage-error.js';

/** What the flusher needs to know of its log. */
export interface FlushedLog {
  readonly dir: string;
  /** Offset the next appended record gets. */
  logEnd(): number;
  /** The segment appends go to. */
  activeSegment(): Segment;
  /** Whether `segment` still belongs to the log. */
  holds(segment: Segment): boolean;
}

export interface FlusherOptions {
  config: Pick<LogConfig, 'flushMode' | 'flushIntervalMs'>;
  checkpoint: CheckpointFile;
  io: FileIo;
  clock: () => number;
  logger: Logger;
  /** Offsets below this are known durable when the log opens. */
  durableEnd: number;
  /** Sealed segments whose bytes recovery accepted but nothing has synced yet. */
  unsynced: Segment[];
}

export interface FlushStats {
  flushes: number;
  flushSeconds: number;
}

export class LogFlusher {
  private readonly log: FlushedLog;
  private readonly options: FlusherOptions;
  private readonly waiters = new DurabilityWaiters();
  private durable: number;
  private checkpointed: number;
  private lastCheckpointAt: number;
  /** When the last round started; a write starts one once flush.interval.ms has passed. */
  private lastRoundAt: number;
  private unsyncedSealed: Segment[];
  private scheduled = false;
  private requested = false;
  private running: Promise<void> | null = null;
  /** Bumped by truncations, so a round that straddles one does not checkpoint stale state. */
  private generation = 0;
  private timer: NodeJS.Timeout | null;
  private stopped = false;
  private failed: RillError | null = null;
  private flushes = 0;
  private flushSeconds = 0;

  constructor(log: FlushedLog, options: FlusherOptions) {
    this.log = log;
    this.options = options;
    this.durable = options.durableEnd;
    this.checkpointed = options.durableEnd;
    this.unsyncedSealed = [...options.unsynced];
    this.lastCheckpointAt = options.clock();
    this.lastRoundAt = options.clock();
    this.timer = setInterval(() => this.onTimer(), options.config.flushIntervalMs);
    this.timer.unref();
  }

  /**
   * fdatasync rounds completed and the seconds they took, summed (for the broker's metrics: rates
   * of both give the mean flush latency over any window).
   */
  get stats(): FlushStats {
    return { flushes: this.flushes, flushSeconds: this.flushSeconds };
  }

  /** Every offset below this is fdatasynced. */
  get durableEnd(): number {
    return this.durable;
  }

  /** Set once an fdatasync failed: the page cache may have dropped data, so writes must stop. */
  get failure(): RillError | null {
    return this.failed;
  }

  /** Resolves once every offset below `end` is fdatasynced, starting a round if needed. */
  waitForDurable(end: number): Promise<void> {
    if (end <= this.durable) return Promise.resolve();
    if (this.stopped) return Promise.reject(new RillError(Errors.LOG_CLOSED, `partition log ${this.log.dir} is closed`));
    if (this.failed !== null) return Promise.reject(this.failed);
    const promise = this.waiters.add(end);
    this.schedule();
    return promise;
  }

  /** After each write: the interval timer cannot fire while the owner appends without yielding. */
  afterWrite(now: number): void {
    if (this.running === null && now - this.lastRoundAt >= this.options.config.flushIntervalMs) void this.run(false);
  }

  /** A segment was sealed: its tail gets its fdatasync now (or right after the running round). */
  sealed(segment: Segment): void {
    this.unsyncedSealed.push(segment);
    this.requested = true;
    if (this.running === null) void this.run(false);
  }

  /** Segments left the log (retention, truncation): nothing to sync for them any more. */
  forget(): void {
    this.unsyncedSealed = this.unsyncedSealed.filter((s) => this.log.holds(s) && s !== this.log.activeSegment());
  }

  /**
   * The log was truncated to `end` and a checkpoint for it written: rounds in flight must not
   * checkpoint older state, and appends waiting beyond the end fail with LOG_TRUNCATED.
   */
  truncated(end: number): void {
    this.generation++;
    this.forget();
    this.durable = Math.min(this.durable, end);
    this.checkpointed = Math.min(this.checkpointed, end);
    this.waiters.rejectFrom(end, new RillError(Errors.LOG_TRUNCATED, `log ${this.log.dir} was truncated to ${end}`));
  }

  /** Makes everything written before the call durable and checkpointed. */
  async flush(): Promise<void> {
    const target = this.log.logEnd();
    while (this.running !== null) await this.running;
    if (this.checkpointed >= target && this.unsyncedSealed.length === 0) return;
    await this.run(true);
    if (this.failed !== null) throw this.failed;
  }

  /**
   * Stops the timer and waits for the running round; returns the sealed segments still unsynced
   * (close syncs them itself, on this thread).
   */
  async stop(): Promise<Segment[]> {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    while (this.running !== null) await this.running.catch(() => {});
    return this.unsyncedSealed;
  }

  /** After close synced everything below `end`: settle every waiter, one way or the other. */
  settleAll(end: number | null): void {
    if (end !== null) {
      this.durable = end;
      this.waiters.resolveUpTo(end);
    }
    this.waiters.rejectAll(new RillError(Errors.LOG_CLOSED, `partition log ${this.log.dir} closed`));
  }

  private schedule(): void {
    if (this.scheduled || this.running !== null || this.stopped) return;
    this.scheduled = true;
    // setImmediate rather than now: appends issued in this turn of the event loop share the sync.
    setImmediate(() => {
      this.scheduled = false;
      if (!this.stopped) void this.run(false);
    });
  }

  private onTimer(): void {
    if (this.stopped || this.running !== null) return;
    if (this.durable < this.log.logEnd() || this.checkpointed < this.durable || this.unsyncedSealed.length > 0) void this.run(true);
  }

  /** Runs one round unless one is running; then keeps going while appends are waiting. */
  private async run(checkpoint: boolean): Promise<void> {
    if (this.running !== null) return this.running;
    if (this.stopped || this.failed !== null) return;
    const { flushMode, flushIntervalMs } = this.options.config;
    const due = this.options.clock() - this.lastCheckpointAt >= flushIntervalMs;
    const round = this.round(checkpoint || flushMode === 'async' || due);
    this.running = round;
    try {
      await round;
    } finally {
      this.running = null;
    }
    if (!this.stopped && this.failed === null && (this.waiters.size > 0 || this.requested)) this.schedule();
  }

  private async round(checkpoint: boolean): Promise<void> {
    const { clock, io } = this.options;
    this.requested = false;
    this.lastRoundAt = clock();
    const target = this.log.logEnd();
    const generation = this.generation;
    const active = this.log.activeSegment();
    const sealed = this.unsyncedSealed;
    this.unsyncedSealed = [];
    const state = checkpoint ? active.checkpointState(false) : null;
    // Wall time, not the injectable clock: this is a measurement, not a decision.
    const started = performance.now();
    try {
      await Promise.all([...sealed.map((s) => s.syncAsync(true)), active.syncAsync(checkpoint)]);
      this.flushes++;
      this.flushSeconds += (performance.now() - started) / 1000;
    } catch (error) {
      this.fail(storageError(error, `fdatasync in ${this.log.dir}`));
      return;
    }
    if (generation !== this.generation || this.stopped) return;
    this.durable = Math.max(this.durable, target);
    this.waiters.resolveUpTo(this.durable);
    if (state === null || !this.log.holds(active)) return;
    try {
      await this.options.checkpoint.writeAsync(state, io.fdatasyncAsync);
    } catch (error) {
      this.fail(storageError(error, `writing the checkpoint of ${this.log.dir}`));
      return;
    }
    if (generation !== this.generation) return; // a truncation wrote a newer checkpoint meanwhile
    this.checkpointed = target;
    this.lastCheckpointAt = clock();
  }

  private fail(error: RillError): void {
    this.failed = error;
    this.options.logger.error({ dir: this.log.dir, err: error }, 'fdatasync failed; the log refuses writes until it is reopened and recovered');
    this.waiters.rejectAll(error);
  }
}
