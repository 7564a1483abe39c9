/**
 * The accessibility tree as the renderer needs it, built from Chrome's `Accessibility.getFullAXTree`
 * answer. Pure: the CDP payload is described by the few fields used here.
 */

export type PropValue = string | number | boolean;

export interface AxNode {
  role: string;
  name: string;
  ignored: boolean;
  value?: string;
  props: Record<string, PropValue>;
  /** The frame this node lives in (a puppeteer/CDP frame id). */
  frame: string;
  backendNodeId?: number;
  children: AxNode[];
}

/** The subset of `Protocol.Accessibility.AXNode` read here. */
export interface CdpAxNode {
  nodeId: string;
  ignored: boolean;
  role?: { value?: unknown };
  name?: { value?: unknown };
  value?: { value?: unknown };
  properties?: Array<{ name: string; value: { value?: unknown } }>;
  childIds?: string[];
  backendDOMNodeId?: number;
  parentId?: string;
}

const asText = (value: unknown): string =>
  typeof value === "string" ? value : typeof value === "number" || typeof value === "boolean" ? String(value) : "";

/** Builds the tree rooted at the node without a parent (the frame's document). */
export function buildTree(nodes: readonly CdpAxNode[], frame: string): AxNode | undefined {
  const byId = new Map(nodes.map((node) => [node.nodeId, node]));
  const root = nodes.find((node) => !node.parentId || !byId.has(node.parentId)) ?? nodes[0];
  if (!root) return undefined;
  const seen = new Set<string>();
  const convert = (node: CdpAxNode): AxNode => {
    seen.add(node.nodeId);
    const props: Record<string, PropValue> = {};
    for (const prop of node.properties ?? []) {
      const value = prop.value?.value;
      if (typeof value === "string" || typeof value === "number" || typeof value === "boolean")
        props[prop.name] = value;
    }
    const children: AxNode[] = [];
    for (const id of node.childIds ?? []) {
      const child = byId.get(id);
      // Guard against cycles in a malformed answer.
      if (child && !seen.has(id)) children.push(convert(child));
    }
    const value = asText(node.value?.value);
    return {
      role: asText(node.role?.value) || "generic",
      name: asText(node.name?.value),
      ignored: node.ignored,
      ...(value !== "" ? { value } : {}),
      props,
      frame,
      ...(node.backendDOMNodeId !== undefined ? { backendNodeId: node.backendDOMNodeId } : {}),
      children,
    };
  };
  return convert(root);
}

/** Depth-first search. */
export function findNode(root: AxNode, predicate: (node: AxNode) => boolean): AxNode | undefined {
  const stack = [root];
  while (stack.length) {
    const node = stack.pop() as AxNode;
    if (predicate(node)) return node;
    for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i] as AxNode);
  }
  return undefined;
}
