export interface LineDiff {
  /** `+ line` / `- line` in document order. */
  changes: string[];
  added: number;
  removed: number;
}

/**
 * Line diff of two snapshots (longest common subsequence after trimming the shared head and tail).
 * Very large differences fall back to set difference, which still names what appeared and went.
 */
export function diffLines(before: readonly string[], after: readonly string[], maxCells = 4_000_000): LineDiff {
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start++;
  let endBefore = before.length;
  let endAfter = after.length;
  while (endBefore > start && endAfter > start && before[endBefore - 1] === after[endAfter - 1]) {
    endBefore--;
    endAfter--;
  }
  const a = before.slice(start, endBefore);
  const b = after.slice(start, endAfter);
  const changes: string[] = [];
  let added = 0;
  let removed = 0;
  if (a.length * b.length > maxCells) {
    const inA = new Set(a);
    const inB = new Set(b);
    const gone = a.filter((line) => !inB.has(line));
    const fresh = b.filter((line) => !inA.has(line));
    return {
      changes: [...gone.map((line) => `- ${line}`), ...fresh.map((line) => `+ ${line}`)],
      added: fresh.length,
      removed: gone.length,
    };
  }
  const n = a.length;
  const m = b.length;
  // lcs[i][j] = LCS length of a[i..] and b[j..], stored row-major.
  const lcs = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * (m + 1) + j] =
        a[i] === b[j]
          ? (lcs[(i + 1) * (m + 1) + j + 1] as number) + 1
          : Math.max(lcs[(i + 1) * (m + 1) + j] as number, lcs[i * (m + 1) + j + 1] as number);
    }
  }
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      i++;
      j++;
    } else if (i < n && (j === m || (lcs[(i + 1) * (m + 1) + j] as number) >= (lcs[i * (m + 1) + j + 1] as number))) {
      changes.push(`- ${a[i]}`);
      removed++;
      i++;
    } else {
      changes.push(`+ ${b[j]}`);
      added++;
      j++;
    }
  }
  return { changes, added, removed };
}
