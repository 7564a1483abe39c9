import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { type Root, RootsListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import type { Logger } from "./log.js";

/** One client connection: a stdio process, or one HTTP session. */
export interface Session {
  readonly id: string;
  readonly log: Logger;
  /** Aborted when the session ends. */
  readonly closed: AbortSignal;
  clientName(): string | undefined;
  /**
   * The client's roots, or undefined when the client does not offer roots. Cached until the client
   * says they changed.
   */
  listRoots(): Promise<Root[] | undefined>;
  onRootsChanged(listener: () => void): void;
  /** Per-session state, created on first use (a browser, a cache). */
  state<T>(key: object, create: () => T): T;
  /** Runs when the session ends (the client left, the session expired, the server stops). */
  onClose(cleanup: () => void | Promise<void>): void;
}

export class McpSession implements Session {
  readonly id: string;
  readonly log: Logger;
  private readonly server: Server;
  private readonly values = new Map<object, unknown>();
  private readonly cleanups: Array<() => void | Promise<void>> = [];
  private readonly rootsListeners: Array<() => void> = [];
  private readonly abort = new AbortController();
  private roots: Promise<Root[] | undefined> | undefined;
  private ended = false;

  constructor(server: Server, id: string, log: Logger) {
    this.server = server;
    this.id = id;
    this.log = log;
    server.setNotificationHandler(RootsListChangedNotificationSchema, () => {
      this.roots = undefined;
      for (const listener of this.rootsListeners) listener();
    });
  }

  get closed(): AbortSignal {
    return this.abort.signal;
  }

  clientName(): string | undefined {
    return this.server.getClientVersion()?.name;
  }

  listRoots(): Promise<Root[] | undefined> {
    if (!this.server.getClientCapabilities()?.roots) return Promise.resolve(undefined);
    this.roots ??= this.server.listRoots(undefined, { timeout: 10_000 }).then(
      (result) => result.roots,
      (error: unknown) => {
        this.roots = undefined;
        throw error;
      },
    );
    return this.roots;
  }

  onRootsChanged(listener: () => void): void {
    this.rootsListeners.push(listener);
  }

  state<T>(key: object, create: () => T): T {
    if (!this.values.has(key)) this.values.set(key, create());
    return this.values.get(key) as T;
  }

  onClose(cleanup: () => void | Promise<void>): void {
    if (this.ended) {
      void Promise.resolve().then(cleanup);
      return;
    }
    this.cleanups.push(cleanup);
  }

  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.abort.abort(new Error("session closed"));
    for (const cleanup of this.cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        this.log.warn("session cleanup failed", { error });
      }
    }
  }
}
