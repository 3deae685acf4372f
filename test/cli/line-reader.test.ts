import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Readable } from 'node:stream';
import { LineSplitter, readLineBatches } from '../../src/cli/line-reader.js';

async function linesOf(chunks: (string | Buffer)[]): Promise<string[]> {
  const lines: string[] = [];
  for await (const batch of readLineBatches(Readable.from(chunks.map((c) => Buffer.from(c))))) lines.push(...batch.map((l) => l.toString('utf8')));
  return lines;
}

describe('lines from a byte stream', () => {
  it('gives every line, the last one without a newline too', async () => {
    expect(await linesOf(['a\nb\nc'])).toEqual(['a', 'b', 'c']);
    expect(await linesOf(['a\nb\nc\n'])).toEqual(['a', 'b', 'c']);
    expect(await linesOf(['a\n\n\nb\n'])).toEqual(['a', '', '', 'b']);
    expect(await linesOf(['\n'])).toEqual(['']);
    expect(await linesOf([])).toEqual([]);
    expect(await linesOf([''])).toEqual([]);
  });

  it('joins lines split across reads, CRLF included', async () => {
    expect(await linesOf(['hel', 'lo\r', '\nwor', 'ld\r\n'])).toEqual(['hello', 'world']);
    expect(await linesOf(['a', 'b', 'c', '\n', 'd'])).toEqual(['abc', 'd']);
  });

  it('keeps bytes as they are, a multi-byte character split across reads included', async () => {
    const text = Buffer.from('zürich €\n');
    const lines: Buffer[] = [];
    for await (const batch of readLineBatches(Readable.from([text.subarray(0, 2), text.subarray(2, 8), text.subarray(8)]))) lines.push(...batch);
    expect(lines).toEqual([Buffer.from('zürich €')]);
    const binary = Buffer.from([0, 255, 13, 0x0a, 1, 0xfe]);
    const splitter = new LineSplitter();
    expect(splitter.push(binary)).toEqual([Buffer.from([0, 255])]);
    expect(splitter.end()).toEqual(Buffer.from([1, 0xfe]));
  });

  it('batches the lines of one read together', async () => {
    const batches: number[] = [];
    for await (const batch of readLineBatches(Readable.from([Buffer.from('1\n2\n3\n'), Buffer.from('4\n')]))) batches.push(batch.length);
    expect(batches).toEqual([3, 1]);
  });

  it('reads back exactly the lines written, however the bytes are cut', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: 'grapheme' }).map((s) => s.replace(/[\r\n]/g, '')), { maxLength: 30 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (lines, trailingNewline, cuts) => {
          // Every line ends with a newline, except that a non-empty last line may go without.
          let text = lines.map((line) => `${line}\n`).join('');
          if (!trailingNewline && lines.length > 0 && lines[lines.length - 1] !== '') text = text.slice(0, -1);
          const bytes = Buffer.from(text);
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          const chunks: Buffer[] = [];
          let from = 0;
          for (const point of [...points, bytes.length]) {
            chunks.push(bytes.subarray(from, point));
            from = point;
          }
          expect(await linesOf(chunks.filter((c) => c.length > 0))).toEqual(lines);
        },
      ),
    );
  });
});
