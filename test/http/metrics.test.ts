// The replication gauge of /metrics: under-replicated partitions per worker, from the owners' stats.

import { describe, expect, it } from 'vitest';
import { BrokerMetrics } from '../../src/http/metrics.js';

describe('BrokerMetrics replication figures', () => {
  it('shows under-replicated partitions per worker, 0 where a worker has none', async () => {
    const worker = (id: number, underReplicated?: number) => ({ worker: id, partitions: 3, segments: 3, logBytes: 10, flushes: 0, flushSeconds: 0, underReplicated });
    const metrics = new BrokerMetrics({ rings: () => [], longPollsWaiting: () => 0, groupMembers: () => 0, workers: async () => [worker(0, 2), worker(1)] });
    const { text } = await metrics.render();
    expect(text).toMatch(/^rill_under_replicated_partitions\{worker="0"\} 2$/m);
    expect(text).toMatch(/^rill_under_replicated_partitions\{worker="1"\} 0$/m);
  });
});
