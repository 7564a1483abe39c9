import { describe, expect, it } from "vitest";
import { BinaryIndex } from "../src/memory/vector-index.ts";
import { dot, normalize, signBits } from "../src/memory/vectors.ts";

/** Deterministic pseudo-random unit vectors. */
function vectors(count: number, dimensions: number, seed = 1): Float32Array[] {
  let s = seed;
  const rand = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  return Array.from({ length: count }, () => normalize(Array.from({ length: dimensions }, rand)));
}

describe("BinaryIndex", () => {
  it("returns candidates that contain the exact nearest neighbours", () => {
    const dims = 128;
    const data = vectors(2000, dims);
    const index = new BinaryIndex(dims);
    for (const [i, v] of data.entries()) index.upsert(i + 1, signBits(v));
    const queries = vectors(20, dims, 99);
    let found = 0;
    for (const q of queries) {
      const exact = data
        .map((v, i) => ({ id: i + 1, s: dot(v, q) }))
        .sort((a, b) => b.s - a.s)
        .slice(0, 5)
        .map((x) => x.id);
      const candidates = new Set(index.nearest(signBits(q), 256));
      found += exact.filter((id) => candidates.has(id)).length;
    }
    // Sign bits with 256 candidates out of 2000 keep nearly all true top-5 neighbours.
    expect(found / (queries.length * 5)).toBeGreaterThan(0.9);
  });

  it("orders by Hamming distance and respects the limit", () => {
    const index = new BinaryIndex(32);
    index.upsert(1, Uint32Array.of(0b0000));
    index.upsert(2, Uint32Array.of(0b0001));
    index.upsert(3, Uint32Array.of(0b0111));
    index.upsert(4, Uint32Array.of(0b1111));
    expect(index.nearest(Uint32Array.of(0), 3)).toEqual([1, 2, 3]);
    expect(index.nearest(Uint32Array.of(0b1111), 2)).toEqual([4, 3]);
    expect(index.nearest(Uint32Array.of(0), 10)).toEqual([1, 2, 3, 4]);
  });

  it("updates, removes and filters by an allowed set", () => {
    const index = new BinaryIndex(64);
    for (let i = 1; i <= 100; i++) index.upsert(i, Uint32Array.of(i, 0));
    index.upsert(50, Uint32Array.of(0, 0));
    expect(index.nearest(Uint32Array.of(0, 0), 1)).toEqual([50]);
    index.remove(50);
    index.remove(50);
    expect(index.size).toBe(99);
    expect(index.has(50)).toBe(false);
    expect(index.nearest(Uint32Array.of(0, 0), 200)).toHaveLength(99);
    expect(index.nearest(Uint32Array.of(0, 0), 5, new Set([7, 8]))).toEqual(expect.arrayContaining([7, 8]));
    expect(index.nearest(Uint32Array.of(0, 0), 5, new Set([7, 8]))).toHaveLength(2);
    expect(() => index.upsert(1, Uint32Array.of(1))).toThrow(/code words/);
    index.clear();
    expect(index.nearest(Uint32Array.of(0, 0), 5)).toEqual([]);
  });
});
