import { z } from "zod";

/**
 * Cursors are opaque to the model: base64url JSON with a kind, so a cursor from one listing is
 * refused by another instead of silently returning the wrong page.
 */
export function encodeCursor(kind: string, position: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify({ k: kind, ...position }), "utf8").toString("base64url");
}

export function decodeCursor<T extends z.ZodObject>(kind: string, cursor: string, shape: T): z.output<T> | undefined {
  if (cursor.length > 512 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || (value as { k?: unknown }).k !== kind) return undefined;
  const parsed = shape.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

export const graphCursorShape = z.object({ p: z.enum(["e", "r"]), a: z.number().int().nonnegative() });
export const offsetCursorShape = z.object({ o: z.number().int().nonnegative().max(100_000), q: z.string().max(64) });
export const beforeCursorShape = z.object({ b: z.number().int().positive() });
