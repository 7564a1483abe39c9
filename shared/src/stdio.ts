import type { Readable, Writable } from "node:stream";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage, RequestId } from "@modelcontextprotocol/sdk/types.js";
import type { Logger } from "./log.js";

export interface StdioTransportOptions {
  maxMessageBytes: number;
  log: Logger;
  input?: Readable;
  output?: Writable;
}

const NEWLINE = 0x0a;
/** Bytes kept from each end of an oversized message, to find its id and answer it. */
const EDGE = 512;

/**
 * Newline-delimited JSON-RPC over stdin/stdout that reads in linear time: chunks are kept in a list
 * and joined once per message, only the newest chunk is scanned for the delimiter. A message over
 * the limit is skipped as it streams in (never held in memory) and answered with a JSON-RPC error.
 */
export class StdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private readonly input: Readable;
  private readonly output: Writable;
  private readonly max: number;
  private readonly log: Logger;
  private chunks: Buffer[] = [];
  private size = 0;
  private oversized: { head: Buffer; tail: Buffer } | undefined;
  private closed = false;

  constructor(options: StdioTransportOptions) {
    this.input = options.input ?? process.stdin;
    this.output = options.output ?? process.stdout;
    this.max = options.maxMessageBytes;
    this.log = options.log;
  }

  async start(): Promise<void> {
    this.input.on("data", this.onData);
    this.input.on("error", this.onInputError);
    this.input.once("end", this.onEnd);
  }

  private readonly onData = (chunk: Buffer) => {
    let from = 0;
    while (from < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, from);
      const end = newline === -1 ? chunk.length : newline;
      if (end > from) this.append(chunk.subarray(from, end));
      if (newline === -1) break;
      this.finishMessage();
      from = newline + 1;
    }
  };

  private append(piece: Buffer): void {
    if (this.oversized) {
      this.size += piece.length;
      this.oversized.tail = keepTail(this.oversized.tail, piece);
      return;
    }
    this.size += piece.length;
    if (this.size > this.max) {
      const held = Buffer.concat([...this.chunks, piece]);
      this.oversized = { head: Buffer.from(held.subarray(0, EDGE)), tail: Buffer.from(held.subarray(-EDGE)) };
      this.chunks = [];
      return;
    }
    this.chunks.push(piece);
  }

  private finishMessage(): void {
    const size = this.size;
    const oversized = this.oversized;
    const chunks = this.chunks;
    this.chunks = [];
    this.size = 0;
    this.oversized = undefined;
    if (oversized) {
      this.refuseOversized(size, oversized);
      return;
    }
    if (size === 0) return;
    const line = (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)).toString("utf8");
    if (line.trim() === "") return;
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      void this.send({
        jsonrpc: "2.0",
        id: null as unknown as RequestId,
        error: { code: -32700, message: "Parse error: the message is not valid JSON." },
      } as JSONRPCMessage);
      return;
    }
    if (!isJsonRpc(message)) {
      void this.send({
        jsonrpc: "2.0",
        id: null as unknown as RequestId,
        error: { code: -32600, message: "Invalid Request: not a JSON-RPC 2.0 message." },
      } as JSONRPCMessage);
      return;
    }
    try {
      this.onmessage?.(message);
    } catch (error) {
      this.onerror?.(error as Error);
    }
  }

  private refuseOversized(size: number, edges: { head: Buffer; tail: Buffer }): void {
    const id = findId(edges.tail.toString("utf8"), edges.head.toString("utf8"));
    this.log.warn("refused an oversized message", { bytes: size, limit: this.max });
    const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
    // Only requests get an answer; an oversized notification is dropped with the log line above.
    if (id === undefined) return;
    void this.send({
      jsonrpc: "2.0",
      id: id as RequestId,
      error: {
        code: -32600,
        message: `Request too large: ${mib(size)} exceeds this server's ${mib(this.max)} message limit (--max-message-bytes). Send less per call, e.g. split the content across several calls.`,
      },
    } as JSONRPCMessage);
  }

  private readonly onInputError = (error: Error) => {
    this.onerror?.(error);
  };

  private readonly onEnd = () => {
    void this.close();
  };

  send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) return Promise.resolve();
    const data = `${JSON.stringify(message)}\n`;
    return new Promise((resolve) => {
      if (this.output.write(data)) resolve();
      else this.output.once("drain", resolve);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.input.off("data", this.onData);
    this.input.off("error", this.onInputError);
    this.input.off("end", this.onEnd);
    this.input.pause();
    this.onclose?.();
  }
}

function keepTail(previous: Buffer, piece: Buffer): Buffer {
  if (piece.length >= EDGE) return Buffer.from(piece.subarray(piece.length - EDGE));
  const joined = Buffer.concat([previous, piece]);
  return joined.length > EDGE ? Buffer.from(joined.subarray(joined.length - EDGE)) : joined;
}

const ID_AT_END = /"id"\s*:\s*("(?:[^"\\]|\\.){0,200}"|-?\d{1,20})\s*}\s*$/;
const ID_AT_START = /^\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"id"\s*:\s*("(?:[^"\\]|\\.){0,200}"|-?\d{1,20})/;

/** Finds a request's top-level id in the edges of a message too big to parse. */
function findId(tail: string, head: string): string | number | undefined {
  const match = ID_AT_END.exec(tail) ?? ID_AT_START.exec(head);
  if (!match?.[1]) return undefined;
  try {
    return JSON.parse(match[1]) as string | number;
  } catch {
    return undefined;
  }
}

function isJsonRpc(value: unknown): value is JSONRPCMessage {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  return record.jsonrpc === "2.0" && (typeof record.method === "string" || "id" in record);
}
