import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Args, Flags } from "@oclif/core";
import { ENGINE_VERSION } from "@turtles/engine";
import { removeStaleTemporaries, temporaryOf } from "../../lib/atomic.js";
import { ScenarioCommand } from "../../lib/base.js";

const TEMPLATE = new URL("../../../templates/plugin/", import.meta.url);
const NAME = /^[a-z][a-z0-9-]*$/;

/** Every file of the template, as paths relative to it. */
function templateFiles(dir: string, prefix = ""): string[] {
  return readdirSync(join(dir, prefix)).flatMap((f) => (statSync(join(dir, prefix, f)).isDirectory() ? templateFiles(dir, join(prefix, f)) : [join(prefix, f)]));
}

export default class PluginInit extends ScenarioCommand {
  static override summary = "Write a ready layer plugin package: schema, rules, one hook, one metric and a test.";

  static override description =
    "The package builds with tsc, tests with vitest and loads with --plugin DIR. It depends on the engine through a peer dependency " +
    "(and a dev dependency for its build and test): --engine says where npm gets it (a version range, or a tarball from pnpm pack).";

  static override examples = [
    "<%= config.bin %> plugin init my-layer",
    "<%= config.bin %> plugin init plugins/nat --layer nat --name @acme/turtles-nat",
    "<%= config.bin %> plugin init my-layer --engine file:../turtles-engine-0.1.0.tgz",
  ];

  static override args = { dir: Args.string({ description: "the folder to create (it must not exist, or be empty)", required: true }) };

  static override flags = {
    layer: Flags.string({ description: "the layer's name in stacks (default: the folder's name)" }),
    name: Flags.string({ description: "the npm package name (default: turtles-plugin-<layer>)" }),
    engine: Flags.string({ description: "the engine npm installs for the build and the tests", default: `^${ENGINE_VERSION}` }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(PluginInit);
    const dir = resolve(args.dir);
    if (existsSync(dir) && (!statSync(dir).isDirectory() || readdirSync(dir).length > 0)) {
      this.fail(`${args.dir} exists and is not an empty folder; give a new folder`);
    }
    const layer = flags.layer ?? basename(dir).toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^[^a-z]+/, "");
    if (!NAME.test(layer) || layer === "host" || layer === "process" || layer === "aux") {
      this.fail(`--layer: "${layer}" cannot name a layer: use lower-case letters, digits and '-', starting with a letter (not host, process or aux)`);
    }
    const packageName = flags.name ?? `turtles-plugin-${layer}`;
    if (!/^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/.test(packageName)) this.fail(`--name: "${packageName}" is not a valid npm package name`);
    const values: Record<string, string> = {
      __PACKAGE__: packageName,
      __LAYER__: layer,
      __ENGINE__: flags.engine,
      __ENGINE_RANGE__: `>=${ENGINE_VERSION}`,
    };
    // The whole package or nothing: written beside the target, then renamed into place.
    const template = fileURLToPath(TEMPLATE);
    removeStaleTemporaries(dir);
    const staging = temporaryOf(dir);
    try {
      for (const file of templateFiles(template)) {
        const text = readFileSync(join(template, file), "utf8").replace(/__[A-Z_]+__/g, (k) => values[k] ?? k);
        // npm drops files named .gitignore from packages, so the template's is "gitignore".
        const target = join(staging, file === "gitignore" ? ".gitignore" : file);
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, text);
      }
      if (existsSync(dir)) rmSync(dir, { recursive: true });
      mkdirSync(dirname(dir), { recursive: true });
      renameSync(staging, dir);
    } catch (err) {
      rmSync(staging, { recursive: true, force: true });
      throw err;
    }
    const where = relative(process.cwd(), dir) || ".";
    this.log(`wrote the ${layer} layer plugin (${packageName}) in ${where}; then:`);
    this.log(`  cd ${where} && npm install && npm test && npm run build`);
    this.log(`  turtles run ${join(where, "scenario.yaml")} --plugin ${where}`);
  }
}
