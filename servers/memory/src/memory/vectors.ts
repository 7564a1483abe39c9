/** Float32 vectors as stored: little-endian bytes, unit length, so cosine similarity is a dot product. */

export function normalize(values: ArrayLike<number>): Float32Array {
  const out = new Float32Array(values.length);
  let norm = 0;
  for (let i = 0; i < values.length; i++) {
    const v = Number(values[i]);
    if (!Number.isFinite(v)) throw new Error("embedding contains a non-finite number");
    out[i] = v;
    norm += v * v;
  }
  norm = Math.sqrt(norm);
  if (norm === 0) return out;
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / norm;
  return out;
}

export function toBlob(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

/** The bytes on a buffer of their own: a Buffer from SQLite may not be 4-byte aligned. */
function alignedCopy(blob: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(blob.byteLength);
  copy.set(blob);
  return copy.buffer;
}

export function fromBlob(blob: Uint8Array): Float32Array {
  return new Float32Array(alignedCopy(blob));
}

export function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

/** One bit per dimension (set when positive), packed into 32-bit words: the coarse search key. */
export function signBits(vector: Float32Array): Uint32Array {
  const words = new Uint32Array(Math.ceil(vector.length / 32));
  for (let i = 0; i < vector.length; i++) {
    if ((vector[i] as number) > 0) words[i >>> 5] = (words[i >>> 5] as number) | (1 << (i & 31));
  }
  return words;
}

export function bitsToBlob(bits: Uint32Array): Buffer {
  return Buffer.from(bits.buffer, bits.byteOffset, bits.byteLength);
}

export function bitsFromBlob(blob: Uint8Array): Uint32Array {
  return new Uint32Array(alignedCopy(blob), 0, blob.byteLength >>> 2);
}

/** pgvector's text form: `[0.1,0.2,…]`. */
export const toPgVector = (vector: Float32Array): string => `[${Array.from(vector).join(",")}]`;

export function fromPgVector(text: string): Float32Array {
  const inner = text.trim().replace(/^\[/, "").replace(/\]$/, "");
  return Float32Array.from(inner.split(",").map(Number));
}
