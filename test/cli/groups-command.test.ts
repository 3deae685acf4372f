// `rill groups`: the tables and plans it prints over the fake client, and, as a process, its exit
// codes and one-line errors for bad input (no reset target, two targets, a bad date, a group with
// members, an unknown group).

import { describe, expect, it } from 'vitest';
import { describeGroupText, listGroupsText, parseDatetime, resetOffsetsText, resetTarget } from '../../src/cli/groups-command.js';
import { Errors } from '../../src/errors.js';
import { FakeBroker } from './fake-client.js';
import { runFakeRill } from './fake-cli.js';

const member = (memberId: string, partitions: number[]) => ({ memberId, clientId: `client-${memberId}`, clientHost: '127.0.0.1', assignment: [{ topic: 'orders', partitions }] });

function broker(): FakeBroker {
  const b = new FakeBroker();
  b.addTopic('orders', 3);
  for (let i = 0; i < 30; i++) b.append('orders', i % 3, { value: `m${i}` });
  b.addGroup('billing', [member('m-1', [0, 1]), member('m-2', [2])], { 'orders/0': 4, 'orders/1': 10 });
  b.addGroup('idle', [], { 'orders/2': 7 });
  return b;
}

const admin = (b: FakeBroker) => b.factory({ brokers: ['127.0.0.1:9400'] }).admin();

describe('rill groups (over the fake client)', () => {
  it('lists groups with their state', async () => {
    expect(await listGroupsText(admin(broker()), {})).toBe(['GROUP    STATE   PROTOCOL-TYPE', 'billing  Stable  consumer', 'idle     Empty   -', ''].join('\n'));
    expect(JSON.parse(await listGroupsText(admin(broker()), { state: ['Empty'], json: true }))).toEqual([{ groupId: 'idle', protocolType: '', state: 'Empty' }]);
  });

  it('describes members, assignments, committed offsets, log end offsets and lag', async () => {
    const text = await describeGroupText(admin(broker()), 'billing', {});
    expect(text).toBe(
      [
        'Group: billing    State: Stable    Protocol: range    Generation: 1    Members: 2    Total lag: 6',
        '  MEMBER-ID     CLIENT-ID   HOST       INSTANCE  ASSIGNMENT',
        '  m-1 (leader)  client-m-1  127.0.0.1  -         orders: 0,1',
        '  m-2           client-m-2  127.0.0.1  -         orders: 2',
        '  TOPIC   PARTITION  COMMITTED  LOG-END  LAG  MEMBER',
        '  orders  0          4          10       6    m-1',
        '  orders  1          10         10       0    m-1',
        '  orders  2          -          10       -    m-2',
        '',
      ].join('\n'),
    );
    const json = JSON.parse(await describeGroupText(admin(broker()), 'billing', { json: true }));
    expect(json.offsets.map((o: { lag: number | null }) => o.lag)).toEqual([6, 0, null]);
  });

  it('shows an empty group with its commits and no members', async () => {
    const text = await describeGroupText(admin(broker()), 'idle', {});
    expect(text).toContain('State: Empty');
    expect(text).toContain('No active members.');
    expect(text).toMatch(/orders {2}2 {10}7 {10}10 {7}3 {4}-/);
  });

  it('plans a reset without committing, and commits it with --execute', async () => {
    const b = broker();
    const plan = await resetOffsetsText(admin(b), 'idle', { topic: 'orders', target: { to: 'earliest' }, execute: false });
    expect(plan).toBe(
      [
        'Dry run: nothing committed. Add --execute to commit these offsets for group idle:',
        'TOPIC   PARTITION  CURRENT-OFFSET  NEW-OFFSET',
        'orders  0          -               0',
        'orders  1          -               0',
        'orders  2          7               0',
        '',
      ].join('\n'),
    );
    expect(b.group('idle').offsets.get('orders/2')).toBe(7);
    const done = await resetOffsetsText(admin(b), 'idle', { topic: 'orders', partitions: [2], target: { to: 'offset', offset: 3 }, execute: true });
    expect(done.split('\n')[0]).toBe('Committed new offsets for group idle:');
    expect(b.group('idle').offsets.get('orders/2')).toBe(3);
  });

  it('refuses to reset a group that has members (NON_EMPTY_GROUP)', async () => {
    await expect(resetOffsetsText(admin(broker()), 'billing', { topic: 'orders', target: { to: 'latest' }, execute: true })).rejects.toMatchObject({ code: Errors.NON_EMPTY_GROUP.code });
  });

  it('takes exactly one reset target and ISO date-times only', () => {
    expect(resetTarget({ toLatest: true })).toEqual({ to: 'latest' });
    expect(resetTarget({ toOffset: 0 })).toEqual({ to: 'offset', offset: 0 });
    expect(resetTarget({})).toMatch(/one of --to-earliest/);
    expect(resetTarget({ toEarliest: true, toOffset: 5 })).toMatch(/only one/);
    expect(parseDatetime('2026-12-02T10:00:00Z')).toBe(Date.UTC(2026, 11, 2, 10));
    expect(() => parseDatetime('yesterday')).toThrow(/ISO 8601/);
  });
});

describe('rill groups (as a process over the fake client)', () => {
  const setup = {
    topics: { orders: { partitions: 2, messages: 10 } },
    groups: { busy: { members: [member('m-1', [0, 1])] }, idle: { offsets: { 'orders/0': 1 } } },
  };

  it('exits 2 with one line when the reset target is missing or doubled, or the date is bad', async () => {
    for (const args of [
      ['groups', 'reset-offsets', 'idle', '--topic', 'orders'],
      ['groups', 'reset-offsets', 'idle', '--topic', 'orders', '--to-earliest', '--to-latest'],
      ['groups', 'reset-offsets', 'idle', '--topic', 'orders', '--to-datetime', 'soon'],
      ['groups', 'reset-offsets', 'idle', '--to-earliest'],
    ]) {
      const run = await runFakeRill(args, setup);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(run.stderr).toMatch(/^rill: error: /);
    }
  });

  it('exits 1 with the error code for a group with members and for an unknown group', async () => {
    const busy = await runFakeRill(['groups', 'reset-offsets', 'busy', '--topic', 'orders', '--to-latest', '--execute'], setup);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/NON_EMPTY_GROUP/);
    const unknown = await runFakeRill(['groups', 'describe', 'nobody'], setup);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/GROUP_ID_NOT_FOUND/);
    const deleted = await runFakeRill(['groups', 'delete', 'idle'], setup);
    expect(deleted).toMatchObject({ code: 0, stdout: 'Deleted group idle.\n' });
  });
});
