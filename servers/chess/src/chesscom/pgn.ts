/** Just enough PGN to read a game's tag pairs and to cut a multi-game file into games. */

const TAG = /^\s*\[([A-Za-z0-9_]+)\s+"((?:[^"\\]|\\.)*)"\s*\]\s*$/;

/** The tag pairs at the top of one game, e.g. `{ ECO: "C50", White: "…" }`. */
export function pgnTags(pgn: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const line of pgn.split(/\r?\n/)) {
    if (line.trim() === "") {
      if (Object.keys(tags).length > 0) break;
      continue;
    }
    const match = TAG.exec(line);
    if (!match) break;
    tags[match[1] as string] = (match[2] as string).replace(/\\(["\\])/g, "$1");
  }
  return tags;
}

/** Splits a file of several games at each game's first tag line (`[Event …]`). */
export function splitPgn(text: string): string[] {
  const games: string[] = [];
  let current: string[] = [];
  let inMoves = false;
  for (const line of text.split(/\r?\n/)) {
    const isTag = TAG.test(line);
    if (isTag && inMoves && current.length > 0) {
      games.push(current.join("\n").trim());
      current = [];
      inMoves = false;
    }
    if (!isTag && line.trim() !== "") inMoves = true;
    current.push(line);
  }
  const last = current.join("\n").trim();
  if (last) games.push(last);
  return games;
}

/** The opening's name from a Chess.com openings address (`…/openings/Italian-Game-Two-Knights`). */
export function openingName(url: string | undefined): string | undefined {
  if (!url) return undefined;
  const at = url.indexOf("/openings/");
  if (at === -1) return undefined;
  let slug = url.slice(at + "/openings/".length).split(/[?#]/)[0] ?? "";
  try {
    slug = decodeURIComponent(slug);
  } catch {
    // Keep the raw slug.
  }
  const name = slug.replace(/-/g, " ").replace(/\s+/g, " ").trim();
  return name || undefined;
}
