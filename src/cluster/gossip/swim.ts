// SWIM membership (Das, Gupta, Motivala 2002) with the suspicion subprotocol, for one node. Main
// thread only. Driven by an injected Clock, Random and GossipTransport, so the same code runs on
// UDP in the broker and on virtual time in the simulations.
//
// Each protocol period (periodMs) this node:
//   1. judges the previous probe: no ACK, directly or relayed, means the target becomes SUSPECT;
//   2. pings the next member of a shuffled round-robin list (so every member is probed within
//      two periods of n, SWIM 4.3, rather than only with high probability);
//   3. if no ACK came within ackTimeoutMs, asks `indirectChecks` other members to ping it for us
//      (PING_REQ): a lossy path between two members does not make either of them suspect.
// A SUSPECT member that does not refute in time is declared DEAD. The timeout follows Lifeguard
// (Dadgar et al. 2018): it starts at suspicionMaxMult times the minimum, suspicionMult *
// max(1, log10(n)) periods, and shrinks towards it as other members independently report the same
// suspicion — one lossy link cannot kill a member, while a really dead one, which everyone fails to
// reach, is confirmed in about the minimum. Any member that learns it is suspected (or declared dead) while alive raises its
// incarnation and gossips ALIVE, which wins. Pings to a suspect carry the suspicion first, so the
// suspect hears of it at once (Lifeguard's "buddy system").
//
// News rides piggybacked on pings and acks (broadcast-queue.ts). Joining sends our full table to
// the seeds in SYNC messages; they answer with theirs. The same exchange repeats every
// syncIntervalMs with a random member (anti-entropy, as memberlist's push-pull), and also with a
// random dead member or unreached seed, so that both sides of a healed partition find each other.
// leave() gossips LEFT, which ends the member's story without a suspicion period.
//
// Garbage or foreign datagrams are dropped and counted in `drops`, never thrown.

import type { Clock, TimerHandle } from '../clock.js';
import { DropCounters } from '../envelope.js';
import { shuffled, type Random } from '../random.js';
import { BroadcastQueue } from './broadcast-queue.js';
import type { GossipTransport } from './gossip-transport.js';
import { MemberList, toUpdate, type Member, type MemberEvent } from './member-list.js';
import { decodeGossipMessage, encodeGossipMessage, MAX_PIGGYBACK, MemberState, SYNC_CHUNK, type GossipMessage, type MemberInfo, type MemberUpdate } from './messages.js';

export interface SwimOptions {
  id: number;
  clusterId: string;
  /** Our listeners and labels; the gossip address comes from the transport. */
  self: Omit<MemberInfo, 'address'>;
  /** Gossip addresses to join through; our own address among them is skipped. */
  seeds: readonly string[];
  transport: GossipTransport;
  clock: Clock;
  random: Random;
  periodMs?: number;
  ackTimeoutMs?: number;
  indirectChecks?: number;
  /** Minimum suspicion timeout, in periods, scaled by max(1, log10 n). */
  suspicionMult?: number;
  /** Maximum suspicion timeout (no confirmations yet), as a multiple of the minimum. */
  suspicionMaxMult?: number;
  retransmitMult?: number;
  syncIntervalMs?: number;
  /** How long DEAD and LEFT members are remembered (so stale news about them is recognised). */
  deadRetentionMs?: number;
  onEvent?: (event: MemberEvent) => void;
}

export const SWIM_DEFAULTS = Object.freeze({
  // 500 ms periods with a 200 ms ack timeout: loopback and LAN round trips are far below it, and a
  // busy 2-core event loop may stall for tens of ms without false suspicions. A dead node is then
  // suspected within a period or two and confirmed, once others agree, after 4 * max(1, log10 n)
  // periods: a few seconds.
  periodMs: 500,
  ackTimeoutMs: 200,
  indirectChecks: 3,
  suspicionMult: 4,
  suspicionMaxMult: 6,
  retransmitMult: 3,
  syncIntervalMs: 10_000,
  deadRetentionMs: 60_000,
});

export interface SwimStats {
  sent: number;
  received: number;
  bytesSent: number;
  probes: number;
  indirectProbes: number;
  suspicions: number;
  /** Times we were suspected or declared dead while alive, and answered. */
  refutations: number;
}

interface Probe {
  seq: number;
  target: number;
  acked: boolean;
}

interface Suspicion {
  incarnation: number;
  start: number;
  /** Members that reported the suspicion, the first included. */
  accusers: Set<number>;
  timer: TimerHandle | null;
}

interface Relay {
  requester: string;
  seq: number;
}

export class Swim {
  readonly id: number;
  readonly drops = new DropCounters();
  readonly stats: SwimStats = { sent: 0, received: 0, bytesSent: 0, probes: 0, indirectProbes: 0, suspicions: 0, refutations: 0 };
  private readonly o: Required<Omit<SwimOptions, 'onEvent'>> & Pick<SwimOptions, 'onEvent'>;
  private readonly list: MemberList;
  private readonly queue = new BroadcastQueue();
  private incarnation = 0;
  private info: MemberInfo;
  private seq = 0;
  private probe: Probe | null = null;
  private probeOrder: number[] = [];
  private readonly relays = new Map<number, Relay>();
  private readonly suspicions = new Map<number, Suspicion>();
  private periodTimer: TimerHandle | null = null;
  private lastSync = -Infinity;
  private running = false;
  private leaving = false;

  constructor(options: SwimOptions) {
    this.o = { ...SWIM_DEFAULTS, ...options };
    this.id = options.id;
    this.info = { ...options.self, address: options.transport.address };
    this.list = new MemberList(this.id);
    this.list.setSelf(MemberState.ALIVE, 0, this.info, options.clock.now());
  }

  // --- public face ---------------------------------------------------------------------------------

  /** Starts probing and joins through the seeds. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.o.transport.listen((from, datagram) => this.receive(from, datagram));
    this.join();
    this.schedulePeriod();
  }

  /** Every member we know of, ourselves included. */
  members(): Member[] {
    return this.list.all();
  }

  member(id: number): Member | undefined {
    return this.list.get(id);
  }

  /** Members we hold ALIVE (ourselves included). */
  aliveMembers(): Member[] {
    return this.list.all().filter((m) => m.state === MemberState.ALIVE);
  }

  /** Changes what we say about ourselves (load figures, ports, rack) and gossips it. */
  updateSelf(change: Partial<Omit<MemberInfo, 'address'>>): void {
    this.info = { ...this.info, ...change, address: this.info.address };
    this.announceSelf(this.incarnation + 1);
  }

  /**
   * Leaves gracefully: gossips LEFT to a few members at once and for `lingerPeriods` periods more,
   * then stops. Others drop us without suspecting us first.
   */
  leave(lingerPeriods = 2): Promise<void> {
    if (!this.running || this.leaving) return Promise.resolve();
    this.leaving = true;
    this.incarnation++;
    this.list.setSelf(MemberState.LEFT, this.incarnation, this.info, this.o.clock.now());
    const left: MemberUpdate = { state: MemberState.LEFT, id: this.id, incarnation: this.incarnation, info: null, by: null };
    this.queue.enqueue(left);
    this.pushToSome(left);
    return new Promise((resolve) => {
      this.o.clock.setTimer(lingerPeriods * this.o.periodMs, () => {
        this.stop();
        resolve();
      });
    });
  }

  /** Stops at once, silently (as a crash looks to the others); closes the transport. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    if (this.periodTimer !== null) this.o.clock.clearTimer(this.periodTimer);
    for (const id of [...this.suspicions.keys()]) this.clearSuspicion(id);
    this.o.transport.close();
  }

  // --- the protocol period -------------------------------------------------------------------------

  private schedulePeriod(): void {
    this.periodTimer = this.o.clock.setTimer(this.o.periodMs, () => {
      if (!this.running) return;
      this.period();
      this.schedulePeriod();
    });
  }

  private period(): void {
    const now = this.o.clock.now();
    const previous = this.probe;
    this.probe = null;
    if (previous !== null && !previous.acked) this.suspect(previous.target);
    this.relays.clear(); // relayed acks are only useful within the period they were asked for
    for (const m of this.list.prune(now - this.o.deadRetentionMs)) this.probeOrder = this.probeOrder.filter((id) => id !== m.id);
    if (this.list.others(MemberState.ALIVE, MemberState.SUSPECT).length === 0) this.join();
    else if (now - this.lastSync >= this.o.syncIntervalMs) this.antiEntropy();
    this.probeNext();
  }

  private probeNext(): void {
    const target = this.nextProbeTarget();
    if (target === undefined) return;
    const probe: Probe = { seq: ++this.seq, target: target.id, acked: false };
    this.probe = probe;
    this.stats.probes++;
    this.sendPing(target, probe.seq);
    this.o.clock.setTimer(this.o.ackTimeoutMs, () => {
      if (!this.running || this.probe !== probe || probe.acked) return;
      const helpers = shuffled(this.list.others(MemberState.ALIVE).filter((m) => m.id !== target.id), this.o.random).slice(0, this.o.indirectChecks);
      for (const helper of helpers) {
        this.stats.indirectProbes++;
        this.send(helper.info.address, { type: 'ping-req', seq: probe.seq, from: this.id, target: target.id, targetAddress: target.info.address, updates: this.piggyback() });
      }
    });
  }

  /** Round-robin over a shuffled list of the members worth probing; reshuffled when used up. */
  private nextProbeTarget(): Member | undefined {
    for (let attempts = 0; attempts < 2; attempts++) {
      while (this.probeOrder.length > 0) {
        const m = this.list.get(this.probeOrder.shift()!);
        if (m !== undefined && (m.state === MemberState.ALIVE || m.state === MemberState.SUSPECT) && m.id !== this.id) return m;
      }
      this.probeOrder = shuffled(this.list.others(MemberState.ALIVE, MemberState.SUSPECT).map((m) => m.id), this.o.random);
    }
    return undefined;
  }

  private sendPing(target: Member, seq: number): void {
    // A suspect hears of its suspicion first, so it can refute before the timeout.
    const first = target.state === MemberState.SUSPECT ? toUpdate(target) : undefined;
    this.send(target.info.address, { type: 'ping', seq, from: this.id, target: target.id, updates: this.piggyback(first) });
  }

  // --- suspicion -----------------------------------------------------------------------------------

  private suspect(id: number): void {
    const m = this.list.get(id);
    // A failed probe of a member already suspect is an independent confirmation of the suspicion.
    if (m === undefined || (m.state !== MemberState.ALIVE && m.state !== MemberState.SUSPECT)) return;
    this.stats.suspicions++;
    this.learn({ state: MemberState.SUSPECT, id, incarnation: m.incarnation, info: null, by: this.id });
  }

  /**
   * Lifeguard's suspicion timeout: from max down to min as independent accusers confirm. With k
   * expected confirmations, timeout(c) = max - (max - min) * log(c + 1) / log(k + 1), never below min.
   */
  private suspicionTimeout(confirmations: number): number {
    const n = this.list.others(MemberState.ALIVE, MemberState.SUSPECT).length + 1;
    const min = this.o.suspicionMult * Math.max(1, Math.log10(n)) * this.o.periodMs;
    const max = this.o.suspicionMaxMult * min;
    const k = n - 2 < this.o.suspicionMult - 2 ? 0 : this.o.suspicionMult - 2; // too few members to expect confirmations
    if (k < 1) return min;
    return Math.max(min, max - ((max - min) * Math.log(confirmations + 1)) / Math.log(k + 1));
  }

  private startSuspicion(m: Member, by: number | null): void {
    this.clearSuspicion(m.id);
    const suspicion: Suspicion = { incarnation: m.incarnation, start: this.o.clock.now(), accusers: new Set(by === null ? [] : [by]), timer: null };
    this.suspicions.set(m.id, suspicion);
    this.armSuspicion(m.id, suspicion);
  }

  private armSuspicion(id: number, suspicion: Suspicion): void {
    if (suspicion.timer !== null) this.o.clock.clearTimer(suspicion.timer);
    const confirmations = Math.max(0, suspicion.accusers.size - 1);
    const remaining = suspicion.start + this.suspicionTimeout(confirmations) - this.o.clock.now();
    suspicion.timer = this.o.clock.setTimer(Math.max(0, remaining), () => {
      suspicion.timer = null;
      this.suspicions.delete(id);
      const held = this.list.get(id);
      if (!this.running || held === undefined || held.state !== MemberState.SUSPECT || held.incarnation !== suspicion.incarnation) return;
      this.learn({ state: MemberState.DEAD, id, incarnation: suspicion.incarnation, info: null, by: this.id });
    });
  }

  private clearSuspicion(id: number): void {
    const suspicion = this.suspicions.get(id);
    if (suspicion === undefined) return;
    if (suspicion.timer !== null) this.o.clock.clearTimer(suspicion.timer);
    this.suspicions.delete(id);
  }

  /** Another accuser of a suspicion we hold: a shorter timeout, and the news passed on. */
  private confirmSuspicion(u: MemberUpdate): boolean {
    const suspicion = this.suspicions.get(u.id);
    const held = this.list.get(u.id);
    if (suspicion === undefined || held?.state !== MemberState.SUSPECT || u.incarnation !== suspicion.incarnation) return false;
    if (u.by !== null && !suspicion.accusers.has(u.by)) {
      suspicion.accusers.add(u.by);
      this.armSuspicion(u.id, suspicion);
      this.queue.enqueue(u);
    }
    return true;
  }

  // --- news ----------------------------------------------------------------------------------------

  /** Applies news (ours or received); passes on what changed our table. */
  private learn(u: MemberUpdate): void {
    if (u.id === this.id) return this.answerAboutSelf(u);
    if (u.state === MemberState.SUSPECT && this.confirmSuspicion(u)) return;
    const event = this.list.apply(u, this.o.clock.now());
    if (event === null) return;
    this.queue.enqueue(u);
    if (event.type === 'suspect') this.startSuspicion(event.member, u.by);
    else this.clearSuspicion(u.id);
    if (event.type === 'joined') this.probeOrder.splice(this.o.random.int(this.probeOrder.length + 1), 0, u.id);
    this.o.onEvent?.(event);
  }

  /** Others' news about us: refute suspicion or death with a higher incarnation. */
  private answerAboutSelf(u: MemberUpdate): void {
    if (this.leaving) return;
    if (u.state === MemberState.ALIVE ? u.incarnation > this.incarnation : u.incarnation >= this.incarnation) {
      this.announceSelf(u.incarnation + 1);
      if (u.state !== MemberState.ALIVE) {
        // Refute eagerly: every member that heard the suspicion runs its own timeout, and waiting
        // for piggybacks alone at high loss lets some of them expire (false DEAD declarations).
        this.stats.refutations++;
        this.pushToSome(this.selfUpdate());
      }
    }
  }

  private announceSelf(incarnation: number): void {
    this.incarnation = incarnation;
    this.list.setSelf(MemberState.ALIVE, incarnation, this.info, this.o.clock.now());
    this.queue.enqueue(this.selfUpdate());
  }

  private selfUpdate(): MemberUpdate {
    return { state: this.leaving ? MemberState.LEFT : MemberState.ALIVE, id: this.id, incarnation: this.incarnation, info: this.leaving ? null : this.info, by: null };
  }

  /** Sends news at once to a few random members (on a ping: they answer, which costs little). */
  private pushToSome(u: MemberUpdate): void {
    for (const m of shuffled(this.list.others(MemberState.ALIVE, MemberState.SUSPECT), this.o.random).slice(0, this.o.indirectChecks + 1)) {
      this.send(m.info.address, { type: 'ping', seq: ++this.seq, from: this.id, target: m.id, updates: [u] });
    }
  }

  private piggyback(first?: MemberUpdate): MemberUpdate[] {
    const n = this.list.others(MemberState.ALIVE, MemberState.SUSPECT).length + 1;
    return this.queue.take(MAX_PIGGYBACK, this.o.retransmitMult * Math.ceil(Math.log2(n + 1)), first);
  }

  // --- joining and anti-entropy --------------------------------------------------------------------

  private join(): void {
    for (const seed of this.o.seeds) if (seed !== this.info.address) this.sendSync(seed, false);
  }

  private antiEntropy(): void {
    this.lastSync = this.o.clock.now();
    const alive = this.list.others(MemberState.ALIVE);
    if (alive.length > 0) this.sendSync(alive[this.o.random.int(alive.length)].info.address, false);
    // Someone we cannot currently reach: a member we hold dead, or a seed not among the living.
    const known = new Set(alive.map((m) => m.info.address));
    const unreached = [
      ...this.list.others(MemberState.DEAD).map((m) => m.info.address),
      ...this.o.seeds.filter((s) => s !== this.info.address && !known.has(s)),
    ];
    if (unreached.length > 0) this.sendSync(unreached[this.o.random.int(unreached.length)], false);
  }

  private sendSync(to: string, reply: boolean): void {
    const members = this.list.asUpdates().map((u) => (u.id === this.id ? this.selfUpdate() : u));
    for (let i = 0; i < members.length; i += SYNC_CHUNK) {
      this.send(to, { type: 'sync', from: this.id, reply, members: members.slice(i, i + SYNC_CHUNK) });
    }
  }

  // --- datagrams -----------------------------------------------------------------------------------

  private receive(from: string, datagram: Uint8Array): void {
    if (!this.running) return;
    const decoded = decodeGossipMessage(datagram, this.o.clusterId);
    if (!decoded.ok) {
      this.drops.count(decoded.reason);
      return;
    }
    this.stats.received++;
    const m = decoded.message;
    if (m.from === this.id) return; // our own datagram echoed, or a node misconfigured with our id
    if (m.type === 'sync') {
      for (const u of m.members) this.learn(u);
      if (!m.reply && !this.leaving) this.sendSync(from, true);
      return;
    }
    for (const u of m.updates) this.learn(u);
    if (this.leaving) return;
    switch (m.type) {
      case 'ping':
        if (m.target === this.id) this.send(from, { type: 'ack', seq: m.seq, from: this.id, updates: this.piggyback() });
        return;
      case 'ping-req': {
        const seq = ++this.seq;
        this.relays.set(seq, { requester: from, seq: m.seq });
        const target = this.list.get(m.target);
        const first = target?.state === MemberState.SUSPECT ? toUpdate(target) : undefined;
        this.send(m.targetAddress, { type: 'ping', seq, from: this.id, target: m.target, updates: this.piggyback(first) });
        return;
      }
      case 'ack': {
        const relay = this.relays.get(m.seq);
        if (relay !== undefined) {
          this.relays.delete(m.seq);
          this.send(relay.requester, { type: 'ack', seq: relay.seq, from: m.from, updates: this.piggyback() });
        }
        if (this.probe !== null && this.probe.seq === m.seq && this.probe.target === m.from) this.probe.acked = true;
        return;
      }
    }
  }

  private send(to: string, m: GossipMessage): void {
    const bytes = encodeGossipMessage(this.o.clusterId, m);
    this.stats.sent++;
    this.stats.bytesSent += bytes.length;
    this.o.transport.send(to, bytes);
  }
}
