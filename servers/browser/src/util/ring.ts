/** A bounded log: keeps the newest `capacity` entries, numbered from 1 so readers can page by sequence. */
export class Ring<T extends { seq: number }> {
  private readonly items: T[] = [];
  private counter = 0;
  private dropped = 0;

  constructor(private readonly capacity: number) {}

  push(make: (seq: number) => T): T {
    const item = make(++this.counter);
    this.items.push(item);
    if (this.items.length > this.capacity) {
      this.items.shift();
      this.dropped++;
    }
    return item;
  }

  /** Entries with a sequence number above `after`. */
  since(after = 0): T[] {
    return this.items.filter((item) => item.seq > after);
  }

  get lastSeq(): number {
    return this.counter;
  }

  /** How many old entries were dropped to stay within capacity. */
  get droppedCount(): number {
    return this.dropped;
  }

  clear(): void {
    this.dropped += this.items.length;
    this.items.length = 0;
  }
}
