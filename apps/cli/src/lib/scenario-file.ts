/** Reading a scenario file for a command: the built-in plugins, the memory limit, clear errors. */
import { existsSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { totalmem } from "node:os";
import { getHeapStatistics } from "node:v8";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { estimateScenario, formatBytes, LIMITS, loadScenario, ScenarioError, type Scenario } from "@turtles/engine";
import { pluginsOf, type PluginDefinition } from "@turtles/engine/plugin";
import { baremetal } from "@turtles/plugin-baremetal";
import { container, pod } from "@turtles/plugin-container";
import { hypervisor } from "@turtles/plugin-hypervisor";
import { readInputFile } from "./files.js";

/** The layer plugins every command knows. */
export const builtinPlugins: readonly PluginDefinition[] = [baremetal, hypervisor, container, pod];

/** Module URLs of the built-in plugins (worker threads import them). */
export const builtinPluginModules: readonly string[] = ["@turtles/plugin-baremetal", "@turtles/plugin-hypervisor", "@turtles/plugin-container"].map((m) =>
  import.meta.resolve(m),
);

/** Module URLs of the plugins `loadPlugins` loaded, beyond the built-in ones. */
export const loadedPluginModules: string[] = [];

/** A model may use at most this share of the machine's memory (the rest is Node, V8 and the OS). */
const MEMORY_SHARE = 0.75;

/** A plugin module that cannot be used; the command exits 2 with this message. */
export class PluginLoadError extends Error {}

/**
 * The built-in plugins plus third-party ones named by `specs`: npm package
 * names (resolved from the current directory) or paths to a module.
 */
export async function loadPlugins(specs: readonly string[]): Promise<PluginDefinition[]> {
  const plugins = [...builtinPlugins];
  const require = createRequire(join(process.cwd(), "package.json"));
  for (const spec of specs) {
    const isPath = spec.startsWith(".") || spec.startsWith("/");
    let url: string;
    try {
      url = pathToFileURL(isPath ? modulePath(resolve(spec)) : require.resolve(spec)).href;
    } catch (err) {
      if (isPath) throw new PluginLoadError(`cannot find plugin "${spec}": ${(err as Error).message}; give the path of a module or of a package folder`);
      throw new PluginLoadError(`cannot find plugin "${spec}": install it in this project (npm install ${spec}) or give a path`);
    }
    let mod: Record<string, unknown>;
    try {
      mod = (await import(url)) as Record<string, unknown>;
    } catch (err) {
      throw new PluginLoadError(`cannot load plugin "${spec}": ${(err as Error).message}`);
    }
    const found = pluginsOf(mod);
    loadedPluginModules.push(url);
    if (found.length === 0) throw new PluginLoadError(`"${spec}" exports no Turtles plugin (define one with definePlugin from @turtles/engine/plugin)`);
    for (const p of found) {
      const clash = plugins.find((q) => q.layer === p.layer);
      if (clash) throw new PluginLoadError(`plugin "${p.name}" from "${spec}" provides the layer "${p.layer}", which plugin "${clash.name}" already provides`);
      const namesake = plugins.find((q) => q.name === p.name);
      if (namesake) throw new PluginLoadError(`plugin "${p.name}" from "${spec}" has the name of another plugin (of the layer "${namesake.layer}"); give it its own name`);
      plugins.push(p);
    }
  }
  return plugins;
}

/** A path given to --plugin: a module, or a package folder (its package.json `exports`, else `main`, else index.js). */
function modulePath(path: string): string {
  if (!statSync(path).isDirectory()) return path;
  const manifest = join(path, "package.json");
  if (!existsSync(manifest)) return join(path, "index.js");
  const pkg = JSON.parse(readFileSync(manifest, "utf8")) as { exports?: unknown; main?: string };
  let entry = pkg.exports;
  if (entry !== null && typeof entry === "object" && "." in entry) entry = (entry as Record<string, unknown>)["."];
  if (entry !== null && typeof entry === "object") {
    const conditions = entry as Record<string, unknown>;
    entry = conditions.import ?? conditions.node ?? conditions.default;
  }
  return resolve(path, typeof entry === "string" ? entry : (pkg.main ?? "index.js"));
}

/**
 * The most memory, and JavaScript heap, a model may need on this machine: a share of it, and of the heap this
 * process has left (workers get the main thread's heap limit: the pool sets no resourceLimits).
 */
export function memoryLimits(): { memoryLimit: number; heapLimit: number } {
  const heap = getHeapStatistics();
  return { memoryLimit: totalmem() * MEMORY_SHARE, heapLimit: (heap.heap_size_limit - heap.used_heap_size) * MEMORY_SHARE };
}

/**
 * How many of `wanted` workers can build their models at once on this machine: each builds a whole model of the
 * largest of `scenarios` (the memory estimate), so the memory guard, which admits one model, admits that many. Says
 * on stderr when it runs fewer than asked.
 */
export function workersThatFit(scenarios: readonly Scenario[], wanted: number): number {
  if (scenarios.length === 0) return wanted;
  const bytes = Math.max(...scenarios.map((s) => estimateScenario(s).bytes));
  const fit = Math.max(1, Math.floor((totalmem() * MEMORY_SHARE) / bytes));
  if (fit >= wanted) return wanted;
  process.stderr.write(`note: running ${fit} worker${fit === 1 ? "" : "s"}, not ${wanted}: each builds a model of about ${formatBytes(bytes)}, and ${wanted} at once would not fit in memory\n`);
  return fit;
}

/**
 * Reads the files a scenario names (a csv rate profile) relative to the scenario's own folder: regular files only,
 * and no more than one byte past the limit of a rate profile (which the loader then refuses).
 */
export function besideFile(file: string): (path: string) => string {
  return (path) => readInputFile(resolve(dirname(file), path), LIMITS.csvBytes).toString("utf8");
}

/** Where a path a scenario file names is: relative paths against the scenario's folder (traces' `path`, `nodes`). */
export function besidePath(file: string): (path: string) => string {
  return (path) => resolve(dirname(file), path);
}

/**
 * The bytes of a scenario file: a regular file (not a device, FIFO or folder), read no further than one byte past
 * the limit of a scenario's size (which `loadScenario` then refuses); `ScenarioError` if it cannot be read.
 */
export function readScenarioSource(file: string): Uint8Array {
  try {
    return readInputFile(file, LIMITS.scenarioBytes);
  } catch (err) {
    throw new ScenarioError([{ file, line: 0, column: 0, path: "", message: `cannot read the scenario: ${(err as Error).message}` }]);
  }
}

/** Loads and validates `file`; throws `ScenarioError` (with file, line and field) on any problem. */
export function readScenario(file: string, plugins: readonly PluginDefinition[] = builtinPlugins): Scenario {
  return loadScenario(readScenarioSource(file), { file, plugins, ...memoryLimits(), readFile: besideFile(file), resolvePath: besidePath(file) });
}

/**
 * Why a run saved in `file` cannot continue with the plugins loaded now (the built-in ones and those of --plugin),
 * or undefined. A saved run is untrusted: it never loads code itself, its modules are only named for the user to
 * pass with --plugin. Saved modules that were not loaded are accepted only when --plugin named modules that provide
 * every saved plugin at its version (the same plugin, moved); without --plugin they are refused.
 */
export function savedPluginsProblem(
  file: string,
  saved: { plugins: Record<string, string>; pluginModules: readonly string[] },
  plugins: readonly PluginDefinition[],
  otherwise: string,
): string | undefined {
  const loaded = new Set([...builtinPluginModules, ...loadedPluginModules]);
  const missing = saved.pluginModules.filter((m) => !loaded.has(m));
  const pass = missing.map((m) => `--plugin ${shellQuoted(modulePathOf(m))}`).join(" ");
  const only = "a saved run loads only the plugins named on the command line";
  const have = new Map(plugins.map((p) => [p.name, p.version]));
  for (const [name, version] of Object.entries(saved.plugins)) {
    if (have.get(name) === version) continue;
    if (have.has(name)) return `${file} was saved with plugin ${name} ${version}, but this is ${name} ${have.get(name)}; continue it with the same plugins, or ${otherwise}`;
    return `${file} was saved with plugin ${name} ${version}, which is not loaded (${only}); pass ${pass || "--plugin with its module"} to load it, or ${otherwise}`;
  }
  if (missing.length > 0 && loadedPluginModules.length === 0) {
    return `${file}: this run was saved with plugin module${missing.length === 1 ? "" : "s"} ${missing.map(modulePathOf).join(", ")} (${only}); pass ${pass} to load ${missing.length === 1 ? "it" : "them"}, or ${otherwise}`;
  }
  return undefined;
}

/** The path of a file: URL (what --plugin takes), else the name as it is. */
function modulePathOf(url: string): string {
  try {
    return url.startsWith("file:") ? fileURLToPath(url) : url;
  } catch {
    return url; // a file: URL of another host
  }
}

/** A word as a POSIX shell reads it back: as it is when plain, else in single quotes. */
function shellQuoted(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}
