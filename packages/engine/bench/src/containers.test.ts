import { describe, expect, it } from "vitest";
import { benchContainers, CONTAINER_CASE } from "./containers.js";

// The container benchmark's model is the case it names: at a hundredth of it (100 hosts), placement packs ten
// containers into each 2-vCPU VM and ten VMs onto each host, and the open-loop rate is all served.
describe("the container benchmark's model", () => {
  it("places ten containers per VM and ten VMs per host, and serves the offered rate", () => {
    const r = benchContainers(0.01);
    expect(r.hosts).toBe(100);
    expect(r.vms).toBe(100 * CONTAINER_CASE.vmsPerHost);
    expect(r.containers).toBe(r.vms * CONTAINER_CASE.containersPerVm);
    // 1,000/s for 6 s: a Poisson count's standard deviation is 1.3% of it.
    expect(r.throughput / r.expectedThroughput).toBeGreaterThan(0.95);
    expect(r.throughput / r.expectedThroughput).toBeLessThan(1.05);
  });
});
