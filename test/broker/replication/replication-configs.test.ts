import { describe, expect, it } from 'vitest';
import { Errors } from '../../../src/errors.js';
import { logShareOf, replicationConfigOf } from '../../../src/broker/replication/replication-configs.js';

describe('replication topic configs', () => {
  it('parses min.insync.replicas and unclean.leader.election.enable, with Kafka defaults', () => {
    expect(replicationConfigOf({})).toEqual({ minInsyncReplicas: 1, uncleanLeaderElection: false });
    expect(replicationConfigOf({ 'min.insync.replicas': '2', 'unclean.leader.election.enable': 'true' }, 3)).toEqual({ minInsyncReplicas: 2, uncleanLeaderElection: true });
  });

  it.each([
    [{ 'min.insync.replicas': '0' }, undefined, /at least 1/],
    [{ 'min.insync.replicas': 'two' }, undefined, /integer/],
    [{ 'min.insync.replicas': '-1' }, undefined, /integer/],
    [{ 'min.insync.replicas': '4' }, 3, /above the replication factor 3/],
    [{ 'unclean.leader.election.enable': 'yes' }, undefined, /true or false/],
  ] as const)('refuses %j (RF %s) with INVALID_CONFIG', (configs, rf, message) => {
    expect(() => replicationConfigOf(configs, rf)).toThrow(expect.objectContaining({ code: Errors.INVALID_CONFIG.code, message: expect.stringMatching(message) }));
  });

  it('leaves the log its own share of the configs', () => {
    expect(logShareOf({ 'retention.ms': '1000', 'min.insync.replicas': '2', 'unclean.leader.election.enable': 'false' })).toEqual({ 'retention.ms': '1000' });
  });
});
