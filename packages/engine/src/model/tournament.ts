/**
 * A tournament tree over the integers 0..n-1: the best of those still in, by
 * a comparison the caller may change for one item at a time. `best` is O(1);
 * `remove` and `update` (an item's key changed) are O(log n); `reset` is O(n).
 *
 * Placement uses it to find the policy's best host that fits: a host that does
 * not fit is removed until the next reset, and a host that takes a replica is
 * updated, so placing r replicas on h hosts costs O(h + r log h) instead of
 * O(r h). perf (src/bench/placement.ts, 4-core hosts filled with one-core
 * replicas): with a scan per replica, 20,000 hosts took 10 s (first-fit) to
 * 111 s (best-fit) and the cost per replica grew 5.6-28x from 1,000 hosts;
 * ranked, 100,000 hosts take about 0.5 s, 0.7-1.2x the cost per replica at
 * 1,000.
 */
export class Tournament {
  /** Number of leaves: the first power of two >= n. */
  private readonly leaves: number;
  /** winner[k] for internal node k (1-based heap layout), leaves at leaves..2*leaves-1; -1 when none is in. */
  private readonly winner: Int32Array;

  /** `compare(a, b) < 0` when a is better; it must be a total order (break ties by index). */
  constructor(
    readonly size: number,
    private readonly compare: (a: number, b: number) => number,
  ) {
    let l = 1;
    while (l < size) l *= 2;
    this.leaves = l;
    this.winner = new Int32Array(2 * l).fill(-1);
  }

  /** Puts every item for which `isIn` holds back in. */
  reset(isIn: (i: number) => boolean): void {
    const w = this.winner;
    for (let i = 0; i < this.leaves; i++) w[this.leaves + i] = i < this.size && isIn(i) ? i : -1;
    for (let k = this.leaves - 1; k >= 1; k--) w[k] = this.pick(w[2 * k], w[2 * k + 1]);
  }

  /** The best item still in, or -1. */
  best(): number {
    return this.winner[1];
  }

  /** Takes item i out until the next reset. */
  remove(i: number): void {
    this.winner[this.leaves + i] = -1;
    this.replay(i);
  }

  /** Item i's key changed. */
  update(i: number): void {
    this.replay(i);
  }

  private replay(i: number): void {
    const w = this.winner;
    for (let k = (this.leaves + i) >> 1; k >= 1; k >>= 1) w[k] = this.pick(w[2 * k], w[2 * k + 1]);
  }

  private pick(a: number, b: number): number {
    if (a < 0) return b;
    if (b < 0) return a;
    return this.compare(a, b) <= 0 ? a : b;
  }
}
