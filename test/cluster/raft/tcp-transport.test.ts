// Raft over real TCP on 127.0.0.1 (ephemeral ports): three voters with fsync'd storage elect a
// leader and commit; garbage on the port is dropped, counted, and does not stop the group.

import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/cluster/clock.js';
import { seededRandom } from '../../../src/cluster/random.js';
import { RaftServer } from '../../../src/cluster/raft/raft-server.js';
import { FileRaftStorage } from '../../../src/cluster/raft/raft-storage.js';
import { TcpRaftTransport } from '../../../src/cluster/raft/tcp-transport.js';
import { tempDirs } from '../../helpers/temp-dir.js';
import { waitFor } from '../../helpers/wait-for.js';
import { ListStateMachine } from './raft-sim.js';

const tempDir = tempDirs('rill-raft-tcp-');
const servers: RaftServer<number>[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.stop();
});

describe('Raft over TCP on loopback', () => {
  it('three voters elect a leader and commit commands', async () => {
    const ids = [1, 2, 3];
    const transports = await Promise.all(ids.map(() => TcpRaftTransport.listen('127.0.0.1', 0, new Map())));
    for (const t of transports) ids.forEach((id, i) => t.setPeer(id, { host: '127.0.0.1', port: transports[i].port }));
    const machines = ids.map(() => new ListStateMachine(() => {}));
    ids.forEach((id, i) =>
      servers.push(new RaftServer<number>({ id, voters: ids, clusterId: 'tcp', storage: new FileRaftStorage(tempDir()), transport: transports[i], stateMachine: machines[i], clock: systemClock(), random: seededRandom(id), tickMs: 10 })),
    );
    const leader = await waitFor(() => servers.find((s) => s.isLeader), { what: 'a leader' });

    // Garbage on a voter's port: a frame of another cluster, then a length no Raft frame has.
    const intruder = connect({ host: '127.0.0.1', port: transports[0].port });
    await new Promise((resolve) => intruder.once('connect', resolve));
    intruder.write(Buffer.from([0, 0, 0, 3, 0x93, 1, 2]));
    intruder.end(Buffer.from([0xff, 0xff, 0xff, 0xff]));

    for (const c of ['a', 'b', 'c']) await leader.propose(new TextEncoder().encode(c));
    await waitFor(() => machines.every((m) => m.commands.join() === 'a,b,c'), { what: 'all voters applied' });
    await waitFor(() => servers[0].drops.malformed === 1, { what: 'garbage counted' });
  });
});
