// Packaging, as a plugin author and an app builder meet it outside the workspace: `pnpm pack` of every package gives
// tarballs that plain npm installs in an empty folder, and `turtles plugin init` writes a plugin package that
// installs the packed engine, passes its own test, builds, and loads with --plugin.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..", "..");
const bin = join(import.meta.dirname, "..", "bin", "run.js");
const PACKAGES = ["engine", "plugin-baremetal", "plugin-hypervisor", "plugin-container"];
const work = mkdtempSync(join(tmpdir(), "turtles-packaging-"));
const packs = join(work, "packs");
const tarballs: Record<string, string> = {};

/** Runs a command in `cwd`; its output, or the test fails with the command's own. */
function sh(cwd: string, cmd: string, ...args: string[]): string {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false" } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} (in ${cwd}) exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

beforeAll(() => {
  for (const p of PACKAGES) sh(join(root, "packages", p), "pnpm", "pack", "--pack-destination", packs);
  for (const f of readdirSync(packs)) tarballs[f.replace(/^turtles-(.*)-\d+\.\d+\.\d+\.tgz$/, "$1")] = join(packs, f);
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("the packed packages", () => {
  it("hold their types and no workspace-only references", () => {
    for (const p of PACKAGES) {
      const files = execFileSync("tar", ["-tzf", tarballs[p]], { encoding: "utf8" });
      expect(files, p).toContain("package/dist/index.d.ts");
      expect(files, p).not.toContain("bench/");
      const manifest = execFileSync("tar", ["-xzOf", tarballs[p], "package/package.json"], { encoding: "utf8" });
      expect(manifest, p).not.toMatch(/workspace:|catalog:/);
    }
  });

  it("install with plain npm in an empty folder and run a scenario there", () => {
    const app = join(work, "app");
    sh(work, "mkdir", app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
    sh(app, "npm", "install", ...PACKAGES.map((p) => tarballs[p]));
    writeFileSync(
      join(app, "main.js"),
      `import { loadScenario, runScenario } from "@turtles/engine";
import { baremetal } from "@turtles/plugin-baremetal";
import { hypervisor } from "@turtles/plugin-hypervisor";
import { container } from "@turtles/plugin-container";
const plugins = [baremetal, hypervisor, container];
const s = loadScenario("duration: 2s\\nhostTypes: { h: { cores: 4, memory: 8GiB } }\\nhosts: [{ type: h }]\\n" +
  "stacks: { k8s: [{ layer: vm, vcpus: 2, memory: 2GiB }, { layer: container }] }\\n" +
  "tenants: [{ name: t, services: [{ name: a, stack: k8s, load: { closed: { clients: 2, think: 0s } }, request: [{ cpu: 10ms }] }] }]", { plugins });
const r = await runScenario(s, plugins);
console.log(JSON.stringify(r.stacks.k8s.services["t/a"].completed));
`,
    );
    // Two clients on two vCPUs, 10 ms each at 0.98 of a core, from the VM's boot (244 ms) and the starts: about 360 requests.
    const completed = Number(sh(app, "node", "main.js").trim());
    expect(completed).toBeGreaterThan(300);
  });
});

describe("turtles plugin init", () => {
  it("writes a plugin package that installs the packed engine, passes its test, builds and loads with --plugin", () => {
    const dir = join(work, "my-nat");
    const init = sh(work, process.execPath, bin, "plugin", "init", dir, "--engine", `file:${tarballs.engine}`);
    expect(init).toContain("wrote the my-nat layer plugin (turtles-plugin-my-nat)");
    sh(dir, "npm", "install");
    expect(sh(dir, "npm", "test")).toMatch(/1 passed/);
    sh(dir, "npm", "run", "build");
    const out = sh(dir, process.execPath, bin, "run", "scenario.yaml", "--plugin", ".", "--duration", "5s", "--json", "--workers", "1");
    const results = JSON.parse(out);
    expect(results.manifest.plugins["my-nat"]).toBe("0.1.0");
    expect(results.manifest.metrics["my-nat.messages"]).toMatchObject({ kind: "counter", show: true });
    expect(results.stacks.layered.layers["my-nat"].messages).toBeGreaterThan(1000);
    // A folder that is there already is refused, and nothing is written.
    const again = spawnSync(process.execPath, [bin, "plugin", "init", dir], { encoding: "utf8" });
    expect(again.status).toBe(2);
    expect(again.stderr).toContain("exists and is not an empty folder");
  });
});
