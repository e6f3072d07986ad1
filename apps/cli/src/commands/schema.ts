import { scenarioJsonSchema } from "@turtles/engine";
import { ScenarioCommand } from "../lib/base.js";
import { loadPlugins } from "../lib/scenario-file.js";

export default class Schema extends ScenarioCommand {
  static override summary = "Print the JSON Schema of scenario files, for editor completion and checks.";

  static override description =
    "Writes the scenario schema (JSON Schema draft 2020-12, including every layer plugin's fields) to stdout. " +
    "Point your editor at it: with the YAML language server, put `# yaml-language-server: $schema=./turtles.schema.json` " +
    "on the first line of a scenario.";

  static override examples = ["<%= config.bin %> schema > turtles.schema.json", "<%= config.bin %> schema --plugin ./examples/plugin-sandbox"];

  static override flags = { plugin: ScenarioCommand.pluginFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(Schema);
    this.log(JSON.stringify(scenarioJsonSchema(await loadPlugins(flags.plugin)), null, 2));
  }
}
