/**
 * Snapshots of a whole running model (DESIGN.md, Snapshots): the object graph
 * reachable from a root (the kernel, the tree, the solvers, the workload, the
 * statistics and every plugin's objects) saved as data, and restored into a
 * freshly built model of the same scenario.
 *
 * All model state lives in fields (typed columns, numbers, arrays, Maps and
 * Sets, plain objects and class instances); functions never hold state (event
 * payloads are integers, distributions are stateless). So a snapshot records
 * the fields and leaves functions out: restoring walks the fresh model beside
 * the snapshot, writes the saved fields into the fresh objects (typed arrays
 * in place when they have the same length), and keeps the fresh functions,
 * which are the same handlers, hooks and closures the build made. Shared
 * references stay shared and cycles are fine: every object is saved once and
 * referred to by its id. Objects created during the run take the class of the
 * fresh object in their place, or else of a fresh object of the same class
 * name elsewhere in the graph.
 */
import { decodeSnapshot, encodeSnapshot, KEPT, StateRef, UNDEFINED } from "./codec.js";

const FORMAT = "turtles-state/1";
const OBJECT = 0;
const ARRAY = 1;
const MAP = 2;
const SET = 3;
const TYPED = 4;
const BUFFER = 5;

/** One saved object: its kind, class name (null for a plain object) and contents. */
type Entry = [kind: number, className: string | null, contents: unknown];

interface StateGraph {
  format: string;
  objects: Entry[];
}

/** The state cannot be saved or restored (a value of a kind it does not know, or a model built differently). */
export class StateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StateError";
  }
}

type Typed = Float64Array | Int32Array | Uint32Array | Float32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;
const TYPED_CONSTRUCTORS = { Float64Array, Int32Array, Uint32Array, Float32Array, Int16Array, Uint16Array, Int8Array, Uint8Array } as const;
const isTyped = (v: unknown): v is Typed => ArrayBuffer.isView(v) && !(v instanceof DataView);

function classOf(o: object): string | null {
  const proto = Object.getPrototypeOf(o) as { constructor?: { name: string } } | null;
  return proto === null || proto === Object.prototype ? null : (proto.constructor?.name ?? "?");
}

/**
 * Saves the state reachable from `root` to msgpack. Objects in `keep` (and
 * every function) are left out: the restoring side supplies its own.
 */
export function captureState(root: object, keep: Iterable<object> = []): Uint8Array {
  const kept = reachable(keep);
  const ids = new Map<object, number>();
  const objects: Entry[] = [];
  const pending: object[] = [];
  const where: string[] = []; // how each object was reached, for messages

  const value = (v: unknown, path: string): unknown => {
    if (v === undefined) return UNDEFINED;
    if (v === null || typeof v === "number" || typeof v === "string" || typeof v === "boolean") return v;
    if (typeof v === "function" || kept.has(v as object)) return KEPT;
    if (typeof v !== "object") throw new StateError(`cannot save a ${typeof v} at ${path}`);
    let id = ids.get(v);
    if (id === undefined) {
      id = objects.length;
      ids.set(v, id);
      objects.push([OBJECT, null, null]);
      pending.push(v);
      where.push(path);
    }
    return new StateRef(id);
  };

  value(root, "root");
  for (let id = 0; id < pending.length; id++) {
    const o = pending[id];
    const path = where[id];
    if (isTyped(o)) objects[id] = [TYPED, o.constructor.name, [value(o.buffer, `${path}.buffer`), o.byteOffset, o.length]];
    else if (o instanceof ArrayBuffer) objects[id] = [BUFFER, null, new Uint8Array(o.slice(0))];
    else if (Array.isArray(o)) objects[id] = [ARRAY, null, Array.from(o, (v, i) => value(v, `${path}[${i}]`))]; // holes read as undefined
    else if (o instanceof Map) objects[id] = [MAP, null, [...o].map(([k, v]) => [value(k, `${path} key`), value(v, `${path}.get(${String(k)})`)])];
    else if (o instanceof Set) objects[id] = [SET, null, [...o].map((v) => value(v, `${path} member`))];
    else {
      const name = classOf(o);
      const proto = Object.getPrototypeOf(o) as unknown;
      if (o instanceof Date || o instanceof RegExp || o instanceof Promise || o instanceof WeakMap || o instanceof WeakSet || o instanceof DataView || typeof SharedArrayBuffer !== "undefined" && o instanceof SharedArrayBuffer) {
        throw new StateError(`cannot save the ${name} at ${path}: model state is typed columns, numbers, arrays, Maps, Sets and objects`);
      }
      if (proto !== null && proto !== Object.prototype && Object.getOwnPropertySymbols(o).length > 0) {
        throw new StateError(`cannot save the symbol-keyed fields of the ${name} at ${path}`);
      }
      const fields: Record<string, unknown> = {};
      for (const k of Object.keys(o)) {
        // Accessors compute from other state (a plugin context's `now`, say): the fresh object has its own.
        const d = Object.getOwnPropertyDescriptor(o, k)!;
        fields[k] = d.get || d.set ? KEPT : value(d.value, `${path}.${k}`);
      }
      objects[id] = [OBJECT, name, fields];
    }
  }
  return encodeSnapshot({ format: FORMAT, objects } satisfies StateGraph);
}

/**
 * Restores a state saved by `captureState` into `root`, a model built the same
 * way as the one saved (same scenario, plugins and options), with the same
 * `keep` objects. Afterwards the model continues exactly as the saved one would have.
 */
export function restoreState(root: object, bytes: Uint8Array, keep: Iterable<object> = []): void {
  const graph = decodeSnapshot(bytes) as StateGraph;
  if (graph?.format !== FORMAT) throw new StateError(`not a model state (expected format ${FORMAT})`);
  const kept = reachable(keep);
  const restored: unknown[] = new Array(graph.objects.length);
  const claimed = new Set<object>();
  let prototypes: Map<string, object | null> | undefined;

  const prototypeOf = (name: string, path: string): object => {
    if (!prototypes) prototypes = harvestPrototypes(root, kept);
    const proto = prototypes.get(name);
    if (!proto) {
      throw new StateError(
        proto === null
          ? `cannot restore the ${name} at ${path}: two classes of the fresh model have that name`
          : `cannot restore the ${name} at ${path}: the fresh model has no object of that class`,
      );
    }
    return proto;
  };

  const value = (fresh: unknown, v: unknown, path: string): unknown => {
    if (v === UNDEFINED) return undefined;
    if (v === KEPT) {
      if (fresh === undefined) throw new StateError(`cannot restore ${path}: it held a function or kept object the fresh model does not have`);
      return fresh;
    }
    if (v instanceof StateRef) return object(fresh, v.id, path);
    return v;
  };

  const object = (fresh: unknown, id: number, path: string): unknown => {
    if (restored[id] !== undefined) return restored[id];
    const [kind, name, contents] = graph.objects[id];
    const usable = fresh !== null && typeof fresh === "object" && !claimed.has(fresh) && !kept.has(fresh);
    if (kind === BUFFER) {
      const saved = contents as Uint8Array;
      const reuse = usable && fresh instanceof ArrayBuffer && fresh.byteLength === saved.byteLength;
      const target = reuse ? fresh : new ArrayBuffer(saved.byteLength);
      new Uint8Array(target).set(saved);
      claimed.add(target);
      return (restored[id] = target);
    }
    if (kind === TYPED) {
      const [bufferRef, byteOffset, length] = contents as [StateRef, number, number];
      const freshTyped = usable && isTyped(fresh) ? fresh : undefined;
      const buffer = object(freshTyped?.buffer, bufferRef.id, `${path}.buffer`) as ArrayBuffer;
      const reuse = freshTyped !== undefined && freshTyped.constructor.name === name && freshTyped.buffer === buffer && freshTyped.byteOffset === byteOffset && freshTyped.length === length;
      const Ctor = TYPED_CONSTRUCTORS[name as keyof typeof TYPED_CONSTRUCTORS];
      if (!reuse && !Ctor) throw new StateError(`cannot restore the ${name} at ${path}: not a typed array the engine knows`);
      const target = reuse ? freshTyped : new Ctor(buffer, byteOffset, length);
      claimed.add(target);
      return (restored[id] = target);
    }
    if (kind === ARRAY) {
      const target = usable && Array.isArray(fresh) ? fresh : [];
      const old = target === fresh ? [...(fresh as unknown[])] : [];
      restored[id] = target;
      claimed.add(target);
      const items = contents as unknown[];
      target.length = items.length;
      for (let i = 0; i < items.length; i++) target[i] = value(old[i], items[i], `${path}[${i}]`);
      return target;
    }
    if (kind === MAP || kind === SET) {
      const reuse = usable && (kind === MAP ? fresh instanceof Map : fresh instanceof Set);
      const target = reuse ? (fresh as Map<unknown, unknown> | Set<unknown>) : kind === MAP ? new Map() : new Set();
      const old = reuse && target instanceof Map ? new Map(target) : undefined;
      restored[id] = target;
      claimed.add(target);
      target.clear();
      if (target instanceof Map) {
        for (const [k, v] of contents as [unknown, unknown][]) {
          const key = value(undefined, k, `${path} key`);
          target.set(key, value(old?.get(key), v, `${path}.get(${String(key)})`));
        }
      } else {
        for (const v of contents as unknown[]) target.add(value(undefined, v, `${path} member`));
      }
      return target;
    }
    const reuse = usable && !isTyped(fresh) && !Array.isArray(fresh) && !(fresh instanceof Map) && !(fresh instanceof Set) && classOf(fresh) === name;
    const target = (reuse ? fresh : Object.create(name === null ? Object.prototype : prototypeOf(name, path))) as Record<string, unknown>;
    restored[id] = target;
    claimed.add(target);
    const fields = contents as Record<string, unknown>;
    for (const k of Object.keys(target)) if (!(k in fields)) delete target[k];
    for (const k of Object.keys(fields)) {
      if (reuse && fields[k] === KEPT) continue; // the fresh function, accessor or kept object stays
      target[k] = value(reuse ? target[k] : undefined, fields[k], `${path}.${k}`);
    }
    return target;
  };

  if (graph.objects.length === 0) throw new StateError("the model state is empty");
  object(root, 0, "root");
}

/**
 * Everything reachable from `roots` through data properties (accessors are not
 * called): what the build supplies (the scenario, the plugins) is neither saved
 * nor overwritten, down to its nested objects.
 */
function reachable(roots: Iterable<object>): Set<object> {
  const out = new Set<object>();
  const stack: unknown[] = [...roots];
  while (stack.length > 0) {
    const o = stack.pop();
    if (o === null || typeof o !== "object" || out.has(o)) continue;
    out.add(o);
    if (isTyped(o) || o instanceof ArrayBuffer) continue;
    // One at a time: spreading a large array into push() overflows the call stack.
    if (Array.isArray(o) || o instanceof Set) for (const v of o) stack.push(v);
    else if (o instanceof Map) for (const [k, v] of o) stack.push(k, v);
    else for (const d of Object.values(Object.getOwnPropertyDescriptors(o))) if ("value" in d) stack.push(d.value);
  }
  return out;
}

/** The prototype of each class name in the graph reachable from `root` (null when two classes share a name). */
function harvestPrototypes(root: object, kept: Set<object>): Map<string, object | null> {
  const out = new Map<string, object | null>();
  const seen = new Set<object>();
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const o = stack.pop();
    if (o === null || typeof o !== "object" || seen.has(o) || kept.has(o) || isTyped(o) || o instanceof ArrayBuffer) continue;
    seen.add(o);
    if (Array.isArray(o) || o instanceof Set) for (const v of o) stack.push(v);
    else if (o instanceof Map) for (const v of o.values()) stack.push(v);
    else {
      const name = classOf(o);
      if (name !== null) {
        const proto = Object.getPrototypeOf(o) as object;
        const known = out.get(name);
        out.set(name, known === undefined || known === proto ? proto : null);
      }
      for (const d of Object.values(Object.getOwnPropertyDescriptors(o))) if ("value" in d) stack.push(d.value); // accessors are not called
    }
  }
  return out;
}
