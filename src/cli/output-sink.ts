// Where `rill consume` writes: stdout with backpressure, and a reader that goes away treated as
// the end of the run, not as a crash. Main thread.
//
// `rill consume t --from-beginning | head -3` must print three lines and end quietly: when `head`
// exits, the next write fails with EPIPE (Node ignores SIGPIPE, so no signal ends us as it would
// end `cat`). The sink turns that into `closed`, which the consume loop checks to stop fetching.
// Writes wait for 'drain', so a slow reader slows the consumer instead of filling memory.

import { type Writable } from 'node:stream';

export class OutputSink {
  private closedBy: Error | undefined;
  private isClosed = false;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly stream: Writable) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      this.isClosed = true;
      // EPIPE (and ERR_STREAM_DESTROYED after it) means the reader left; anything else is a real failure.
      if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') this.closedBy = error;
      this.wake();
    });
    stream.on('close', () => {
      this.isClosed = true;
      this.wake();
    });
  }

  /** True once the reader has gone (or the stream failed); further writes are dropped. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** The error that closed the stream, when it was not just the reader leaving. */
  get error(): Error | undefined {
    return this.closedBy;
  }

  /** Writes `bytes`; resolves when the stream can take more (at once when it can already). */
  async write(bytes: Uint8Array): Promise<void> {
    if (this.isClosed) return;
    if (this.stream.write(bytes)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.stream.off('drain', done);
        this.waiters.delete(done);
        resolve();
      };
      this.waiters.add(done);
      this.stream.once('drain', done);
      if (this.isClosed) done();
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
