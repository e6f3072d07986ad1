/**
 * The peer of the kernel benchmarks: the fastest plain event heap we know how
 * to write in JavaScript, a 4-ary min-heap on typed arrays ordered by (time,
 * sequence) with an int32 payload and nothing else: no handles, no cancel, no
 * dispatch. The engine's queue is judged by how close it stays to this.
 */
export class BaselineHeap {
  private time = new Float64Array(64);
  private seq = new Float64Array(64);
  private payload = new Int32Array(64);
  private nextSeq = 0;
  size = 0;
  poppedTime = 0;
  poppedPayload = 0;

  get byteLength(): number {
    return this.time.length * 20;
  }

  push(t: number, p: number): void {
    if (this.size === this.time.length) this.grow();
    const ht = this.time;
    const hs = this.seq;
    const hp = this.payload;
    const s = this.nextSeq++;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 2;
      const pt = ht[parent];
      if (pt < t || (pt === t && hs[parent] < s)) break;
      ht[i] = pt;
      hs[i] = hs[parent];
      hp[i] = hp[parent];
      i = parent;
    }
    ht[i] = t;
    hs[i] = s;
    hp[i] = p;
  }

  pop(): boolean {
    if (this.size === 0) return false;
    const ht = this.time;
    const hs = this.seq;
    const hp = this.payload;
    this.poppedTime = ht[0];
    this.poppedPayload = hp[0];
    const n = --this.size;
    if (n === 0) return true;
    const t = ht[n];
    const s = hs[n];
    const p = hp[n];
    let i = 0;
    for (;;) {
      const first = (i << 2) + 1;
      if (first >= n) break;
      let c = first;
      let ct = ht[first];
      let cs = hs[first];
      const end = first + 4 < n ? first + 4 : n;
      for (let j = first + 1; j < end; j++) {
        const jt = ht[j];
        if (jt < ct || (jt === ct && hs[j] < cs)) {
          c = j;
          ct = jt;
          cs = hs[j];
        }
      }
      if (t < ct || (t === ct && s < cs)) break;
      ht[i] = ct;
      hs[i] = cs;
      hp[i] = hp[c];
      i = c;
    }
    ht[i] = t;
    hs[i] = s;
    hp[i] = p;
    return true;
  }

  private grow(): void {
    const c = this.time.length * 2;
    const t = new Float64Array(c);
    const s = new Float64Array(c);
    const p = new Int32Array(c);
    t.set(this.time);
    s.set(this.seq);
    p.set(this.payload);
    this.time = t;
    this.seq = s;
    this.payload = p;
  }
}
