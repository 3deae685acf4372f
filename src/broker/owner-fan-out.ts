// Fanning a multi-partition request out to the partition owners and gathering their answers
// (fetch, list offsets, replica fetch, epoch lookups, group requests). Main thread only.

import { Errors } from '../errors.js';
import { type LeaderMiss } from './cluster-view.js';
import { type ErrorResult, type OwnerKind } from './owner-messages.js';
import { type RequestScope } from './request-scope.js';

/**
 * Sends one sub-request per owner (waiting for ring room if needed) and resolves once all are
 * sent, with `answers`: the results, when every owner has answered. (Wrapped in an object: a
 * promise resolved with a promise would wait for the inner one, and block the connection for as
 * long as a long poll.) Owners that are down answer with `down(partition)`. `meta` gets the
 * number of owners involved. Once `enough` holds for the results in so far, the owners still
 * waiting are told to end their long polls (EndWait) and answer with what they have.
 */
export async function fanOut<P extends { topic: string; partition: number }, R>(
  scope: RequestScope,
  partitions: P[],
  kind: OwnerKind,
  meta: (group: P[], owners: number) => unknown,
  unknown: (p: P) => R,
  down: (p: P) => R,
  results: (answer: unknown) => R[],
  enough?: (answered: readonly R[]) => boolean,
  refused?: (p: P, miss: LeaderMiss) => R,
): Promise<{ answers: Promise<R[]> }> {
  // In a cluster, partitions this node does not lead are answered here, never sent to an owner.
  const refusals: R[] = [];
  const cluster = scope.ctx.cluster;
  if (cluster !== undefined && refused !== undefined) {
    const served: P[] = [];
    for (const p of partitions) {
      const miss = cluster.leaderCheck(p.topic, p.partition);
      if (miss === null) served.push(p);
      else refusals.push(refused(p, miss));
    }
    partitions = served;
  }
  const { bySlot, unknown: unplaced } = scope.ctx.placement.groupByOwner(partitions);
  const answers: Promise<R[]>[] = [Promise.resolve([...refusals, ...unplaced.map(unknown)])];
  const waiting = new Map<number, number>(); // slot -> request id, while its answer is out
  const answered: R[] = [];
  let ended = false;
  const arrived = (slot: number, list: R[]): R[] => {
    waiting.delete(slot);
    if (enough === undefined || ended || waiting.size === 0) return list;
    answered.push(...list);
    if (enough(answered)) {
      ended = true;
      for (const [other, requestId] of waiting) scope.ctx.router.endWait(other, requestId);
    }
    return list;
  };
  for (const [slot, group] of bySlot) {
    const request = scope.ctx.router.request(slot, kind, meta(group, bySlot.size), undefined, scope.isClosed);
    let answered = false;
    answers.push(
      request.answer.then((answer) => {
        answered = true;
        // A whole-request failure (the owner is down or restarting) is each partition's.
        if ((answer as ErrorResult).errorCode === Errors.LEADER_NOT_AVAILABLE.code) return arrived(slot, group.map(down));
        return arrived(slot, results(answer));
      }),
    );
    if (request.sent !== null) await request.sent;
    if (!answered && request.requestId !== 0) waiting.set(slot, request.requestId);
  }
  return { answers: Promise.all(answers).then((lists) => lists.flat()) };
}
