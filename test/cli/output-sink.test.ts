import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { OutputSink } from '../../src/cli/output-sink.js';

describe('OutputSink', () => {
  it('waits for drain when the stream is full', async () => {
    const written: string[] = [];
    let release: (() => void) | undefined;
    const stream = new Writable({
      highWaterMark: 4,
      write(chunk, _encoding, done) {
        written.push(String(chunk));
        release = done;
      },
    });
    const sink = new OutputSink(stream);
    let drained = false;
    const writing = sink.write(Buffer.from('12345')).then(() => (drained = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(drained).toBe(false);
    release!();
    await writing;
    expect(written).toEqual(['12345']);
  });

  it('treats EPIPE as the reader leaving: closed, no error, pending writes released', async () => {
    const stream = new Writable({ highWaterMark: 1, write: () => undefined });
    const sink = new OutputSink(stream);
    const writing = sink.write(Buffer.from('abc'));
    stream.destroy(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    await writing;
    expect(sink.closed).toBe(true);
    expect(sink.error).toBeUndefined();
    await sink.write(Buffer.from('more'));
  });

  it('keeps any other stream error', async () => {
    const stream = new Writable({ write: (_c, _e, done) => done(Object.assign(new Error('no space'), { code: 'ENOSPC' })) });
    const sink = new OutputSink(stream);
    // The write fails at once, so it waits for a drain that never comes; the error releases it.
    await sink.write(Buffer.from('x'));
    expect(sink.closed).toBe(true);
    expect(sink.error?.message).toBe('no space');
  });
});
