// Hands out producer ids for idempotent producers (InitProducerId). Main thread.
//
// An id must never be given out twice, even across crashes, or two producers would share sequence
// state on every partition. Ids are reserved in blocks: <data>/meta/producer-ids.json records the
// end of the current block and is written durably before any id from a new block is handed out, so
// a crash can skip the rest of a block but never reuse an id. Kafka's controller hands out blocks of
// 1000 the same way; in a cluster the controller will own this file's role.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Errors, RillError } from '../errors.js';
import { MAX_PRODUCER_EPOCH, type InitProducerIdRequest, type InitProducerIdResponse } from '../protocol/index.js';
import { writeDurably } from '../storage/index.js';

export const PRODUCER_ID_BLOCK = 1000;

interface StoredBlock {
  /** Ids below this may have been handed out. */
  reservedUpTo: number;
}

export class ProducerIds {
  private readonly path: string;
  private next: number;
  private reservedUpTo: number;

  private constructor(path: string, reservedUpTo: number) {
    this.path = path;
    // Whatever the last run handed out lies below its reservation; start past it.
    this.next = reservedUpTo;
    this.reservedUpTo = reservedUpTo;
  }

  /** Reads the reservation under <data>/meta (the directory exists: the node identity lives there). */
  static open(dataDir: string): ProducerIds {
    const path = join(dataDir, 'meta', 'producer-ids.json');
    let reservedUpTo = 0;
    try {
      const stored = JSON.parse(readFileSync(path, 'utf8')) as StoredBlock;
      if (!Number.isSafeInteger(stored.reservedUpTo) || stored.reservedUpTo < 0) {
        throw new RillError(Errors.INVALID_CONFIG, `${path} holds no valid reservedUpTo`);
      }
      reservedUpTo = stored.reservedUpTo;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    return new ProducerIds(path, reservedUpTo);
  }

  /** A fresh id, never handed out before by this node. */
  allocate(): number {
    if (this.next >= this.reservedUpTo) {
      const reservedUpTo = this.next + PRODUCER_ID_BLOCK;
      writeDurably(this.path, JSON.stringify({ reservedUpTo } satisfies StoredBlock) + '\n');
      this.reservedUpTo = reservedUpTo;
    }
    return this.next++;
  }

  /**
   * Answers InitProducerId: a new producer gets a fresh id at epoch 0; a producer naming its id and
   * epoch gets the epoch bumped (a fresh id once the epoch would overflow).
   */
  initProducerId(request: InitProducerIdRequest): InitProducerIdResponse {
    const { producerId, producerEpoch } = request;
    if ((producerId === undefined) !== (producerEpoch === undefined)) {
      return refuse('producerId and producerEpoch must be given together');
    }
    if (producerId !== undefined && producerEpoch !== undefined) {
      if (producerId >= this.next) return refuse(`producer id ${producerId} was never handed out by this broker`);
      if (producerEpoch < MAX_PRODUCER_EPOCH) return { errorCode: 0, producerId, producerEpoch: producerEpoch + 1 };
    }
    try {
      return { errorCode: 0, producerId: this.allocate(), producerEpoch: 0 };
    } catch (error) {
      return { errorCode: Errors.STORAGE_ERROR.code, message: `cannot reserve producer ids: ${(error as Error).message}`, producerId: -1, producerEpoch: -1 };
    }
  }
}

function refuse(message: string): InitProducerIdResponse {
  return { errorCode: Errors.INVALID_REQUEST.code, message, producerId: -1, producerEpoch: -1 };
}
