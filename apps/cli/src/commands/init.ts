import { existsSync, readFileSync } from "node:fs";
import { NotAFileError, writeFileAtomic } from "../lib/atomic.js";
import { Args, Command, Flags } from "@oclif/core";

const STARTER = new URL("../../templates/starter.yaml", import.meta.url);

export default class Init extends Command {
  static override summary = "Write a commented starter scenario that validates and runs.";

  static override examples = ["<%= config.bin %> init", "<%= config.bin %> init my-shop.yaml"];

  static override args = { file: Args.string({ description: "where to write it", default: "scenario.yaml" }) };

  static override flags = { force: Flags.boolean({ description: "overwrite the file if it exists" }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Init);
    if (existsSync(args.file) && !flags.force) {
      this.logToStderr(`${args.file} already exists; pass --force to overwrite it`);
      this.exit(2);
    }
    try {
      writeFileAtomic(args.file, readFileSync(STARTER));
    } catch (err) {
      if (!(err instanceof NotAFileError)) throw err;
      this.logToStderr(`${err.message}: writing would replace it; give the name of a file`);
      this.exit(2);
    }
    this.log(`wrote ${args.file}; check it with: turtles validate ${args.file}`);
  }
}
