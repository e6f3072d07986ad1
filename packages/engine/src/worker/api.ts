/** The engine's worker API: the same object in a Web Worker and in a Node worker thread. */
import { encodeSnapshot } from "../kernel/codec.js";
import { pluginsOf, type PluginDefinition } from "../plugin/define.js";
import { loadScenario } from "../scenario/load.js";
import { runReplication } from "../workload/run.js";
import type { EngineApi, ReplicationJob } from "./protocol.js";

const loaded = new Map<string, PluginDefinition[]>();

async function pluginsFrom(modules: readonly string[]): Promise<PluginDefinition[]> {
  const out: PluginDefinition[] = [];
  for (const url of modules) {
    let plugins = loaded.get(url);
    if (!plugins) loaded.set(url, (plugins = pluginsOf((await import(url)) as Record<string, unknown>)));
    out.push(...plugins);
  }
  return out;
}

export const engineApi: EngineApi = {
  async runReplications(job: ReplicationJob): Promise<Uint8Array> {
    const plugins = await pluginsFrom(job.pluginModules);
    const scenario = loadScenario(job.scenario, { file: job.file, plugins });
    const results = [];
    for (const r of job.replications) results.push(await runReplication(scenario, plugins, r, { file: job.file }));
    // A copy of exactly its bytes, so the transfer moves no more than the results.
    return encodeSnapshot(results).slice();
  },
};
