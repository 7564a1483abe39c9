import type { CDPSession, ElementHandle, Frame, JSHandle } from "puppeteer-core";

/**
 * Puppeteer keeps three things about a frame out of its public types that this server needs: the
 * frame's id, the DevTools session that owns it (out-of-process iframes have their own) and its
 * isolated world, where our scripts run out of reach of the page's own JavaScript. They are read
 * here only, checked at run time, and the exact puppeteer-core version is pinned.
 */
interface IsolatedRealm {
  evaluate<T>(fn: string | ((...args: never[]) => T | Promise<T>), ...args: unknown[]): Promise<T>;
  adoptBackendNode(backendNodeId?: number): Promise<JSHandle<Node>>;
}

interface FrameInternals {
  _id: string;
  client: CDPSession;
  isolatedRealm(): IsolatedRealm;
  mainRealm(): IsolatedRealm;
}

function internals(frame: Frame): FrameInternals {
  const candidate = frame as unknown as Partial<FrameInternals>;
  if (
    typeof candidate._id !== "string" ||
    typeof candidate.isolatedRealm !== "function" ||
    typeof candidate.mainRealm !== "function" ||
    !candidate.client
  ) {
    throw new Error("this puppeteer-core version does not expose frame internals the server relies on");
  }
  return candidate as FrameInternals;
}

export const frameId = (frame: Frame): string => internals(frame)._id;

export const frameSession = (frame: Frame): CDPSession => internals(frame).client;

/** Runs a function in the frame's isolated world: same DOM, none of the page's globals. */
export function evaluateIsolated<T>(
  frame: Frame,
  fn: string | ((...args: never[]) => T | Promise<T>),
  ...args: unknown[]
): Promise<T> {
  return internals(frame)
    .isolatedRealm()
    .evaluate<T>(fn, ...args);
}

/**
 * An element handle for a DOM node known by its backend id: in the isolated world (default, for
 * our own scripts) or the page's main world (for code the model asked to run with the page).
 */
export async function adoptElement(
  frame: Frame,
  backendNodeId: number,
  world: "isolated" | "main" = "isolated",
): Promise<ElementHandle<Element> | undefined> {
  const realm = world === "main" ? internals(frame).mainRealm() : internals(frame).isolatedRealm();
  const handle = await realm.adoptBackendNode(backendNodeId);
  const element = handle.asElement();
  if (!element) {
    await handle.dispose();
    return undefined;
  }
  return element as ElementHandle<Element>;
}
