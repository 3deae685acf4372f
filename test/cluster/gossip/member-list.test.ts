// SWIM's precedence rules, table-driven: for each state held and each piece of news, whether it
// wins (and which event it raises).

import { describe, expect, it } from 'vitest';
import { MemberList } from '../../../src/cluster/gossip/member-list.js';
import { MemberState, type MemberInfo, type MemberUpdate } from '../../../src/cluster/gossip/messages.js';

const info: MemberInfo = { address: 'h:1', host: 'h', ports: { broker: 1 }, rack: null, load: {} };
const { ALIVE, SUSPECT, DEAD, LEFT } = MemberState;
const update = (state: MemberState, incarnation: number): MemberUpdate => ({ state, id: 2, incarnation, info: state === ALIVE ? info : null, by: null });

/** held state, held incarnation, news state, news incarnation -> event type or null. */
const cases: [MemberState, number, MemberState, number, string | null][] = [
  [ALIVE, 1, ALIVE, 1, null],
  [ALIVE, 1, ALIVE, 2, 'updated'],
  [ALIVE, 1, SUSPECT, 0, null],
  [ALIVE, 1, SUSPECT, 1, 'suspect'],
  [ALIVE, 1, DEAD, 0, null],
  [ALIVE, 1, DEAD, 1, 'dead'],
  [ALIVE, 1, LEFT, 1, 'left'],
  [SUSPECT, 1, ALIVE, 1, null],
  [SUSPECT, 1, ALIVE, 2, 'alive'],
  [SUSPECT, 1, SUSPECT, 1, null],
  [SUSPECT, 1, SUSPECT, 2, 'suspect'],
  [SUSPECT, 1, DEAD, 1, 'dead'],
  [DEAD, 1, ALIVE, 1, null],
  [DEAD, 1, ALIVE, 2, 'alive'],
  [DEAD, 1, SUSPECT, 5, null],
  [DEAD, 1, DEAD, 2, null],
  [DEAD, 1, LEFT, 1, 'left'],
  [LEFT, 1, DEAD, 3, null],
  [LEFT, 1, ALIVE, 2, 'alive'],
];

describe('MemberList precedence', () => {
  it.each(cases)('held %i@%i, news %i@%i -> %s', (heldState, heldInc, state, inc, expected) => {
    const list = new MemberList(1);
    list.apply(update(ALIVE, 0), 0);
    if (heldState !== ALIVE || heldInc !== 0) {
      list.apply(update(ALIVE, heldInc), 0);
      if (heldState !== ALIVE) list.apply(update(heldState, heldInc), 0);
    }
    expect(list.get(2)).toMatchObject({ state: heldState, incarnation: heldInc });
    const event = list.apply(update(state, inc), 10);
    expect(event?.type ?? null).toBe(expected);
    if (expected !== null) expect(list.get(2)).toMatchObject({ state, incarnation: inc });
  });

  it('ignores news about unknown members unless it is ALIVE', () => {
    const list = new MemberList(1);
    expect(list.apply(update(SUSPECT, 3), 0)).toBeNull();
    expect(list.apply(update(ALIVE, 0), 0)?.type).toBe('joined');
  });

  it('forgets dead and departed members after their retention', () => {
    const list = new MemberList(1);
    list.apply(update(ALIVE, 0), 0);
    list.apply(update(DEAD, 0), 100);
    expect(list.prune(50)).toEqual([]);
    expect(list.prune(101).map((m) => m.id)).toEqual([2]);
    expect(list.get(2)).toBeUndefined();
  });
});
