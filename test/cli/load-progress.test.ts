import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { formatSummary, LoadProgress } from '../../src/cli/load-progress.js';
import { waitFor } from '../helpers/wait-for.js';

function capture(isTTY: boolean) {
  const stream = Object.assign(new PassThrough(), { isTTY, columns: 120 });
  let text = '';
  stream.on('data', (chunk) => (text += chunk));
  return { stream, text: () => text };
}

describe('load mode progress and summary', () => {
  it('summarises messages, seconds, msgs/s and MB/s', () => {
    expect(formatSummary({ messages: 10000, bytes: 10000 * 1024, seconds: 2 })).toBe('10000 messages in 2.00 s: 5000.0 msgs/s, 4.88 MB/s');
    expect(formatSummary({ messages: 0, bytes: 0, seconds: 0 })).toBe('0 messages in 0.00 s: 0.0 msgs/s, 0.00 MB/s');
  });

  it('draws no bar when stderr is not a terminal, only the summary line', () => {
    let now = 0;
    const out = capture(false);
    const progress = new LoadProgress({ total: 100, stream: out.stream, now: () => now });
    expect(progress.drawing).toBe(false);
    now = 500;
    progress.acknowledged(50, 5000);
    now = 1000;
    progress.acknowledged(50, 5000);
    expect(progress.finish()).toEqual({ messages: 100, bytes: 10000, seconds: 1 });
    expect(out.text()).toBe('100 messages in 1.00 s: 100.0 msgs/s, 0.01 MB/s\n');
  });

  it('draws a bar with the live rate on a terminal, then leaves just the summary', async () => {
    let now = 0;
    const out = capture(true);
    const progress = new LoadProgress({ total: 1000, stream: out.stream, now: () => now });
    expect(progress.drawing).toBe(true);
    now = 1000;
    progress.acknowledged(400, 400);
    now = 2000;
    progress.acknowledged(100, 100);
    // cli-progress redraws on its own timer (10 per second).
    const text = await waitFor(() => out.text().includes('500/1000 msgs') && out.text(), { what: 'the bar to be drawn' });
    expect(text).toContain('producing [');
    // The rate is over the last window (100 msgs in 1 s), not the average since the start.
    expect(text).toContain('| 100 msgs/s');
    progress.finish();
    expect(out.text().trimEnd().endsWith('500 messages in 2.00 s: 250.0 msgs/s, 0.00 MB/s')).toBe(true);
  });
});
