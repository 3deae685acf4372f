// Lines from a byte stream (stdin, a file), for `rill produce`: one message per line. Main thread.
//
// Works on bytes, not strings: a message is the bytes between two newlines, exactly, whatever
// encoding they are in, and a multi-byte character split across two reads cannot be mangled.
// A line ends at "\n"; a "\r" just before it is dropped too (files from Windows), as Java's
// readLine() does for kafka-console-producer. The last line needs no newline; an empty line is an
// empty message, except that the input's final newline does not start one more.
//
// Every line is given out: the stream is read with async iteration, so backpressure from a slow
// broker holds the reading, and nothing is ever dropped for being early.

/** Splits chunks into lines; keeps the unfinished tail for the next chunk. */
export class LineSplitter {
  private tail: Buffer[] = [];

  /** The lines that `chunk` completes, in order. */
  push(chunk: Buffer): Buffer[] {
    const lines: Buffer[] = [];
    let start = 0;
    for (let end = chunk.indexOf(0x0a, start); end !== -1; end = chunk.indexOf(0x0a, start)) {
      let line = chunk.subarray(start, end);
      if (this.tail.length > 0) {
        line = Buffer.concat([...this.tail, line]);
        this.tail = [];
      }
      lines.push(withoutCarriageReturn(line));
      start = end + 1;
    }
    // Copy the tail: the stream may reuse the chunk's memory.
    if (start < chunk.length) this.tail.push(Buffer.from(chunk.subarray(start)));
    return lines;
  }

  /** The last line, if the input did not end with a newline. */
  end(): Buffer | undefined {
    if (this.tail.length === 0) return undefined;
    const line = Buffer.concat(this.tail);
    this.tail = [];
    return withoutCarriageReturn(line);
  }
}

function withoutCarriageReturn(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === 0x0d ? line.subarray(0, line.length - 1) : line;
}

/**
 * The lines of `input`, a chunk's worth at a time: each yielded array holds the lines that one read
 * completed. Batching by read lets the producer send what arrived together in one request, and
 * send at once what a person typed.
 */
export async function* readLineBatches(input: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer[]> {
  const splitter = new LineSplitter();
  for await (const chunk of input) {
    const lines = splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    if (lines.length > 0) yield lines;
  }
  const last = splitter.end();
  if (last !== undefined) yield [last];
}
