/** The base of commands that read scenarios: scenario problems print as located lines and exit with code 2. */
import { Command, Flags } from "@oclif/core";
import { formatProblems, ScenarioError } from "@turtles/engine";
import { PluginLoadError } from "./scenario-file.js";

export abstract class ScenarioCommand extends Command {
  /** Exit code for a scenario that cannot be used (bad input), as opposed to 1 for a failure of the tool. */
  static readonly BAD_INPUT = 2;

  /** `--plugin`, shared by the commands that read scenarios. */
  static pluginFlag = Flags.string({
    description: "also load this layer plugin (an npm package name or a path); repeatable",
    multiple: true,
    default: [],
  });

  protected override async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    if (err instanceof PluginLoadError) {
      this.logToStderr(err.message);
      this.exit(ScenarioCommand.BAD_INPUT);
    }
    if (err instanceof ScenarioError) {
      if (this.jsonEnabled()) {
        this.logJson({ valid: false, problems: err.problems });
      } else {
        this.logToStderr(formatProblems(err.problems));
      }
      this.exit(ScenarioCommand.BAD_INPUT);
    }
    return super.catch(err);
  }
}
