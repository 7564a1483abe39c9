/** Default cap on the text a single tool result may carry (~10k tokens), well under hosts' 25k-token limits. */
export const DEFAULT_MAX_RESPONSE_CHARS = 40_000;

export interface ClippedText {
  text: string;
  truncated: boolean;
  /** Characters of the original that are in `text` (before the note). */
  shown: number;
  total: number;
}

export interface FittedItems<T> {
  items: T[];
  truncated: boolean;
  /** How many items were left out. */
  omitted: number;
}

/**
 * The response budget of one tool call. Handlers use it to cut their output at a clean boundary and
 * tell the model how to get the rest; the tool runner enforces it again on the final text.
 */
export class ResponseBudget {
  readonly maxChars: number;

  constructor(maxChars: number = DEFAULT_MAX_RESPONSE_CHARS) {
    this.maxChars = maxChars;
  }

  /**
   * Cuts text to fit, at the last line break (else whitespace) before the limit, and appends a note.
   * `howToGetMore` gets the number of characters kept, so it can name an offset to continue from.
   */
  clipText(text: string, howToGetMore: string | ((shown: number) => string), limit = this.maxChars): ClippedText {
    if (text.length <= limit) return { text, truncated: false, shown: text.length, total: text.length };
    const room = Math.max(0, limit - 200);
    let cut = cleanCut(text, room);
    // Never split a surrogate pair.
    if (cut > 0 && isHighSurrogate(text.charCodeAt(cut - 1))) cut--;
    const hint = typeof howToGetMore === "string" ? howToGetMore : howToGetMore(cut);
    return {
      text: `${text.slice(0, cut)}\n\n[Truncated: showing ${cut} of ${text.length} characters. ${hint}]`,
      truncated: true,
      shown: cut,
      total: text.length,
    };
  }

  /**
   * Keeps the longest prefix of `items` whose JSON fits in the budget (less `reserve` characters for
   * the rest of the response). Always keeps at least one item when `atLeastOne` is set, so paging
   * makes progress even past a single huge item.
   */
  fitItems<T>(
    items: readonly T[],
    options: { reserve?: number; measure?: (item: T) => number; atLeastOne?: boolean } = {},
  ): FittedItems<T> {
    const measure = options.measure ?? ((item: T) => jsonLength(item));
    let room = this.maxChars - (options.reserve ?? 500);
    const kept: T[] = [];
    for (const item of items) {
      const size = measure(item) + 1;
      if (size > room && !(options.atLeastOne && kept.length === 0)) break;
      kept.push(item);
      room -= size;
    }
    return { items: kept, truncated: kept.length < items.length, omitted: items.length - kept.length };
  }

  /** A budget with a smaller cap (e.g. a caller-requested limit), never a larger one. */
  narrow(maxChars: number | undefined): ResponseBudget {
    return maxChars !== undefined && maxChars < this.maxChars ? new ResponseBudget(maxChars) : this;
  }
}

export const jsonLength = (value: unknown): number => JSON.stringify(value)?.length ?? 0;

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function cleanCut(text: string, room: number): number {
  const newline = text.lastIndexOf("\n", room);
  if (newline >= room * 0.5) return newline;
  const space = text.lastIndexOf(" ", room);
  if (space >= room * 0.8) return space;
  return room;
}
