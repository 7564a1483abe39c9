/**
 * Characters that render as nothing (or reorder what is shown) and so can hide instructions from a
 * human reviewer while a model still reads them: zero-width and other invisible format characters,
 * bidi controls, Unicode tag characters, supplementary variation selectors, and C0/C1 control
 * characters other than tab and newlines (which also covers terminal escape sequences).
 */
const HIDDEN = new RegExp(
  "[\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F\\u00AD\\u034F\\u061C\\u115F\\u1160\\u17B4\\u17B5" +
    "\\u180B-\\u180F\\u200B-\\u200F\\u202A-\\u202E\\u2060-\\u206F\\u3164\\uFE00-\\uFE0D\\uFEFF\\uFFA0\\uFFF0-\\uFFF8]" +
    "|\\uDB40[\\uDC00-\\uDDEF]",
  "g",
);
const LINE_SEPARATORS = /[\u2028\u2029]/g;
const HAS_LINE_SEPARATOR = /[\u2028\u2029]/;

export interface SanitizeResult {
  text: string;
  /** How many hidden characters were removed. */
  removed: number;
}

/** Removes hidden characters from text that came from outside. */
export function sanitizeText(text: string): string {
  return sanitizeTextWithCount(text).text;
}

export function sanitizeTextWithCount(text: string): SanitizeResult {
  HIDDEN.lastIndex = 0;
  if (!HIDDEN.test(text) && !HAS_LINE_SEPARATOR.test(text)) return { text, removed: 0 };
  let removed = 0;
  const cleaned = text
    .replace(HIDDEN, () => {
      removed++;
      return "";
    })
    .replace(LINE_SEPARATORS, "\n");
  return { text: cleaned, removed };
}

/** Sanitises every string (values and keys) in a JSON-like value. */
export function sanitizeDeep<T>(value: T): T {
  if (typeof value === "string") return sanitizeText(value) as T;
  if (Array.isArray(value)) return value.map((item) => sanitizeDeep(item)) as T;
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[sanitizeText(key)] = sanitizeDeep(item);
    return out as T;
  }
  return value;
}

const HTML_COMMENT = /<!--[\s\S]*?(?:-->|$)/g;
const HIDDEN_HTML_BLOCK =
  /<(script|style|template|noscript|iframe|object|embed)\b[^>]*>[\s\S]*?(?:<\/\1\s*>|$)|<(?:script|style|template|noscript|iframe|object|embed|meta|link|base)\b[^>]*\/?>/gi;
const HIDDEN_ATTR_ELEMENT =
  /<(\w+)\b[^>]*\s(?:hidden\b|style\s*=\s*["'][^"']*(?:display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0)[^"']*["'])[^>]*>[\s\S]*?<\/\1\s*>/gi;

/**
 * For Markdown or HTML written by third parties (issue bodies, READMEs): drops the parts a human
 * never sees when it is rendered — comments, scripts, styles, elements hidden by attribute — and
 * then hidden characters.
 */
export function sanitizeMarkup(text: string): string {
  if (!text.includes("<")) return sanitizeText(text);
  return sanitizeText(text.replace(HTML_COMMENT, "").replace(HIDDEN_HTML_BLOCK, "").replace(HIDDEN_ATTR_ELEMENT, ""));
}

/** `_meta` key that marks a tool result as content from outside the server's trust boundary. */
export const UNTRUSTED_META_KEY = "io.portside/untrusted-content";
