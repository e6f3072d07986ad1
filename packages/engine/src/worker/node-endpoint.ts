/**
 * comlink's endpoint for a Node worker thread or `MessagePort`, with types:
 * comlink ships its Node adapter without declarations for NodeNext
 * (TOOLCHAIN.md, pitfall 8), so apps import it typed from here.
 */
import type { Endpoint } from "comlink";
import adapter from "comlink/dist/esm/node-adapter.mjs";

/** What comlink needs of a Node `Worker`, `parentPort` or `MessagePort`. */
export interface NodePort {
  postMessage(message: unknown, transfer?: readonly unknown[]): void;
  on(type: "message", listener: (value: unknown) => void): unknown;
  off(type: "message", listener: (value: unknown) => void): unknown;
  start?: () => void;
}

/** A comlink endpoint over a Node worker thread (`wrap(nodeEndpoint(worker))`, `expose(api, nodeEndpoint(parentPort))`). */
export function nodeEndpoint(port: NodePort): Endpoint {
  return adapter(port as Parameters<typeof adapter>[0]);
}
