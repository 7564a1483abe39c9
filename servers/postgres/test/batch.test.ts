/** The wire encoding of a query's messages, byte for byte against pg-protocol's serializer. */
import { serialize } from "pg-protocol";
import { describe, expect, it } from "vitest";
import { statementMessages } from "../src/db/batch.ts";

function reference(text: string, values: (string | null)[], rows: number): Buffer {
  return Buffer.concat([
    serialize.parse({ text }),
    serialize.bind({ values }),
    serialize.describe({ type: "P", name: "" }),
    serialize.execute({ portal: "", rows }),
  ]);
}

describe("statementMessages", () => {
  it.each<[string, (string | null)[], number]>([
    ["SELECT 1", [], 0],
    ['SELECT * FROM  "public".big WHERE id = 42', [], 2],
    ["SELECT $1::text, $2, $3", ["a", null, ""], 51],
    ["SELECT 'été 東京 😀', $1", ["ünïcödé 😀 東京"], 1001],
    ["SELECT $1", ["x".repeat(100_000)], 4_294_967_295],
  ])("%j with %j, %i rows", (text, values, rows) => {
    expect(statementMessages(text, values, rows).equals(reference(text, values, rows))).toBe(true);
  });
});
