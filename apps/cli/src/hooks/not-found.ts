import type { Hook } from "@oclif/core";
import { didYouMean } from "@turtles/engine";

/** An unknown command: the nearest one, and the list, with exit code 2 (bad input) instead of oclif's bare error. */
const hook: Hook<"command_not_found"> = async function (opts) {
  const ids = opts.config.commandIDs.filter((id) => id !== "help");
  const word = opts.id.split(":")[0];
  process.stderr.write(`"${word}" is not a turtles command${didYouMean(word, ids)}; the commands are ${ids.join(", ")} (see turtles help)\n`);
  this.exit(2);
};

export default hook;
