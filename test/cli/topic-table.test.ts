import { describe, expect, it } from 'vitest';
import { alignColumns, formatBytes, formatTopicTable } from '../../src/cli/topic-table.js';

describe('topics describe table', () => {
  it('shows partitions, configs, offsets and sizes', () => {
    const text = formatTopicTable([
      {
        name: 'orders',
        internal: false,
        configs: { 'segment.bytes': '1073741824', 'retention.ms': '604800000' },
        partitions: [
          { partition: 1, leader: 1, logStartOffset: 10, logEndOffset: 3000, highWatermark: 3000, sizeBytes: 400_000 },
          { partition: 0, leader: 1, logStartOffset: 0, logEndOffset: 12, highWatermark: 12, sizeBytes: 1500 },
        ],
      },
    ]);
    expect(text).toBe(
      [
        'Topic: orders',
        '  Partitions: 2    Messages: 3002    Size: 392.1 KiB    Internal: no',
        '  Configs:',
        '    retention.ms   604800000',
        '    segment.bytes  1073741824',
        '  PARTITION  LEADER  LOG-START  LOG-END  HIGH-WATERMARK  SIZE',
        '  0          1       0          12       12              1.5 KiB',
        '  1          1       10         3000     3000            390.6 KiB',
        '',
      ].join('\n'),
    );
  });

  it('shows the topic id beside the name when the broker gives one', () => {
    const text = formatTopicTable([{ name: 'orders', topicId: '5f0c7a52-9a3e-4c8e-b1f4-2b6d0e9c1a77', internal: false, configs: {}, partitions: [] }]);
    expect(text.split('\n')[0]).toBe('Topic: orders    TopicId: 5f0c7a52-9a3e-4c8e-b1f4-2b6d0e9c1a77');
  });

  it('shows replicas and in-sync replicas in a cluster', () => {
    const text = formatTopicTable([
      {
        name: 'ledger',
        internal: false,
        configs: {},
        partitions: [
          { partition: 0, leader: 2, replicas: [2, 3, 1], isr: [2, 1], logStartOffset: 0, logEndOffset: 12, highWatermark: 10, sizeBytes: 1500 },
          { partition: 1, leader: -1, replicas: [3], isr: [3], logStartOffset: -1, logEndOffset: -1, highWatermark: -1, sizeBytes: -1, errorCode: 5 },
        ],
      },
    ]);
    expect(text).toContain('  PARTITION  LEADER  REPLICAS  ISR  LOG-START  LOG-END  HIGH-WATERMARK  SIZE     ERROR');
    expect(text).toContain('  0          2       2,3,1     2,1  0          12       10              1.5 KiB');
    expect(text).toContain('  1          -       3         3    -          -        -               -        LEADER_NOT_AVAILABLE');
  });

  it('prints unknown numbers as "-" and names partition errors', () => {
    const text = formatTopicTable([
      {
        name: 't',
        internal: true,
        configs: {},
        partitions: [{ partition: 0, leader: -1, logStartOffset: -1, logEndOffset: -1, highWatermark: -1, sizeBytes: -1, errorCode: 5 }],
      },
    ]);
    expect(text).toContain('Internal: yes');
    expect(text).toContain('PARTITION  LEADER  LOG-START  LOG-END  HIGH-WATERMARK  SIZE  ERROR');
    expect(text).toContain('0          -       -          -        -               -     LEADER_NOT_AVAILABLE');
    expect(text).not.toContain('Configs');
  });

  it('formats sizes and aligns columns', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1024)).toBe('1.0 KiB');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.0 GiB');
    expect(alignColumns([['a', 'bb', 'c'], ['ddd', 'e', '']])).toEqual(['a    bb  c', 'ddd  e']);
  });
});
