import type { CDPSession, Frame, Page } from "puppeteer-core";
import { frameId, frameSession } from "../browser/internals.js";
import { type AxNode, buildTree, type CdpAxNode } from "./tree.js";

export interface CaptureOptions {
  /** Frames (including the main one) read at most; the rest are shown empty. */
  maxFrames: number;
  /** Called once for every DevTools session read from, so the caller can watch its navigations. */
  onSession?(session: CDPSession): void;
}

/**
 * Reads the page's accessibility tree, frame by frame (out-of-process frames through their own
 * session), and hangs each frame's content under its iframe element.
 */
export async function captureTree(page: Page, options: CaptureOptions): Promise<AxNode | undefined> {
  const frames = new Map(page.frames().map((frame) => [frameId(frame), frame]));
  let budget = options.maxFrames;

  const read = async (frame: Frame): Promise<AxNode | undefined> => {
    budget--;
    const session = frameSession(frame);
    options.onSession?.(session);
    const id = frameId(frame);
    const { nodes } = (await session.send("Accessibility.getFullAXTree", { frameId: id })) as { nodes: CdpAxNode[] };
    const tree = buildTree(nodes, id);
    if (!tree) return undefined;
    const iframes: AxNode[] = [];
    const collect = (node: AxNode) => {
      if (node.role === "Iframe" && node.backendNodeId !== undefined) iframes.push(node);
      else for (const child of node.children) collect(child);
    };
    collect(tree);
    await Promise.all(
      iframes.map(async (iframe) => {
        if (budget <= 0) return;
        try {
          const { node } = (await session.send("DOM.describeNode", { backendNodeId: iframe.backendNodeId })) as {
            node: { frameId?: string };
          };
          const child = node.frameId ? frames.get(node.frameId) : undefined;
          if (!child || child.detached) return;
          const content = await read(child);
          if (!content) return;
          iframe.children = content.children;
          if (!iframe.name && content.name) iframe.name = content.name;
        } catch {
          // Frames come and go while we read; a frame that vanished is simply not shown.
        }
      }),
    );
    return tree;
  };

  return read(page.mainFrame());
}
