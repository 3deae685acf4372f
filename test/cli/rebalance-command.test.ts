// `rill cluster reassignments`' table: each move's state, replicas before and after, and each new
// replica's log end against its leader's.

import { describe, expect, it } from 'vitest';
import { formatReassignments } from '../../src/cli/rebalance-command.js';

describe('formatReassignments', () => {
  it('shows moving and queued partitions, unknown figures as -', () => {
    const out = formatReassignments([
      { topic: 'orders', partition: 3, state: 'moving', replicas: [1, 2], target: [3, 1], adding: [3], removing: [2], leader: 1, leaderLogEndOffset: 200, progress: [{ replica: 3, logEndOffset: 120 }] },
      { topic: 'orders', partition: 4, state: 'queued', replicas: [2], target: [3], adding: [3], removing: [2], leader: 2, leaderLogEndOffset: -1, progress: [] },
    ]);
    expect(out.split('\n')).toEqual([
      'TOPIC   PARTITION  STATE   REPLICAS  TARGET  LEADER  LEADER END  NEW REPLICAS (LOG END)',
      'orders  3          moving  1,2       3,1     1       200         3:120',
      'orders  4          queued  2         3       2       -           -',
      '',
    ]);
    expect(formatReassignments([])).toBe('No partitions are being moved.\n');
  });
});
