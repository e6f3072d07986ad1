// Image pulls (images.ts) against closed forms: a cold container waits its layers' downloads at the registry's
// bandwidth, their unpacks on the host's disk and its runtime's start; a warm one its start only; concurrent pulls of
// a layer download it once; a pull takes its share of the host's NIC from other traffic.
import { loadScenario, ReplicationRun, runScenario, ScenarioError } from "@turtles/engine";
import { baremetal } from "@turtles/plugin-baremetal";
import { describe, expect, it } from "vitest";
import { container, RUNTIME_DEFAULTS } from "./index.js";

const plugins = [baremetal, container];
const MB = 1e6;
/** The baremetal plugin's default process start, the last step before a replica is ready. */
const PROCESS_START = 0.001;
const RUNC_START = RUNTIME_DEFAULTS.runc.provisioning;

// A 10 Gb/s NIC, a disk writing 500 MB/s, a registry serving 1 Gb/s (125 MB/s) a download after 20 ms.
const HOST = "{ cores: 8, memory: 64GiB, nic: { bandwidth: 10Gb/s }, disk: { iops: 100k, bandwidth: 500MB/s } }";
const IMAGES = "images: { web: { layers: [{ id: base, size: 125MB }, { id: app, size: 25MB }] } }";
const REGISTRY = "registry: { bandwidth: 1Gb/s, latency: 20ms }";

function scenario(body: string): ReturnType<typeof loadScenario> {
  return loadScenario(`duration: 5s\nhostTypes: { h: ${HOST} }\n${body}`, { plugins });
}

/** Service a's `replicas` in containers of image web on `hosts`, with `extra` top-level lines and, unless told, the registry. */
function docker(replicas: number, hosts: string, extra = "", registry = REGISTRY, load = ""): ReturnType<typeof loadScenario> {
  return scenario(`hosts: ${hosts}
${extra}
${IMAGES}
${registry}
stacks: { docker: [{ layer: container, image: web }] }
tenants: [{ name: t, services: [{ name: a, stack: docker, replicas: ${replicas}, ${load}request: [{ cpu: 1ms }] }] }]
`);
}

/**
 * One container's pull of web alone on a host: each layer downloads at the registry's 125 MB/s (its share of the
 * NIC is more) after 20 ms, then is written to the disk at 500 MB/s: base 1.02 s + 0.25 s, app 0.22 s + 0.05 s,
 * together; the pull ends with base's unpack.
 */
const PULL = 0.02 + 125 / 125 + 125 / 500;

describe("image pulls", () => {
  it("make the first container of an image on a host wait pull + unpack + start, and a second one there start only", async () => {
    // Two replicas spread over two hosts, each pulling; host 1 fails at 2 s and its replica is placed again on host
    // 0 a second later, where the layers are kept: its container starts at once.
    const s = docker(2, "[{ type: h, count: 2 }]", "placement: { policy: spread }\nfailures: { detection: 1s, scripted: [{ at: 2s, host: 1 }] }");
    const st = (await runScenario({ ...s, warmup: 0 }, plugins)).stacks.docker;
    expect(st.lifecycle.pull).toEqual({ p50: expect.closeTo(PULL, 9), p99: expect.closeTo(PULL, 9) });
    expect(st.lifecycle.ready!.p50).toBeCloseTo(PULL + RUNC_START + PROCESS_START, 9);
    // Found at 3 s (failure + detection), ready after the runtime's and the process's start: no pull.
    expect(st.lifecycle.recovery!.p50).toBeCloseTo(1 + RUNC_START + PROCESS_START, 9);
    expect(st.layers.container).toMatchObject({ pulls: 4, pullCacheHits: 2 });
  });

  it("download a layer once for two containers that pull it at once on one host", async () => {
    const s = docker(2, "[{ type: h }]");
    const st = (await runScenario({ ...s, warmup: 0 }, plugins)).stacks.docker;
    // The second container waits for the first's downloads: both ready as one pull alone.
    expect(st.lifecycle.pull).toEqual({ p50: expect.closeTo(PULL, 9), p99: expect.closeTo(PULL, 9) });
    expect(st.layers.container).toMatchObject({ pulls: 2, pullCacheHits: 2 });
    expect(st.hosts.nicBytesReceived).toBe(150 * MB);
    expect(st.hosts.diskBytesWritten).toBe(150 * MB);
  });

  it("slow other traffic on the host's NIC while they download: a 1 MB request takes twice as long beside one pull", async () => {
    // A 100 MB/s NIC: one client's 1 MB requests take 10 ms alone, 20 ms sharing the NIC with a 1 GB pull (which
    // lasts the whole run at a 50 MB/s share), whose registry would give it 1 GB/s.
    const run = async (pull: boolean) => {
      const s = loadScenario(
        `duration: 5s
hostTypes: { h: { cores: 8, memory: 64GiB, nic: { bandwidth: 100MB/s }, disk: { iops: 100k, bandwidth: 2GB/s } } }
hosts: [{ type: h }]
images: { big: { layers: [{ id: blob, size: 1GB }] } }
registry: { bandwidth: 1GB/s, latency: 0s }
stacks: { plain: [{ layer: container, network: host }], pulled: [{ layer: container, network: host, image: big }] }
tenants:
  - name: t
    services:
      - { name: web, stack: plain, ingress: { request: 1MB }, load: { closed: { clients: 1, think: 0s } }, request: [{ cpu: 1us }] }
${pull ? "      - { name: big, stack: pulled, request: [{ cpu: 1ms }] }" : ""}
`,
        { plugins },
      );
      const r = await runScenario({ ...s, warmup: 1 }, plugins);
      return Object.values(r.stacks)[0].services["t/web"].latency.mean as number;
    };
    const alone = await run(false);
    expect(alone).toBeCloseTo(0.01 + 1e-6, 6);
    expect((await run(true)) / alone).toBeCloseTo(2, 2);
  });

  it("leave scenarios without a registry as they were: images on the hosts already, no pull", async () => {
    const s = docker(1, "[{ type: h }]", "", "");
    const st = (await runScenario({ ...s, warmup: 0 }, plugins)).stacks.docker;
    expect(st.lifecycle.pull).toBeUndefined();
    expect(st.lifecycle.ready!.p50).toBeCloseTo(RUNC_START + PROCESS_START, 12);
    expect(st.layers.container).toMatchObject({ pulls: 0, pullCacheHits: 0 });
  });

  it("count a named image once in images, and its layers' bytes in portability", async () => {
    const s = scenario(`hosts: [{ type: h }]
${IMAGES}
stacks: { docker: [{ layer: container, image: web }] }
tenants: [{ name: t, services: [{ name: a, stack: docker, request: [{ cpu: 1ms }] }, { name: b, stack: docker, request: [{ cpu: 1ms }] }] }]
`);
    const st = (await runScenario({ ...s, warmup: 0, duration: 0.1 }, plugins)).stacks.docker;
    // The host type's OS image and web.
    expect(st.images).toBe(2);
    expect(st.portability["t/a"].bytes).toBe(150 * MB);
  });

  it("refuse an image name the scenario does not define, at its line, with the nearest name", () => {
    const load = () =>
      scenario(`hosts: [{ type: h }]
${IMAGES}
stacks:
  docker: [{ layer: container, image: wbe }]
tenants: [{ name: t, services: [{ name: a, stack: docker, request: [{ cpu: 1ms }] }] }]
`);
    expect(load).toThrow(ScenarioError);
    expect(load).toThrow(/scenario:6:\d+: stacks\.docker\[0\]\.image.*unknown image "wbe".*did you mean "web"/s);
  });

  it("continue a run saved in the middle of its pulls exactly: the layer cache and the waiters are in the saved state", () => {
    // Two hosts, three replicas each way, the second host failing at 2 s: pulls, shared downloads and cache hits.
    const s = docker(4, "[{ type: h, count: 2 }]", "placement: { policy: spread }\nfailures: { detection: 1s, scripted: [{ at: 2s, host: 1 }] }", REGISTRY, "load: { open: { rate: 100/s } }, ");
    const straight = new ReplicationRun({ ...s, warmup: 0 }, plugins, 0);
    while (!straight.advance(10_000));
    const expected = JSON.stringify(straight.result());
    expect(straight.result().stack.lifecycle.pull).toBeDefined();
    for (const cut of [3, 20, 150]) {
      const first = new ReplicationRun({ ...s, warmup: 0 }, plugins, 0);
      first.advance(cut);
      const resumed = ReplicationRun.resume({ ...s, warmup: 0 }, plugins, 0, first.snapshot());
      while (!resumed.advance(10_000));
      expect(JSON.stringify(resumed.result()), `cut at event ${cut}`).toBe(expected);
    }
  });

  it("pull afresh on a host that failed in the middle of a pull: the download died with it", async () => {
    // The only host fails at 0.5 s, a download under way, and is back at 1.5 s, where the replicas are placed again.
    const s = docker(2, "[{ type: h }]", "failures: { detection: 1s, scripted: [{ at: 0.5s, host: 0, repair: 1s }] }");
    const st = (await runScenario({ ...s, warmup: 0 }, plugins)).stacks.docker;
    // Two downloads at first, the second container joining both; app's, unpacked at 0.27 s, is kept. After the repair
    // base is pulled again by the first container (app found), the second finding app kept and base being pulled.
    expect(st.layers.container).toMatchObject({ pulls: 3, pullCacheHits: 5 });
    expect(st.lifecycle.pull).toEqual({ p50: expect.closeTo(PULL, 9), p99: expect.closeTo(PULL, 9) });
    // Placed again at 1.5 s (the repair and the detection), 1 s after the failure: ready a pull and a start later.
    expect(st.lifecycle.recovery).toEqual({ p50: expect.closeTo(1 + PULL + RUNC_START + PROCESS_START, 9), p99: expect.closeTo(1 + PULL + RUNC_START + PROCESS_START, 9) });
  });
});
