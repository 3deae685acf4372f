// Sends messages in batches with a bounded number of sends in flight, for `rill produce`. Main thread.
//
// One send per message would cost a round trip each (10,000 lines, 10,000 requests); one send for
// the whole input would hold all of it in memory. So messages gather into batches (up to
// maxBatchMessages or maxBatchBytes, or whatever the caller flushes: one read of stdin), and at most
// maxInFlight batches wait for acknowledgement at once, like Kafka's
// max.in.flight.requests.per.connection. add() waits while that many are out, which holds the
// reading of the input: memory stays bounded however fast the input comes.
//
// The first failed send ends the run: add() and close() throw its error, and no further batch is
// sent, so `acknowledged` counts exactly the messages known to be stored.

export interface OutgoingMessage {
  key?: Buffer | null;
  value: Buffer;
  headers?: Record<string, string>;
  partition?: number;
}

export type SendBatch = (messages: OutgoingMessage[]) => Promise<unknown>;

export interface BatchSenderOptions {
  maxInFlight?: number;
  maxBatchMessages?: number;
  maxBatchBytes?: number;
  /** Called as each batch is acknowledged, with its message count and key+value bytes. */
  onAcknowledged?: (messages: number, bytes: number) => void;
}

export const DEFAULT_MAX_IN_FLIGHT = 5;
export const DEFAULT_MAX_BATCH_MESSAGES = 1000;
/** Under the broker's default 4 MiB max frame, with room for headers. */
export const DEFAULT_MAX_BATCH_BYTES = 1024 * 1024;

export class BatchSender {
  private readonly maxInFlight: number;
  private readonly maxBatchMessages: number;
  private readonly maxBatchBytes: number;
  private batch: OutgoingMessage[] = [];
  private batchBytes = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;
  private acknowledgedCount = 0;
  private sentCount = 0;

  constructor(
    private readonly send: SendBatch,
    private readonly options: BatchSenderOptions = {},
  ) {
    this.maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    this.maxBatchMessages = options.maxBatchMessages ?? DEFAULT_MAX_BATCH_MESSAGES;
    this.maxBatchBytes = options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
  }

  /** Messages acknowledged so far. */
  get acknowledged(): number {
    return this.acknowledgedCount;
  }

  /** Messages handed to send() so far (acknowledged or still in flight). */
  get sent(): number {
    return this.sentCount;
  }

  /** Queues `message`; sends the batch when it is full, waiting while maxInFlight sends are out. */
  async add(message: OutgoingMessage): Promise<void> {
    this.throwIfFailed();
    const bytes = sizeOf(message);
    if (this.batch.length > 0 && this.batchBytes + bytes > this.maxBatchBytes) await this.flush();
    this.batch.push(message);
    this.batchBytes += bytes;
    if (this.batch.length >= this.maxBatchMessages || this.batchBytes >= this.maxBatchBytes) await this.flush();
  }

  /** Sends the messages gathered so far (if any), waiting while maxInFlight sends are out. */
  async flush(): Promise<void> {
    this.throwIfFailed();
    if (this.batch.length === 0) return;
    while (this.inFlight.size >= this.maxInFlight) await Promise.race(this.inFlight);
    this.throwIfFailed();
    const messages = this.batch;
    const bytes = this.batchBytes;
    this.batch = [];
    this.batchBytes = 0;
    this.sentCount += messages.length;
    const sending: Promise<void> = this.send(messages).then(
      () => {
        this.acknowledgedCount += messages.length;
        this.options.onAcknowledged?.(messages.length, bytes);
      },
      (error: unknown) => {
        this.failure ??= { error };
      },
    );
    const tracked = sending.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  /**
   * Sends what is left (unless a send failed) and waits for every send to settle, so that
   * `acknowledged` is final; then throws the first failure, if any.
   */
  async close(): Promise<void> {
    if (this.failure === undefined) {
      try {
        await this.flush();
      } catch {
        // A send failed while this one waited for room; reported below.
      }
    }
    while (this.inFlight.size > 0) await Promise.race(this.inFlight);
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure.error;
  }
}

function sizeOf(message: OutgoingMessage): number {
  return message.value.length + (message.key?.length ?? 0);
}
