/**
 * Static figures of a stack (DESIGN.md, Results): what the model and the
 * placement rules say without running a load, the same in every replication.
 * Density and cold start come from placing replicas on one empty host of each
 * type in a scratch model, by the very placement code a run uses (so a layer's
 * sizes, overheads and sharing count exactly as they do there); images and
 * portability from the layers' `image` rules.
 */
import { Simulation } from "../kernel/simulation.js";
import type { PluginDefinition } from "../plugin/define.js";
import { stackLayers, stackOf } from "../scenario/load.js";
import { LIMITS, type Scenario } from "../scenario/schema.js";
import { NONE } from "../tree/nodes.js";
import { Model } from "./model.js";

/**
 * Most replicas one host is filled with when computing density. A replica that reserves next to nothing of its host
 * (a container without requests, a service of no memory) is bounded by nothing placement checks; past this, its
 * density is reported as null ("not bounded by the placement rules") rather than after seconds of placing (each
 * placement of a layered replica costs about 15 us). 10,000 is above the "thousands of guests" LightVM ran on one
 * host (calibration.md, 1.1) and far above Kubernetes' default of 110 pods per node.
 */
export const DENSITY_LIMIT = 10_000;

/** Events a replica's provisioning may take on an empty host before its cold start is given up (null). */
const COLD_START_EVENTS = 1_000_000;

/** The static figures of a stack's results (`StackResults`), per service key `tenant/service`. */
export interface StaticFigures {
  /** Most replicas of the service one host of each type holds, by the placement rules; null: not bounded (`DENSITY_LIMIT`). */
  density: Record<string, Record<string, number | null>>;
  /** Seconds from placing one replica on an empty host to its being ready (its stack's provisioning chain); null: it fits no host type. */
  coldStart: Record<string, number | null>;
  /** Bytes of the images one replica's layers start from, and the seconds to copy them over the host's NIC and start it there. */
  portability: Record<string, { bytes: number; seconds: number | null }>;
  /** Distinct images to maintain: a host OS image per host type, and the images of the layers the services use. */
  images: number;
}

/**
 * The static figures of scenario `s` (each service on its own stack): one scratch model per host type and service,
 * built with `plugins`. Cold start and portability are on the first host type (scenario order) where one replica
 * fits, the type first-fit placement starts with. Cost: a model build per host type and service, and a placement
 * per replica of density (at most `DENSITY_LIMIT`).
 */
export function staticFigures(s: Scenario, plugins: readonly PluginDefinition[]): StaticFigures {
  const types = [...new Set(s.hosts.map((g) => g.type))];
  const density: StaticFigures["density"] = {};
  const coldStart: StaticFigures["coldStart"] = {};
  const portability: StaticFigures["portability"] = {};
  // Host OS images: one per host type. Layer images by name, or per service when unnamed.
  const images = new Set(types.map((t) => `host:${t}`));
  const placedAlone = new Map<string, ReturnType<typeof onEmptyHost>[]>();
  // A model without hosts gives the layers' rules.
  const rules = new Model(new Simulation({ seed: s.seed }), plugins);
  s.tenants.forEach((tenant, ti) =>
    tenant.services.forEach((svc, si) => {
      const key = `${tenant.name}/${svc.name}`;
      let bytes = 0;
      stackLayers(s, svc).forEach((entry, i) => {
        const kind = rules.kindOf(entry.layer);
        const image = rules.rulesOf(kind).image?.(entry, s);
        if (!image) return;
        // A plugin's rule is code the engine does not control: a figure must be a finite number (DESIGN.md, Results).
        if (!(typeof image.bytes === "number" && Number.isFinite(image.bytes) && image.bytes >= 0)) {
          throw new Error(`plugin ${rules.layer(kind)?.plugin.name}: the image rule of layer "${entry.layer}" gave ${String(image.bytes)} bytes; expected a finite number of bytes >= 0`);
        }
        bytes += image.bytes;
        images.add(image.name !== undefined ? `${entry.layer}:${image.name}` : `${entry.layer}#${i}:${key}`);
      });
      // Alone on an empty host, a replica is placed by its stack, its reservation and whether it needs a disk: services
      // alike in those (a trace's thousands of pods) share one set of scratch hosts.
      const shape = JSON.stringify([stackOf(s, svc), svc.cores, svc.memory, svc.request.some((step) => "io" in step)]);
      let alone = placedAlone.get(shape);
      if (!alone) placedAlone.set(shape, (alone = types.map((type) => onEmptyHost(s, plugins, type, ti, si))));
      density[key] = Object.fromEntries(types.map((type, i) => [type, alone[i].density]));
      const first = alone.find((r) => r.density !== 0);
      const start = first?.start ?? null;
      coldStart[key] = start;
      const copy = bytes === 0 ? 0 : first?.nic ? bytes / first.nic : null;
      portability[key] = { bytes, seconds: start === null || copy === null ? null : copy + start };
    }),
  );
  return { images: images.size, density, coldStart, portability };
}

/**
 * Service (ti, si) alone on one empty host of `type`: the seconds its first replica takes to be ready, and how many
 * replicas placement puts there before one does not fit.
 */
function onEmptyHost(s: Scenario, plugins: readonly PluginDefinition[], type: string, ti: number, si: number): { density: number | null; start: number | null; nic: number | undefined } {
  const group = s.hosts.find((g) => g.type === type)!;
  // The scenario's own services (placement reads them by index), none placed by the build.
  const scratch: Scenario = { ...s, hosts: [{ ...group, count: 1 }], tenants: s.tenants.map((t) => ({ ...t, services: t.services.map((x) => ({ ...x, replicas: 0 })) })) };
  const sim = new Simulation({ seed: s.seed });
  const m = new Model(sim, plugins);
  m.build(scratch);
  const nic = m.hostRules[0].nic?.bandwidth;
  const p = m.placeReplica(ti, si);
  if (p === NONE) return { density: 0, start: null, nic };
  // Alone on the host: run its provisioning (a layer that hooks `provision` does work for it) until it is ready, or
  // until the longest run or COLD_START_EVENTS have passed without it (a plugin's own timers may go on forever).
  for (let events = 0; m.readyAt[p] === Infinity && events < COLD_START_EVENTS && sim.peek() <= LIMITS.duration && sim.step(); events++);
  const start = m.readyAt[p] === Infinity ? null : m.readyAt[p];
  let placed = 1;
  while (placed <= DENSITY_LIMIT && m.placeReplica(ti, si) !== NONE) placed++;
  return { density: placed <= DENSITY_LIMIT ? placed : null, start, nic };
}
