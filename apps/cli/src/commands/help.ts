import { Args, Command, loadHelpClass } from "@oclif/core";
import { printable } from "@turtles/engine";
import { unknownCommand } from "../hooks/not-found.js";

/** `turtles help [command]`: the same help as `--help`, for users who type it the other way round. */
export default class Help extends Command {
  static override summary = "Show help for turtles, or for one of its commands.";

  static override examples = ["<%= config.bin %> help", "<%= config.bin %> help run"];

  static override strict = false;

  static override args = { command: Args.string({ description: "a command, such as run or sweep" }) };

  async run(): Promise<void> {
    const { argv } = await this.parse(Help);
    const id = (argv as string[]).join(":");
    if (id !== "" && !this.config.findCommand(id)) {
      process.stderr.write(`${printable(unknownCommand(this.config, id))}\n`); // it quotes what was typed
      this.exit(2);
    }
    const HelpClass = await loadHelpClass(this.config);
    await new HelpClass(this.config).showHelp(argv as string[]);
  }
}
