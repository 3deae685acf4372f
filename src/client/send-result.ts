// The outcome of one send() or sendBatch() call: a promise settled once every record of the call
// has been acknowledged or has finally failed. Application thread.
//
// A call's records end up in one or more batches (one partition each, perhaps shared with other
// calls). Each batch holding some of them reports once for the whole run (a segment), so the cost
// is per batch, not per record: the promise is the only allocation a call makes for its outcome.
// The call resolves with one RecordMetadata per partition it touched (kafkajs's shape), whose
// baseOffset is the offset of the call's first record there; it rejects with the first error if
// any record failed, but only after all its records have settled, so that when the promise settles
// nothing of the call is still in flight.

import { type BatchSegmentOwner } from './producer-batch.js';

export interface RecordMetadata {
  topic: string;
  partition: number;
  errorCode: number;
  /** Offset of the call's first record in this partition; -1 with acks 0. */
  baseOffset: number;
  /** The broker's append time for LogAppendTime topics; -1 otherwise. */
  logAppendTime: number;
  /** The partition's first offset after the append; -1 with acks 0. */
  logStartOffset: number;
}

export class SendResult implements BatchSegmentOwner {
  readonly promise: Promise<RecordMetadata[]>;
  private resolve!: (value: RecordMetadata[]) => void;
  private reject!: (error: Error) => void;
  /** Segments not yet settled, plus one while records are still being appended. */
  private pending = 1;
  private readonly results: RecordMetadata[] = [];
  private error: Error | null = null;

  constructor() {
    this.promise = new Promise<RecordMetadata[]>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  get settled(): boolean {
    return this.pending === 0;
  }

  segmentOpened(): void {
    this.pending++;
  }

  segmentDone(topic: string, partition: number, baseOffset: number, logAppendTime: number, logStartOffset: number): void {
    const results = this.results;
    let found = false;
    for (let i = 0; i < results.length; i++) {
      const r = results[i];
      if (r.partition !== partition || r.topic !== topic) continue;
      if (baseOffset < r.baseOffset) r.baseOffset = baseOffset;
      if (logStartOffset > r.logStartOffset) r.logStartOffset = logStartOffset;
      found = true;
      break;
    }
    if (!found) results.push({ topic, partition, errorCode: 0, baseOffset, logAppendTime, logStartOffset });
    this.settle();
  }

  segmentFailed(error: Error): void {
    this.error ??= error;
    this.settle();
  }

  /** A record of the call failed before reaching any batch (too large, bad partition, timeout). */
  fail(error: Error): void {
    this.error ??= error;
  }

  /** Every record of the call has been appended (or failed): the call settles with its last segment. */
  doneAppending(): void {
    this.settle();
  }

  private settle(): void {
    if (--this.pending !== 0) return;
    if (this.error !== null) this.reject(this.error);
    else this.resolve(this.results);
  }
}
