/**
 * Balancing (DESIGN.md, Requests and operations): which replica of a service
 * an arrival or a call goes to, among its endpoints (the replicas the
 * balancer routes to: ready ones, and dead ones nobody has noticed yet).
 *
 * - round-robin walks the replicas in an endpoint order that interleaves
 *   hosts, and within a host the shared layer nodes (VMs) the replicas are in:
 *   the order a real endpoint list has, never the placement order, in which
 *   consecutive replicas share a VM and a burst lands on one VM. Endpoints
 *   that are not routable are skipped.
 * - random: a uniform pick.
 * - least-outstanding: the replicas are filed in buckets by their load
 *   (requests in service and queued); the pick is uniform among the least
 *   loaded, ties broken at random. A load changes by one at a time, so
 *   filing is O(1), and so is a pick.
 * - p2c: the less loaded of two random endpoints (the first on a tie).
 *
 * A retry avoids the host of the attempt that failed (as Envoy's
 * previous_hosts retry predicate does), when the service has an endpoint
 * elsewhere: among those, the same policy.
 *
 * Random draws come from the service's balance stream of the replication.
 */
import type { Random } from "../random/random.js";
import { LEAST_OUTSTANDING, P2C, ROUND_ROBIN } from "./programs.js";

/** Per-replica state the balancers share (columns of the replication, indexed by replica). */
export interface BalanceColumns {
  /** 1 while the replica is an endpoint. */
  endpoint: Int8Array;
  /** Its position in its service's endpoint list, and (least-outstanding) in its bucket. */
  memberPos: Int32Array;
  bucketPos: Int32Array;
  /** The load it is filed under (least-outstanding). */
  filed: Int32Array;
}

export class Balancer {
  /** The endpoints, in no order (swap-remove). */
  private readonly members: number[] = [];
  /** Round-robin: the service's replica slots in endpoint order, and the next position. */
  private order: number[] = [];
  private next = 0;
  /** Least-outstanding: the endpoints by load, and the least load with one. */
  private readonly buckets: number[][] = [];
  private least = 0;

  constructor(
    readonly policy: number,
    private readonly rng: Random,
    private readonly cols: () => BalanceColumns,
    /** The load of a replica: requests in service and queued at it. */
    private readonly load: (r: number) => number,
    /** The host of a replica. */
    private readonly hostOf: (r: number) => number,
  ) {}

  get size(): number {
    return this.members.length;
  }

  /**
   * Round-robin's endpoint order over the service's slots: hosts in turn (by
   * host order), and on each host its shared layer nodes in turn. `hostOf`
   * and `groupOf` give a slot's host and the layer node its replica shares
   * (itself if none).
   */
  setOrder(slots: number, hostOf: (slot: number) => number, groupOf: (slot: number) => number): void {
    const hosts = new Map<number, Map<number, number[]>>();
    for (let s = 0; s < slots; s++) {
      const h = hostOf(s);
      let groups = hosts.get(h);
      if (!groups) hosts.set(h, (groups = new Map()));
      const g = groupOf(s);
      const list = groups.get(g);
      if (list) list.push(s);
      else groups.set(g, [s]);
    }
    const interleave = (lists: number[][]): number[] => {
      const out: number[] = [];
      for (let i = 0; out.length < lists.reduce((n, l) => n + l.length, 0); i++) for (const l of lists) if (i < l.length) out.push(l[i]);
      return out;
    };
    const perHost = [...hosts.keys()].sort((a, b) => a - b).map((h) => interleave([...hosts.get(h)!.values()]));
    this.order = interleave(perHost);
  }

  /** Replica `r` becomes an endpoint. */
  add(r: number): void {
    const c = this.cols();
    if (c.endpoint[r]) return;
    c.endpoint[r] = 1;
    c.memberPos[r] = this.members.length;
    this.members.push(r);
    if (this.policy === LEAST_OUTSTANDING) this.file(r, this.load(r));
  }

  /** Replica `r` is an endpoint no more. */
  remove(r: number): void {
    const c = this.cols();
    if (!c.endpoint[r]) return;
    c.endpoint[r] = 0;
    const i = c.memberPos[r];
    const last = this.members.pop()!;
    if (last !== r) {
      this.members[i] = last;
      c.memberPos[last] = i;
    }
    if (this.policy === LEAST_OUTSTANDING) this.unfile(r);
  }

  /** Replica `r`'s load changed (least-outstanding files it again). */
  loadChanged(r: number): void {
    if (this.policy !== LEAST_OUTSTANDING || !this.cols().endpoint[r]) return;
    this.unfile(r);
    this.file(r, this.load(r));
  }

  /**
   * An endpoint by the policy, or -1 when there is none; one not on host
   * `avoid` if there is such an endpoint (a retry). `slots` maps the
   * service's slots to replicas (round-robin).
   */
  pick(slots: Int32Array, avoid = -1): number {
    const n = this.members.length;
    if (n === 0) return -1;
    if (avoid >= 0) {
      const elsewhere = this.pickAvoiding(slots, avoid);
      if (elsewhere >= 0) return elsewhere;
    }
    if (this.policy === ROUND_ROBIN) {
      const c = this.cols();
      const order = this.order;
      for (let k = 0; k < order.length; k++) {
        const r = slots[order[this.next++ % order.length]];
        if (c.endpoint[r]) return r;
      }
      return this.members[0]; // (an endpoint outside the order: none today)
    }
    if (this.policy === LEAST_OUTSTANDING) {
      const bucket = this.buckets[this.least];
      return bucket.length === 1 ? bucket[0] : bucket[this.rng.below(bucket.length)];
    }
    const a = this.members[this.rng.below(n)];
    if (this.policy !== P2C || n === 1) return a;
    // Two distinct picks: the second among the others.
    let j = this.rng.below(n - 1);
    if (j >= this.cols().memberPos[a]) j++;
    const b = this.members[j];
    return this.load(b) < this.load(a) ? b : a;
  }

  /** A pick among the endpoints not on host `avoid`, by the policy; -1 when there is none. O(endpoints). */
  private pickAvoiding(slots: Int32Array, avoid: number): number {
    if (this.policy === ROUND_ROBIN) {
      const c = this.cols();
      for (let k = 0; k < this.order.length; k++) {
        const r = slots[this.order[this.next++ % this.order.length]];
        if (c.endpoint[r] && this.hostOf(r) !== avoid) return r;
      }
      return -1;
    }
    const others = this.members.filter((r) => this.hostOf(r) !== avoid);
    if (others.length === 0) return -1;
    if (this.policy === LEAST_OUTSTANDING) {
      const least = Math.min(...others.map(this.load));
      const best = others.filter((r) => this.load(r) === least);
      return best[this.rng.below(best.length)];
    }
    const a = others[this.rng.below(others.length)];
    if (this.policy !== P2C || others.length === 1) return a;
    let j = this.rng.below(others.length - 1);
    if (j >= others.indexOf(a)) j++;
    const b = others[j];
    return this.load(b) < this.load(a) ? b : a;
  }

  private file(r: number, load: number): void {
    const c = this.cols();
    while (this.buckets.length <= load) this.buckets.push([]);
    const bucket = this.buckets[load];
    c.filed[r] = load;
    c.bucketPos[r] = bucket.length;
    bucket.push(r);
    if (load < this.least || this.buckets[this.least].length === 0) this.least = load;
  }

  private unfile(r: number): void {
    const c = this.cols();
    const bucket = this.buckets[c.filed[r]];
    const i = c.bucketPos[r];
    const last = bucket.pop()!;
    if (last !== r) {
      bucket[i] = last;
      c.bucketPos[last] = i;
    }
    // The least load moves up past empty buckets (loads change by one: one step, but for a replica that leaves).
    if (bucket.length === 0 && c.filed[r] === this.least) {
      while (this.least < this.buckets.length - 1 && this.buckets[this.least].length === 0) this.least++;
    }
  }
}
