/** Where a ref points: a DOM node (by its DevTools backend id) in one frame's current document. */
export interface RefTarget {
  frame: string;
  backendNodeId: number;
  role: string;
  name: string;
}

/**
 * Element refs (`e12`) that stay the same across snapshots for as long as the element exists, so a
 * model can snapshot, think, and act on what it saw. Refs are never reused within a tab: after a
 * frame loads a new document its old refs are forgotten, and using one gives a clear error instead
 * of acting on a different element.
 */
export class RefRegistry {
  private readonly byNode = new Map<string, string>();
  private readonly byRef = new Map<string, RefTarget & { seen: number }>();
  private counter = 0;
  private generation = 0;

  /** Starts a new snapshot; entries unseen for a while are pruned when the registry grows large. */
  beginSnapshot(): void {
    this.generation++;
    if (this.byRef.size > 20_000) {
      for (const [ref, target] of this.byRef) {
        if (this.generation - target.seen > 3) {
          this.byRef.delete(ref);
          this.byNode.delete(nodeKey(target.frame, target.backendNodeId));
        }
      }
    }
  }

  refFor(frame: string, backendNodeId: number, role: string, name: string): string {
    const key = nodeKey(frame, backendNodeId);
    let ref = this.byNode.get(key);
    if (!ref) {
      ref = `e${++this.counter}`;
      this.byNode.set(key, ref);
    }
    this.byRef.set(ref, { frame, backendNodeId, role, name, seen: this.generation });
    return ref;
  }

  resolve(ref: string): RefTarget | undefined {
    return this.byRef.get(ref);
  }

  /** A frame loaded a new document: its node ids mean nothing any more. */
  forgetFrame(frame: string): void {
    for (const [ref, target] of this.byRef) {
      if (target.frame === frame) {
        this.byRef.delete(ref);
        this.byNode.delete(nodeKey(frame, target.backendNodeId));
      }
    }
  }

  get size(): number {
    return this.byRef.size;
  }
}

const nodeKey = (frame: string, backendNodeId: number) => `${frame}:${backendNodeId}`;
