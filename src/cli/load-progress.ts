// What `rill produce --count N --size B` shows while it runs and when it ends. Main thread.
//
// While running, and only when stderr is a terminal: a cli-progress bar with the messages
// acknowledged so far and the live rate (over the last second, so a stall shows at once rather than
// being averaged away). At the end, always, one summary line in the spirit of Kafka's
// kafka-producer-perf-test ("N records sent, R records/sec (M MB/sec)"):
//
//   10000 messages in 1.52 s: 6578.9 msgs/s, 6.27 MB/s
//
// MB here is 2^20 bytes, as in Kafka's perf tools; the bytes counted are keys plus values.

import { SingleBar } from 'cli-progress';

export interface Throughput {
  messages: number;
  bytes: number;
  seconds: number;
}

const MB = 1024 * 1024;
/** The live rate is measured over windows of about this length. */
const RATE_WINDOW_MS = 1000;

export function formatSummary({ messages, bytes, seconds }: Throughput): string {
  const perSecond = seconds > 0 ? messages / seconds : 0;
  const mbPerSecond = seconds > 0 ? bytes / MB / seconds : 0;
  return `${messages} messages in ${seconds.toFixed(2)} s: ${perSecond.toFixed(1)} msgs/s, ${mbPerSecond.toFixed(2)} MB/s`;
}

export interface LoadProgressOptions {
  total: number;
  /** Where the bar and the summary go: stderr, so stdout stays for data. */
  stream: NodeJS.WritableStream & { isTTY?: boolean };
  /** Milliseconds, monotonic; injectable for tests. */
  now?: () => number;
}

export class LoadProgress {
  private readonly bar: SingleBar | undefined;
  private readonly now: () => number;
  private readonly startedAt: number;
  /** (time, messages) at each acknowledgement of about the last RATE_WINDOW_MS, oldest first. */
  private readonly samples: { at: number; messages: number }[];
  private rate = 0;
  private messages = 0;
  private bytes = 0;

  constructor(private readonly options: LoadProgressOptions) {
    this.now = options.now ?? (() => performance.now());
    this.startedAt = this.now();
    this.samples = [{ at: this.startedAt, messages: 0 }];
    if (options.stream.isTTY === true) {
      this.bar = new SingleBar({
        stream: options.stream,
        format: 'producing [{bar}] {percentage}% | {value}/{total} msgs | {rate} msgs/s | ETA {eta_formatted}',
        hideCursor: true,
        clearOnComplete: true,
        barsize: 30,
      });
      this.bar.start(options.total, 0, { rate: '0' });
    }
  }

  /** Whether a bar is drawn (stderr is a terminal). */
  get drawing(): boolean {
    return this.bar !== undefined;
  }

  /** Counts `messages` more acknowledged messages holding `bytes` bytes. */
  acknowledged(messages: number, bytes: number): void {
    this.messages += messages;
    this.bytes += bytes;
    const now = this.now();
    // A sliding window: measure from the latest sample at least RATE_WINDOW_MS old (before the
    // first second, from the start).
    this.samples.push({ at: now, messages: this.messages });
    while (this.samples.length > 2 && this.samples[1].at <= now - RATE_WINDOW_MS) this.samples.shift();
    const from = this.samples[0];
    if (now > from.at) this.rate = ((this.messages - from.messages) * 1000) / (now - from.at);
    this.bar?.update(this.messages, { rate: this.rate.toFixed(0) });
  }

  /** Removes the bar, writes the summary line and returns the figures it shows. */
  finish(): Throughput {
    this.bar?.stop();
    const result = { messages: this.messages, bytes: this.bytes, seconds: (this.now() - this.startedAt) / 1000 };
    this.options.stream.write(`${formatSummary(result)}\n`);
    return result;
  }
}
