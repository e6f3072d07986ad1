/** The three-tier web shop at 1,000 hosts and 10,000 replicas, for the network benchmark (built-in-free plugins). */
import { definePlugin } from "../../dist/plugin/define.js";
import { count, fields, unitValue } from "../../dist/scenario/fields.js";
import { loadScenario } from "../../dist/scenario/load.js";
import type { Scenario } from "../../dist/scenario/schema.js";
import { testHost } from "../../dist/testing/index.js";

/** A minimal VM layer with the hypervisor plugin's rules that matter here (weight, cap, CPU factor 0.98). */
const vm = definePlugin({
  name: "bench-vm",
  layer: "vm",
  version: "1",
  schema: fields({ vcpus: count(1), memory: unitValue("size") }),
  setup(api) {
    api.layerRules({
      kernel: true,
      holds: "reserved",
      size: (e) => ({ request: { cores: e.vcpus, memory: e.memory }, capacity: { cores: e.vcpus, memory: e.memory } }),
      cpu: (e) => ({ weight: "runnable", cap: e.vcpus }),
      // KVM tuned, Linpack 284.2 / 290.8 (calibration.md, table 1.1)
      path: () => ({ cpuFactor: 0.98 }),
    });
  },
});

export function buildWebShop(): Scenario & { plugins: typeof plugins } {
  const text = `name: web-shop-1k
duration: 10s
warmup: 2s
hostTypes:
  m6i: { cores: 16, memory: 64GiB, disk: { iops: 50k, bandwidth: 1GB/s, latency: 100us }, nic: { bandwidth: 10Gb/s, latency: 10us } }
hosts: [{ type: m6i, count: 500, zone: a }, { type: m6i, count: 500, zone: b }]
network: { latency: 5us, zones: [{ between: [a, b], latency: 100us }] }
stacks:
  vms: [{ layer: vm, per: tenant, vcpus: 8, memory: 32GiB }]
tenants:
  - name: shop
    services:
      - name: frontend
        replicas: 5000
        threads: 64
        memory: 512MiB
        load: { open: { rate: 60000/s } }
        ingress: { request: 2KiB, response: 32KiB }
        request: [{ cpu: { exp: 2ms } }, { call: { service: api, request: 1KiB, response: 8KiB } }, { cpu: 500us }]
      - name: api
        replicas: 3000
        threads: 32
        memory: 512MiB
        request: [{ cpu: { lognormal: { mean: 3ms, cv: 1 } } }, { call: { service: db, request: 512B, response: 4KiB } }]
      - name: db
        stack: vms
        replicas: 2000
        threads: 16
        memory: 2GiB
        request: [{ cpu: 1ms }, { io: { read: 8KiB, count: 2, random: true } }]
placement: { policy: spread }
`;
  return { ...loadScenario(text, { plugins }), plugins };
}

const plugins = [testHost, vm];
