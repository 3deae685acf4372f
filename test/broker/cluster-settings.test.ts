// Cluster settings as the broker reads them: when a node is clustered, and clear errors for bad ones.

import { describe, expect, it } from 'vitest';
import { clusterSettingsOf, isClustered } from '../../src/broker/broker.js';
import { resolveBrokerConfig } from '../../src/broker/config.js';
import { Errors } from '../../src/errors.js';

const config = (flags: Record<string, unknown>) => resolveBrokerConfig({ flags }).config;

describe('cluster settings', () => {
  it('leave a node single-node unless seeds or controller voters are given', () => {
    expect(isClustered(config({}))).toBe(false);
    expect(isClustered(config({ seeds: '127.0.0.1:9440' }))).toBe(true);
    expect(isClustered(config({ 'controller.voters': '1,2,3' }))).toBe(true);
  });

  it('default the voters to 1,2,3 and the Raft port to the cluster port number', () => {
    expect(clusterSettingsOf(config({ seeds: '10.0.0.1:9440, 10.0.0.2:9440', 'cluster.port': 9441 }))).toEqual({ seeds: ['10.0.0.1:9440', '10.0.0.2:9440'], voters: [1, 2, 3], raftPort: 9441 });
    expect(clusterSettingsOf(config({ 'controller.voters': '4,5,6', 'controller.port': 0 }))).toMatchObject({ voters: [4, 5, 6], raftPort: 0 });
  });

  it('reject bad seeds, voters and node ids with INVALID_CONFIG naming the setting', () => {
    expect(() => clusterSettingsOf(config({ seeds: 'nohost' }))).toThrow(expect.objectContaining({ code: Errors.INVALID_CONFIG.code, message: expect.stringContaining('seeds') }));
    expect(() => clusterSettingsOf(config({ seeds: 'h:99999' }))).toThrow(expect.objectContaining({ code: Errors.INVALID_CONFIG.code }));
    expect(() => clusterSettingsOf(config({ 'controller.voters': '1,x' }))).toThrow(expect.objectContaining({ message: expect.stringContaining('controller.voters') }));
    expect(() => clusterSettingsOf(config({ 'controller.voters': '1,1' }))).toThrow(expect.objectContaining({ code: Errors.INVALID_CONFIG.code }));
    expect(() => clusterSettingsOf(config({ 'controller.voters': '1', 'node.id': 70_000 }))).toThrow(expect.objectContaining({ message: expect.stringContaining('node.id') }));
    expect(() => config({ 'controller.port': -2 })).toThrow(expect.objectContaining({ code: Errors.INVALID_CONFIG.code }));
  });
});
