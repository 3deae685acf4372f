// A fixed set of worker slots on a piscina pool, each with its pair of rings. Main thread only.
//
// piscina runs the threads (minThreads = maxThreads = slots, idleTimeout Infinity) and replaces a
// thread that dies. What it does not know is that our threads are not interchangeable: slot k
// owns certain partitions and is fed through slot k's rings. So:
// - every task names its slot in piscina's queue options, and a custom loadBalancer hands it to
//   the thread bound to that slot (or holds it in piscina's queue while the slot has none);
// - a new thread (at start, or replacing a dead one) is bound to a free slot by an 'attach' task
//   carrying fresh rings; the slot's owner then re-opens its partitions (the caller's job, on
//   'slotUp');
// - when a thread dies, its slot goes down at once: 'slotDown' lets the caller fail what was in
//   flight on the slot's rings with a retriable error rather than leave it hanging.
//
// piscina's own Atomics.wait between tasks is disabled: an owner's event loop must keep running
// (ring waits, flush timers, long polls) while it has no piscina task.

import { EventEmitter } from 'node:events';
import { Piscina } from 'piscina';
import { Ring, type RingConsumer, type RingProducer } from './ring.js';

/** piscina hands the balancer a task's queue options under this symbol. */
const QUEUE_OPTIONS = Symbol.for('Piscina.queueOptions');

/** What the pool sends a thread to bind it to a slot. */
export interface AttachTask {
  op: 'attach';
  slot: number;
  /** Main thread -> worker. */
  requests: SharedArrayBuffer;
  /** Worker -> main thread. */
  responses: SharedArrayBuffer;
}

export interface SlotRings {
  requests: RingProducer;
  responses: RingConsumer;
}

export interface SlotPoolOptions {
  /** Module the threads run; its default export handles tasks (see AttachTask). */
  filename: string;
  slots: number;
  /** Bytes of the main -> worker ring of each slot. */
  ringBytes: number;
  /** Bytes of the worker -> main ring of each slot (default: ringBytes). */
  responseRingBytes?: number;
  workerData?: unknown;
  /** Tasks a thread may run at once (control tasks are async and mostly wait on disk). */
  concurrentTasks?: number;
  /** Node options for the threads; by default they inherit the process's (e.g. a TS loader). */
  execArgv?: string[];
}

interface Slot {
  workerId: number | null;
  rings: SlotRings | null;
}

type Routed = { [QUEUE_OPTIONS]: { slot?: number; workerId?: number } };

export interface SlotPoolEvents {
  slotUp: [slot: number, rings: SlotRings];
  slotDown: [slot: number, rings: SlotRings];
  error: [error: Error];
}

export class SlotPool extends EventEmitter<SlotPoolEvents> {
  private readonly piscina: Piscina;
  private readonly slots: Slot[];
  private readonly options: SlotPoolOptions;
  private closing = false;
  /** Live threads not bound to a slot yet. */
  private readonly unbound = new Set<number>();

  private constructor(options: SlotPoolOptions) {
    super();
    this.options = options;
    this.slots = Array.from({ length: options.slots }, () => ({ workerId: null, rings: null }));
    this.piscina = new Piscina({
      filename: options.filename,
      minThreads: options.slots,
      maxThreads: options.slots,
      idleTimeout: Infinity,
      atomics: 'disabled',
      concurrentTasksPerWorker: options.concurrentTasks ?? 64,
      workerData: options.workerData,
      execArgv: options.execArgv,
      loadBalancer: (task, workers) => {
        const route = (task as unknown as Routed)[QUEUE_OPTIONS] ?? {};
        const id = route.workerId ?? (route.slot === undefined ? undefined : this.slots[route.slot]?.workerId);
        if (id === undefined || id === null) return null; // held in piscina's queue until bound
        return workers.find((w) => w.id === id && !w.terminating && !w.destroyed) ?? null;
      },
    });
    this.piscina.on('workerCreate', (worker: { id: number }) => {
      this.unbound.add(worker.id);
      this.bindFree();
    });
    // A dead thread reports id -1 here (Worker.threadId after exit), so work out which slots
    // lost their thread from the threads still alive.
    this.piscina.on('workerDestroy', () => this.reconcile());
    this.piscina.on('error', (error: Error) => this.emit('error', error));
  }

  /** Starts the threads and resolves once every slot is bound and attached. */
  static async start(options: SlotPoolOptions): Promise<SlotPool> {
    const pool = new SlotPool(options);
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (pool.slots.every((s) => s.rings !== null)) {
          pool.off('slotUp', check);
          pool.off('error', fail);
          resolve();
        }
      };
      const fail = (error: Error) => {
        pool.off('slotUp', check);
        reject(error);
      };
      pool.on('slotUp', check);
      pool.once('error', fail);
    });
    return pool;
  }

  get size(): number {
    return this.slots.length;
  }

  /** The slot's rings, or null while it has no live thread. */
  rings(slot: number): SlotRings | null {
    return this.slots[slot]?.rings ?? null;
  }

  /** Runs a task on the thread bound to `slot` (queued in piscina while the slot is down). */
  run<T>(slot: number, task: object): Promise<T> {
    if (slot < 0 || slot >= this.slots.length) return Promise.reject(new RangeError(`no slot ${slot}`));
    return this.piscina.run({ ...task, [QUEUE_OPTIONS]: { slot } });
  }

  private bindFree(): void {
    for (const workerId of [...this.unbound]) {
      const slot = this.slots.findIndex((s) => s.workerId === null);
      if (slot < 0 || this.closing) return;
      this.unbound.delete(workerId);
      void this.attach(slot, workerId);
    }
  }

  private async attach(slot: number, workerId: number): Promise<void> {
    const requests = Ring.create(this.options.ringBytes);
    const responses = Ring.create(this.options.responseRingBytes ?? this.options.ringBytes);
    this.slots[slot].workerId = workerId;
    const task: AttachTask & Routed = { op: 'attach', slot, requests, responses, [QUEUE_OPTIONS]: { workerId } };
    try {
      await this.piscina.run(task);
    } catch (error) {
      // The thread died while attaching; reconcile() frees the slot for its replacement.
      this.emit('error', error as Error);
      return;
    }
    if (this.slots[slot].workerId !== workerId) return;
    const rings: SlotRings = { requests: Ring.producer(requests), responses: Ring.consumer(responses) };
    this.slots[slot].rings = rings;
    this.emit('slotUp', slot, rings);
  }

  private reconcile(): void {
    const alive = new Set(this.piscina.threads.map((t) => t.threadId).filter((id) => id >= 0));
    for (const id of this.unbound) if (!alive.has(id)) this.unbound.delete(id);
    this.slots.forEach((s, slot) => {
      if (s.workerId === null || alive.has(s.workerId)) return;
      const { rings } = s;
      this.slots[slot] = { workerId: null, rings: null };
      if (rings !== null) {
        rings.requests.close();
        rings.responses.close();
        if (!this.closing) this.emit('slotDown', slot, rings);
      }
    });
    this.bindFree();
  }

  /** Stops every thread (after the caller has closed what they own). */
  async close(): Promise<void> {
    this.closing = true;
    for (const slot of this.slots) {
      slot.rings?.requests.close();
      slot.rings?.responses.close();
    }
    await this.piscina.destroy();
  }
}
