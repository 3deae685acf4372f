// SWIM over real UDP on 127.0.0.1 (ephemeral ports only, loopback only), on real timers with short
// periods: three members converge, a stopped one is declared dead, garbage is counted.

import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/cluster/clock.js';
import { MemberState } from '../../../src/cluster/gossip/messages.js';
import { Swim } from '../../../src/cluster/gossip/swim.js';
import { UdpTransport } from '../../../src/cluster/gossip/udp-transport.js';
import { seededRandom } from '../../../src/cluster/random.js';
import { waitFor } from '../../helpers/wait-for.js';

const running: Swim[] = [];
afterEach(() => {
  for (const s of running.splice(0)) s.stop();
});

async function member(id: number, seeds: string[]): Promise<Swim> {
  const transport = await UdpTransport.bind('127.0.0.1', 0);
  const swim = new Swim({
    id,
    clusterId: 'udp-test',
    self: { host: '127.0.0.1', ports: { broker: 0 }, rack: null, load: {} },
    seeds,
    transport,
    clock: systemClock(),
    random: seededRandom(id),
    periodMs: 50,
    ackTimeoutMs: 20,
    syncIntervalMs: 500,
  });
  swim.start();
  running.push(swim);
  return swim;
}

describe('SWIM over UDP on loopback', () => {
  it('three members converge and detect a stopped one', async () => {
    const first = await member(1, []);
    const seed = first.member(1)!.info.address;
    expect(seed).toMatch(/^127\.0\.0\.1:\d+$/);
    const others = [await member(2, [seed]), await member(3, [seed])];
    const all = [first, ...others];
    await waitFor(() => all.every((s) => s.aliveMembers().length === 3), { what: 'convergence' });

    const socket = await UdpTransport.bind('127.0.0.1', 0);
    socket.send(seed, new Uint8Array([1, 2, 3]));
    await waitFor(() => first.drops.malformed === 1, { what: 'garbage counted' });
    socket.close();

    others[1].stop();
    await waitFor(() => [first, others[0]].every((s) => s.member(3)?.state === MemberState.DEAD), { what: 'member 3 dead' });
  });
});
