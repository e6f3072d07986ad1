/**
 * Image pulls (issue 15). Where a scenario declares a `registry`, a container with an `image` starts by pulling the
 * layers of its image that its machine does not have: each a download from outside the fabric (`ctx.transfer` from
 * `EXTERNAL`) at the registry's bandwidth and latency through the host's NIC, where it shares the receive bandwidth
 * with the traffic there (and slows it), then an unpack, a sequential write of the layer's bytes to the host's disk
 * (`ctx.io`); then its runtime starts (its `provisioning` time, RUNTIME_DEFAULTS) and it is ready. Without a registry
 * images are on the hosts already: containers keep their static start (the `provisions` rule), so scenarios written
 * before this keep their results.
 *
 * The layer cache is per machine: the node the container runtime runs on, the first node above a container that is
 * not a container (or a pod), that is a host or a VM. A layer is kept there once unpacked, by every container of any
 * image that has it; one being pulled is not pulled again: a container that needs it waits for that download, so
 * concurrent first pulls of a layer download it once. A container's layers download at once [assumed: Docker pulls
 * three at a time by default (`max-concurrent-downloads`), containerd all; calibration.md has no figure of either],
 * and unpacking costs only its disk write [assumed: decompression's CPU is not in calibration.md].
 *
 * State is in extension columns (a saved run continues it): per machine, a bit per layer for each of "cached" and
 * "being pulled" (`LAYER_WORDS` words of 32); per container, the layers it still waits for and when its pull began.
 * A pull whose machine stopped (a host that failed, a VM that crashed) never completes: its "being pulled" bit is
 * then stale, which a container finds as no live container waiting for that layer there, and pulls it afresh.
 *
 * Signals used: the `provisions` rule and `provision` hook, `ctx.scenario` (images, registry), `ctx.transfer`,
 * `ctx.io`, plugin events (download done, unpack done, runtime started), `ctx.provisioning` (which waiters still
 * wait), metrics `pulls` and `pullCacheHits` (layers, from the run's start) and the lifecycle figure `pull` (seconds
 * per container that waited for a layer).
 */
import { EXTERNAL, type ExtensionColumn, type PluginContext, type PluginSetup, type Service } from "@turtles/engine/plugin";

/** 32-bit words of layer bits per machine: at most 32 x LAYER_WORDS distinct layers in a scenario (named and unnamed). */
export const LAYER_WORDS = 4;
/** Most distinct layers a scenario's pulls track (the layer bits of a machine). */
export const MAX_LAYERS = 32 * LAYER_WORDS;

/** The container entry fields a pull reads. */
interface ImageEntry {
  runtime: string;
  image?: number | string;
}

/** The layers of a scenario's images, numbered: named layers by id in `images` order, then each service's unnamed image. */
interface Catalog {
  ids: string[];
  sizes: number[];
  /** Layer numbers of each named image (distinct, bottom first). */
  named: Map<string, number[]>;
  /** The number of each service's unnamed one-layer image (a container whose `image` is a size). */
  unnamed: Map<Service, number>;
}

/** The container plugin's layer kinds the cache is not kept on (a pod groups containers on one machine). */
const OWN_LAYERS = new Set(["container", "pod"]);

/** The scenario's layer catalog: deterministic, from the scenario only (so a saved run rebuilds the same). O(layers). */
function catalogOf(ctx: PluginContext<ImageEntry>, cache: WeakMap<object, Catalog>): Catalog {
  const s = ctx.scenario;
  let c = cache.get(s);
  if (c) return c;
  c = { ids: [], sizes: [], named: new Map(), unnamed: new Map() };
  const index = new Map<string, number>();
  for (const [name, image] of Object.entries(s.images ?? {})) {
    const layers: number[] = [];
    for (const { id, size } of image.layers) {
      let i = index.get(id);
      if (i === undefined) {
        i = c.ids.push(id) - 1;
        c.sizes.push(size);
        index.set(id, i);
      }
      if (!layers.includes(i)) layers.push(i);
    }
    c.named.set(name, layers);
  }
  for (const tenant of s.tenants) {
    for (const svc of tenant.services) {
      const stack = s.stacks[svc.stack ?? s.defaults.stack ?? ""] ?? [];
      const entry = stack.find((e) => e.layer === "container" && typeof e.image === "number");
      if (!entry) continue;
      c.unnamed.set(svc, c.ids.push(`${tenant.name}/${svc.name}`) - 1);
      c.sizes.push(entry.image as number);
    }
  }
  if (c.ids.length > MAX_LAYERS) {
    throw new Error(
      `the scenario's images have ${c.ids.length} distinct layers (named layers and services with an image size); image pulls track at most ${MAX_LAYERS}: share layer ids between images, or leave out registry (images on the hosts already)`,
    );
  }
  cache.set(s, c);
  return c;
}

/** Registers image pulls on the container layer: who pulls (`provisions`), the pull (provision), its events and figures. */
export function imagePulls(api: PluginSetup<ImageEntry>, runtimeStart: (entry: ImageEntry) => number): { provisions: (entry: ImageEntry, scenario: { registry?: unknown }) => boolean } {
  const catalogs = new WeakMap<object, Catalog>();
  const cached: ExtensionColumn[] = [];
  const pulling: ExtensionColumn[] = [];
  for (let w = 0; w < LAYER_WORDS; w++) {
    cached.push(api.extension(`layersCached${w}`, "i32"));
    pulling.push(api.extension(`layersPulling${w}`, "i32"));
  }
  const waiting = api.extension("layersAwaited", "i32");
  const since = api.extension("pullStart", "f64");
  // Not shown in tables (every container stack would show zeros): the run summary gives lifecycle.pull.
  // Counted from the run's start: the pulls of the first placement, at time 0, are most of them.
  const pulls = api.metric("pulls", { kind: "counter", unit: "layers", since: "run", description: "image layers downloaded from the registry" });
  const hits = api.metric("pullCacheHits", {
    kind: "counter",
    unit: "layers",
    since: "run",
    description: "image layers a starting container found on its machine, or being pulled there already",
  });
  const pullTime = api.metric("pull", { kind: "histogram", unit: "s", lifecycle: true, description: "seconds a container waited for its image's layers" });

  const has = (cols: ExtensionColumn[], owner: number, i: number): boolean => (cols[i >>> 5].data[owner] & (1 << (i & 31))) !== 0;
  const mark = (cols: ExtensionColumn[], owner: number, i: number, on: boolean): void => {
    const col = cols[i >>> 5].data;
    col[owner] = on ? col[owner] | (1 << (i & 31)) : col[owner] & ~(1 << (i & 31));
  };
  /** The machine a container's runtime runs on: its first ancestor that is not a container or a pod. */
  const ownerOf = (ctx: PluginContext<ImageEntry>, node: number): number => {
    let n = ctx.parentOf(node);
    while (OWN_LAYERS.has(ctx.layerOf(n))) n = ctx.parentOf(n);
    return n;
  };
  const layersOf = (ctx: PluginContext<ImageEntry>, c: number, catalog: Catalog): number[] => {
    const image = ctx.entry(c).image;
    if (typeof image === "string") return catalog.named.get(image)!;
    const svc = ctx.services(c)[0];
    const i = svc === undefined ? undefined : catalog.unnamed.get(svc);
    return i === undefined ? [] : [i];
  };
  /** Each container on `owner`'s machine (not below another machine on it), depth first. */
  const containersOn = (ctx: PluginContext<ImageEntry>, owner: number, visit: (c: number) => void): void => {
    const walk = (n: number): void => {
      for (const child of ctx.childrenOf(n)) {
        if (!OWN_LAYERS.has(ctx.layerOf(child))) continue;
        if (ctx.layerOf(child) === "container") visit(child);
        walk(child);
      }
    };
    walk(owner);
  };

  const started = api.event("runtime-started", (ctx, c) => ctx.setReady(c));
  const start = (ctx: PluginContext<ImageEntry>, c: number): void => void ctx.schedule(started, runtimeStart(ctx.entry(c)), c);

  const unpacked = api.event("layer-unpacked", (ctx, owner, i) => {
    // A second download of a layer (one was taken for dead while its machine lived on) finds it kept: its waiters
    // were released by the first.
    if (has(cached, owner, i)) return;
    mark(pulling, owner, i, false);
    mark(cached, owner, i, true);
    const catalog = catalogOf(ctx, catalogs);
    // Containers (of any image with this layer) that still wait for it: one fewer layer to wait for.
    containersOn(ctx, owner, (c) => {
      if (waiting.data[c] <= 0 || !ctx.provisioning(c) || !layersOf(ctx, c, catalog).includes(i)) return;
      if (--waiting.data[c] > 0) return;
      pullTime.record(c, ctx.now - since.data[c]);
      start(ctx, c);
    });
  });
  const downloaded = api.event("layer-downloaded", (ctx, owner, i) => {
    const host = ctx.hostOf(owner);
    if (ctx.hostRules(host).disk === undefined) return void ctx.schedule(unpacked, 0, owner, i); // nowhere to write: kept as downloaded
    ctx.io(host, catalogOf(ctx, catalogs).sizes[i], { write: true, then: unpacked, node: owner, payload: i });
  });

  api.hook("provision", (ctx, c) => {
    const catalog = catalogOf(ctx, catalogs);
    const registry = ctx.scenario.registry!;
    const owner = ownerOf(ctx, c);
    const host = ctx.hostOf(c);
    let awaited = 0;
    for (const i of layersOf(ctx, c, catalog)) {
      if (has(cached, owner, i)) {
        hits.add(c);
        continue;
      }
      awaited++;
      if (has(pulling, owner, i) && livePull(ctx, owner, c, i, catalog)) {
        hits.add(c);
        continue;
      }
      if (ctx.hostRules(host).nic === undefined) {
        throw new Error(`host type of node ${host} has no nic: a container pulls its image from the registry through it; give the host type a nic, or leave out registry`);
      }
      mark(pulling, owner, i, true);
      pulls.add(c);
      ctx.transfer(EXTERNAL, host, catalog.sizes[i], { then: downloaded, node: owner, payload: i, rate: registry.bandwidth, latency: registry.latency });
    }
    waiting.data[c] = awaited;
    since.data[c] = ctx.now;
    if (awaited === 0) start(ctx, c);
  });

  /**
   * Whether layer `i`, marked as being pulled on `owner`, is: some other container there still waits for it. A pull
   * whose machine stopped left its mark with no waiter (they stopped with it).
   */
  function livePull(ctx: PluginContext<ImageEntry>, owner: number, self: number, i: number, catalog: Catalog): boolean {
    let live = false;
    containersOn(ctx, owner, (c) => {
      if (!live && c !== self && waiting.data[c] > 0 && ctx.provisioning(c) && layersOf(ctx, c, catalog).includes(i)) live = true;
    });
    return live;
  }

  // A container pulls only where the scenario declares a registry and it has an image; the others start as before.
  return { provisions: (entry, scenario) => scenario.registry !== undefined && entry.image !== undefined };
}
