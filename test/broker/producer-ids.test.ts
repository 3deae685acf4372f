import { describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PRODUCER_ID_BLOCK, ProducerIds } from '../../src/broker/producer-ids.js';
import { tempDirs } from '../helpers/temp-dir.js';

const tempDir = tempDirs();

function dataDir(): string {
  const dir = tempDir();
  mkdirSync(join(dir, 'meta'));
  return dir;
}

describe('ProducerIds', () => {
  it('reserves a block durably before handing out its first id', () => {
    const dir = dataDir();
    const ids = ProducerIds.open(dir);
    expect(ids.allocate()).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'meta', 'producer-ids.json'), 'utf8'))).toEqual({ reservedUpTo: PRODUCER_ID_BLOCK });
    for (let i = 1; i < PRODUCER_ID_BLOCK; i++) ids.allocate();
    expect(ids.allocate()).toBe(PRODUCER_ID_BLOCK);
    expect(JSON.parse(readFileSync(join(dir, 'meta', 'producer-ids.json'), 'utf8'))).toEqual({ reservedUpTo: 2 * PRODUCER_ID_BLOCK });
  });

  it('never reuses an id after a restart, even one that was reserved but not handed out', () => {
    const dir = dataDir();
    const first = ProducerIds.open(dir);
    first.allocate();
    first.allocate();
    expect(ProducerIds.open(dir).allocate()).toBe(PRODUCER_ID_BLOCK);
  });

  it('bumps the epoch of a known producer and refuses ids it never handed out', () => {
    const ids = ProducerIds.open(dataDir());
    const fresh = ids.initProducerId({});
    expect(fresh).toEqual({ errorCode: 0, producerId: 0, producerEpoch: 0 });
    expect(ids.initProducerId({ producerId: 0, producerEpoch: 0 })).toEqual({ errorCode: 0, producerId: 0, producerEpoch: 1 });
    // At the largest epoch the producer gets a fresh id instead.
    expect(ids.initProducerId({ producerId: 0, producerEpoch: 0x7fff })).toEqual({ errorCode: 0, producerId: 1, producerEpoch: 0 });
    expect(ids.initProducerId({ producerId: 99, producerEpoch: 0 })).toMatchObject({ errorCode: 42, producerId: -1, producerEpoch: -1 });
    expect(ids.initProducerId({ producerId: 0 })).toMatchObject({ errorCode: 42, message: expect.stringMatching(/together/) });
  });

  it('refuses to start on a damaged reservation file rather than risk reusing ids', () => {
    const dir = dataDir();
    writeFileSync(join(dir, 'meta', 'producer-ids.json'), '{"reservedUpTo":-5}');
    expect(() => ProducerIds.open(dir)).toThrow(/no valid reservedUpTo/);
  });
});
