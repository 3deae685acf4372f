// A group member's progress: per owned partition, the offset after the last message the
// application finished with, and what the coordinator has stored. Application thread.
//
// At-least-once: an offset is marked only after the handler for its message (or batch) resolved,
// so a commit never covers a message that was not processed; what was processed but not yet
// committed when a member dies is delivered again to the next owner (the "uncommitted window",
// bounded by autoCommitIntervalMs and autoCommitThreshold). Commits go out one at a time, in order:
// a commit started while another is in flight waits for it, then sends whatever is newest, so an
// older offset never overwrites a newer one.
//
// The coordinator refuses commits for partitions the member does not own in the current
// generation (PARTITION_NOT_ASSIGNED) and from a stale generation (ILLEGAL_GENERATION): commit()
// throws a RillError with that code, naming the partitions, and the caller decides (a revoked
// partition's commit failing means its next owner starts from the previous commit).

import { Errors, RillError } from '../../errors.js';
import { ApiKeys, type OffsetCommitPartition } from '../../protocol/index.js';
import { tpKey } from '../assignors/index.js';
import { errorFromCode } from '../errors.js';
import { type GroupChannel } from './coordinator-channel.js';

export interface GenerationInfo {
  generationId: number;
  memberId: string;
  groupInstanceId?: string;
}

export interface OffsetToCommit {
  topic: string;
  partition: number;
  offset: number;
  metadata?: string;
}

interface Progress {
  topic: string;
  partition: number;
  /** Next offset to consume, as the application last finished; -1 before the first message. */
  consumed: number;
  /** What the coordinator holds for us (or what we found at assignment); -1 for none. */
  committed: number;
  /** Messages below this were handled already (or sought past): a stale fetch's leftovers are skipped. -1: none. */
  floor: number;
  metadata?: string;
}

export class OffsetCommitter {
  private readonly channel: GroupChannel;
  private readonly groupId: string;
  private readonly generation: () => GenerationInfo;
  private readonly progress = new Map<string, Progress>();
  private chain: Promise<unknown> = Promise.resolve();
  /** Messages marked since the last commit was sent (for autoCommitThreshold). */
  uncommittedMessages = 0;
  /** Successful commit requests, for stats and the benchmark. */
  commits = 0;
  /** Hears every offset the coordinator stored, after it answered. */
  onCommitted: ((offsets: OffsetToCommit[]) => void) | null = null;

  constructor(channel: GroupChannel, groupId: string, generation: () => GenerationInfo) {
    this.channel = channel;
    this.groupId = groupId;
    this.generation = generation;
  }

  /** Starts tracking a partition whose committed offset is `committed` (-1: none). */
  track(topic: string, partition: number, committed: number): void {
    this.progress.set(tpKey(topic, partition), { topic, partition, consumed: -1, committed, floor: committed });
  }

  untrack(topic: string, partition: number): void {
    this.progress.delete(tpKey(topic, partition));
  }

  isTracked(topic: string, partition: number): boolean {
    return this.progress.has(tpKey(topic, partition));
  }

  /** The application is done with every message before `nextOffset`. Ignored for untracked partitions. */
  markConsumed(topic: string, partition: number, nextOffset: number, count = 1): void {
    const p = this.progress.get(tpKey(topic, partition));
    if (p === undefined) return;
    p.consumed = nextOffset;
    p.floor = nextOffset;
    this.uncommittedMessages += count;
  }

  /** The offset below which a partition's messages are not handed out again (-1: no bound). */
  floorOf(topic: string, partition: number): number {
    return this.progress.get(tpKey(topic, partition))?.floor ?? -1;
  }

  /** The next offset of a partition as far as the application got (or its commit), or -1. */
  consumedOffset(topic: string, partition: number): number {
    const p = this.progress.get(tpKey(topic, partition));
    return p === undefined ? -1 : p.consumed >= 0 ? p.consumed : p.committed;
  }

  /** After a seek: the application reads from `nextOffset` on (-1: 'earliest' or 'latest', not known yet). */
  resetConsumed(topic: string, partition: number, nextOffset: number): void {
    const p = this.progress.get(tpKey(topic, partition));
    if (p === undefined) return;
    p.floor = nextOffset;
    if (nextOffset >= 0) p.consumed = nextOffset;
  }

  /** Whether some partition has progress the coordinator does not hold. */
  hasUncommitted(filter?: (topic: string, partition: number) => boolean): boolean {
    for (const p of this.progress.values()) if (p.consumed >= 0 && p.consumed !== p.committed && (filter === undefined || filter(p.topic, p.partition))) return true;
    return false;
  }

  /**
   * Commits the consumed offsets of the tracked partitions (those `filter` accepts) that moved
   * since their last commit. Resolves when stored; throws the coordinator's error otherwise.
   */
  commitConsumed(filter?: (topic: string, partition: number) => boolean): Promise<void> {
    return this.enqueue(async () => {
      const partitions: OffsetCommitPartition[] = [];
      for (const p of this.progress.values()) {
        if (p.consumed < 0 || p.consumed === p.committed) continue;
        if (filter !== undefined && !filter(p.topic, p.partition)) continue;
        partitions.push({ topic: p.topic, partition: p.partition, offset: p.consumed, ...(p.metadata === undefined ? {} : { metadata: p.metadata }) });
      }
      if (partitions.length === 0) return;
      this.uncommittedMessages = 0;
      await this.send(partitions);
    });
  }

  /** Commits exactly these offsets (the application's commitOffsets). */
  commitOffsets(offsets: readonly OffsetToCommit[]): Promise<void> {
    for (const o of offsets) {
      if (typeof o.topic !== 'string' || o.topic === '' || !Number.isSafeInteger(o.partition) || o.partition < 0 || !Number.isSafeInteger(o.offset) || o.offset < 0) {
        return Promise.reject(new RillError(Errors.INVALID_REQUEST, `commitOffsets needs { topic, partition, offset } with non-negative integers, got ${JSON.stringify(o)}`));
      }
    }
    if (offsets.length === 0) return Promise.resolve();
    return this.enqueue(() => this.send(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset, ...(o.metadata === undefined ? {} : { metadata: o.metadata }) }))));
  }

  /** Waits for the commits in flight (their errors were reported to whoever started them). */
  async drain(): Promise<void> {
    await this.chain.catch(() => undefined);
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.chain.catch(() => undefined).then(task);
    this.chain = run;
    return run;
  }

  private async send(partitions: OffsetCommitPartition[]): Promise<void> {
    const { generationId, memberId, groupInstanceId } = this.generation();
    if (memberId === '') {
      throw new RillError(Errors.UNKNOWN_MEMBER_ID, `cannot commit for group '${this.groupId}': this consumer is not a member of it (not joined yet, or left)`, { groupId: this.groupId });
    }
    const response = await this.channel.call(ApiKeys.OffsetCommit, {
      groupId: this.groupId,
      generationId,
      memberId,
      ...(groupInstanceId === undefined ? {} : { groupInstanceId }),
      partitions,
    });
    if (response.errorCode !== 0) throw errorFromCode(response.errorCode, response.message, { groupId: this.groupId, generationId });
    const failed: { topic: string; partition: number; errorCode: number }[] = [];
    const stored: OffsetToCommit[] = [];
    response.partitions.forEach((result, i) => {
      const sent = partitions[i];
      if (result.errorCode !== 0) {
        failed.push(result);
        return;
      }
      stored.push({ topic: sent.topic, partition: sent.partition, offset: sent.offset });
      const p = this.progress.get(tpKey(sent.topic, sent.partition));
      if (p !== undefined) p.committed = sent.offset;
    });
    this.commits++;
    if (stored.length > 0) this.onCommitted?.(stored);
    if (failed.length > 0) {
      const first = failed[0];
      const names = failed.map((f) => `${f.topic}-${f.partition}`).join(', ');
      const reason = first.errorCode === Errors.PARTITION_NOT_ASSIGNED.code ? 'not assigned to this member in the current generation' : errorFromCode(first.errorCode, undefined).message;
      throw errorFromCode(first.errorCode, `commit refused for ${names}: ${reason}`, { groupId: this.groupId, generationId, partitions: names });
    }
  }
}
