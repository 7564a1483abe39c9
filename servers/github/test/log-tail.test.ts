import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchLogTail, TAIL_BYTES } from "../src/github/log-tail.js";

/** Log storage that answers a Range request in each of the ways real storage does. */
let storage: Server;
let base: string;
const line = (i: number) => `2026-12-07T10:00:00Z step ${i} ${"x".repeat(40)}\n`;
const log = Array.from({ length: 40_000 }, (_, i) => line(i)).join("");

beforeAll(async () => {
  storage = createServer((req, res) => {
    const body = Buffer.from(log);
    if (req.url === "/ranged") {
      const tail = body.subarray(body.length - TAIL_BYTES);
      res.writeHead(206, { "content-range": `bytes ${body.length - TAIL_BYTES}-${body.length - 1}/${body.length}` });
      res.end(tail);
    } else if (req.url === "/ranged-but-whole") {
      // Claims a range but sends the whole file: must still be cut to a tail, not held whole.
      res.writeHead(206, { "content-range": `bytes 0-${body.length - 1}/${body.length}` });
      res.end(body);
    } else if (req.url === "/whole") {
      res.writeHead(200);
      res.end(body);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  storage.listen(0, "127.0.0.1");
  await once(storage, "listening");
  base = `http://127.0.0.1:${(storage.address() as AddressInfo).port}`;
});
afterAll(() => {
  storage.close();
});

describe("fetchLogTail", () => {
  it.each(["/ranged", "/ranged-but-whole", "/whole"])("keeps only the end of the log (%s)", async (path) => {
    const tail = await fetchLogTail(`${base}${path}`, AbortSignal.timeout(10_000));
    expect(tail.partial).toBe(true);
    expect(tail.totalBytes).toBe(Buffer.byteLength(log));
    expect(Buffer.byteLength(tail.text)).toBeLessThanOrEqual(TAIL_BYTES);
    expect(tail.text.endsWith(line(39_999))).toBe(true);
    expect(tail.text.startsWith("2026-12-07T10:00:00Z step ")).toBe(true);
  });

  it("fails on an error answer", async () => {
    await expect(fetchLogTail(`${base}/gone`, AbortSignal.timeout(10_000))).rejects.toThrow(/404/);
  });
});
