import { describe, expect, it } from 'vitest';
import { Errors, RillError } from '../../../src/errors.js';
import { MemberRegistry } from '../../../src/http/groups/member-registry.js';
import { type MemberSession, type MemberSettings } from '../../../src/http/groups/member-session.js';
import { captureLogger } from '../../helpers/capture-logger.js';

function fakeSession(settings: MemberSettings, closed: string[]): MemberSession {
  return {
    settings,
    subscribe: async () => {},
    subscription: () => null,
    unsubscribe: async () => {},
    poll: async () => [],
    commit: async () => [],
    committed: async () => [],
    assignment: () => [],
    close: async () => void closed.push(settings.name),
  };
}

const settings = { groupId: 'g', autoOffsetReset: 'latest' as const, autoCommit: true, sessionTimeoutMs: 10_000, assignor: 'range' };

function registry(maxMembers = 10, idleMs = 1000) {
  let clock = 0;
  const closed: string[] = [];
  const { logger, lines } = captureLogger();
  const members = new MemberRegistry({ maxMembers, idleMs, factory: (s) => fakeSession(s, closed), logger, now: () => clock });
  return { members, closed, lines, advance: (ms: number) => (clock += ms) };
}

const codeOf = async (p: Promise<unknown> | (() => unknown)) => {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (error) {
    return (error as RillError).code;
  }
  return 0;
};

describe('MemberRegistry', () => {
  it('creates members under given or generated names, finds them, and refuses duplicates and bad names', async () => {
    const { members } = registry();
    expect(members.create({ ...settings, name: 'a' }).settings.name).toBe('a');
    expect(members.create(settings).settings.name).toMatch(/^rill-http-[0-9a-f-]{36}$/);
    expect(await codeOf(() => members.create({ ...settings, name: 'a' }))).toBe(Errors.GROUP_MEMBER_EXISTS.code);
    expect(members.create({ ...settings, groupId: 'other', name: 'a' }).settings.groupId).toBe('other'); // names are per group
    expect(await codeOf(() => members.create({ ...settings, name: 'a/b' }))).toBe(Errors.INVALID_REQUEST.code);
    expect(await members.use('g', 'a', async (s) => s.settings.name)).toBe('a');
    expect(await codeOf(members.use('g', 'nobody', async () => 1))).toBe(Errors.UNKNOWN_GROUP_MEMBER.code);
    await members.close();
  });

  it('holds at most maxMembers, and a removed member frees its place', async () => {
    const { members, closed } = registry(2);
    members.create({ ...settings, name: 'a' });
    members.create({ ...settings, name: 'b' });
    expect(await codeOf(() => members.create({ ...settings, name: 'c' }))).toBe(Errors.TOO_MANY_GROUP_MEMBERS.code);
    await members.remove('g', 'a');
    expect(closed).toEqual(['a']);
    expect(members.create({ ...settings, name: 'c' }).settings.name).toBe('c');
    expect(await codeOf(members.remove('g', 'a'))).toBe(Errors.UNKNOWN_GROUP_MEMBER.code);
    await members.close();
    expect(closed.sort()).toEqual(['a', 'b', 'c']);
  });

  it('closes members idle past idleMs, never one inside a call, and each call renews', async () => {
    const { members, closed, advance, lines } = registry(10, 1000);
    members.create({ ...settings, name: 'idle' });
    members.create({ ...settings, name: 'used' });
    members.create({ ...settings, name: 'polling' });
    let endPoll!: () => void;
    const poll = members.use('g', 'polling', () => new Promise<void>((resolve) => (endPoll = resolve)));
    advance(600);
    await members.use('g', 'used', async () => {});
    advance(600);
    await members.expire();
    expect(closed).toEqual(['idle']);
    expect(lines.some((l) => l.msg.startsWith('HTTP group member expired') && l.member === 'idle')).toBe(true);
    advance(5000);
    await members.expire();
    expect(closed).toEqual(['idle', 'used']); // 'polling' is inside a call
    endPoll();
    await poll;
    advance(1001);
    await members.expire();
    expect(closed).toEqual(['idle', 'used', 'polling']);
    expect(members.expired).toBe(3);
    expect(members.size).toBe(0);
    await members.close();
  });

  it('refuses new members once closing', async () => {
    const { members } = registry();
    await members.close();
    expect(await codeOf(() => members.create(settings))).toBe(Errors.LEADER_NOT_AVAILABLE.code);
  });
});
