/**
 * An in-process coarse index over sign-quantised vectors (one bit per dimension). A search scans the
 * packed bits with XOR and popcount (a few milliseconds for 100k vectors), keeps the nearest
 * candidates by Hamming distance, and the caller rescores those exactly against the stored float
 * vectors. It holds only the bits, so memory stays small (32 bytes a vector at 256 dimensions).
 */
export class BinaryIndex {
  readonly words: number;
  private ids = new Float64Array(1024);
  private codes: Uint32Array;
  private count = 0;
  private readonly slots = new Map<number, number>();

  constructor(readonly dimensions: number) {
    this.words = Math.ceil(dimensions / 32);
    this.codes = new Uint32Array(1024 * this.words);
  }

  get size(): number {
    return this.count;
  }

  has(id: number): boolean {
    return this.slots.has(id);
  }

  upsert(id: number, bits: Uint32Array): void {
    if (bits.length !== this.words) throw new Error(`expected ${this.words} code words, got ${bits.length}`);
    let slot = this.slots.get(id);
    if (slot === undefined) {
      slot = this.count++;
      this.grow();
      this.slots.set(id, slot);
      this.ids[slot] = id;
    }
    this.codes.set(bits, slot * this.words);
  }

  remove(id: number): void {
    const slot = this.slots.get(id);
    if (slot === undefined) return;
    this.slots.delete(id);
    const last = --this.count;
    if (slot !== last) {
      const movedId = this.ids[last] as number;
      this.ids[slot] = movedId;
      this.codes.copyWithin(slot * this.words, last * this.words, (last + 1) * this.words);
      this.slots.set(movedId, slot);
    }
  }

  clear(): void {
    this.count = 0;
    this.slots.clear();
  }

  /** Ids of up to `limit` entries nearest to `query` by Hamming distance, nearest first. */
  nearest(query: Uint32Array, limit: number, allowed?: ReadonlySet<number>): number[] {
    const n = this.count;
    if (n === 0 || limit <= 0) return [];
    const words = this.words;
    const codes = this.codes;
    const excluded = this.dimensions + 1;
    const distances = new Uint16Array(n);
    const histogram = new Uint32Array(this.dimensions + 2);
    for (let i = 0; i < n; i++) {
      if (allowed && !allowed.has(this.ids[i] as number)) {
        distances[i] = excluded;
        continue;
      }
      let d = 0;
      const base = i * words;
      for (let w = 0; w < words; w++) d += popcount((codes[base + w] as number) ^ (query[w] as number));
      distances[i] = d;
      histogram[d] = (histogram[d] as number) + 1;
    }
    // The smallest distance that already covers `limit` entries.
    let cutoff = 0;
    let covered = 0;
    while (cutoff <= this.dimensions && covered + (histogram[cutoff] as number) < limit) {
      covered += histogram[cutoff] as number;
      cutoff++;
    }
    const picked: number[] = [];
    let atCutoff = limit - covered;
    for (let i = 0; i < n; i++) {
      const d = distances[i] as number;
      if (d < cutoff) picked.push(i);
      else if (d === cutoff && cutoff <= this.dimensions && atCutoff > 0) {
        picked.push(i);
        atCutoff--;
      }
    }
    picked.sort((a, b) => (distances[a] as number) - (distances[b] as number));
    return picked.map((slot) => this.ids[slot] as number);
  }

  private grow(): void {
    if (this.count <= this.ids.length) return;
    const capacity = this.ids.length * 2;
    const ids = new Float64Array(capacity);
    ids.set(this.ids);
    this.ids = ids;
    const codes = new Uint32Array(capacity * this.words);
    codes.set(this.codes);
    this.codes = codes;
  }
}

function popcount(v: number): number {
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}
