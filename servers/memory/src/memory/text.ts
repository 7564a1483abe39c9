import { createHash } from "node:crypto";
import type { Entity } from "./types.js";

/** Content hash used for duplicate detection and to reuse vectors for identical text. */
export const hashText = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex").slice(0, 40);

/**
 * Words too common to help a full-text ranking; dropping them also keeps an OR query from matching
 * nearly every row.
 */
const STOPWORDS = new Set(
  (
    "a an and are as at be but by did do does for from had has have how i if in into is it its me my no not " +
    "of on or our so than that the their them then there these they this to was we were what when where " +
    "which who why will with you your about after again all am any because been before being both can " +
    "could each few further he her here hers him his more most nor only other ought own same she should " +
    "some such those through too under until up very while would"
  ).split(" "),
);

const WORD = /[\p{L}\p{N}][\p{L}\p{N}_'-]*/gu;

/** The distinct, meaningful words of a query, lowercased, in order, at most `max`. */
export function queryTerms(query: string, max = 32): string[] {
  const terms: string[] = [];
  const seen = new Set<string>();
  for (const match of query.toLowerCase().matchAll(WORD)) {
    const term = match[0].replace(/['-]+$/, "");
    if (term.length < 2 || STOPWORDS.has(term) || seen.has(term)) continue;
    seen.add(term);
    terms.push(term);
    if (terms.length >= max) break;
  }
  return terms;
}

/** A string as one FTS5 phrase: quoted, with inner quotes doubled, so no query syntax gets through. */
export const ftsPhrase = (text: string): string => `"${text.replaceAll('"', '""')}"`;

/** Escapes `%`, `_` and the escape character itself for `LIKE … ESCAPE '\'`. */
export const likeEscape = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** What an entity's vector is computed from: its name, type and observations. */
export function entityEmbeddingText(entity: Entity): string {
  return `${entity.name} (${entity.entityType})\n${entity.observations.join("\n")}`;
}

/** Searchable text of an entity for substring search; newline-separated so phrases do not span parts. */
export function entitySearchDoc(entity: Entity): string {
  return [entity.name, entity.entityType, ...entity.observations].join("\n");
}

/** Roughly how many tokens a text costs a model (4 characters a token is the usual estimate). */
export const estimateTokens = (text: string): number => Math.ceil(text.length / 4);
