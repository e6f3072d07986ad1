import type { Hook, Interfaces } from "@oclif/core";
import { didYouMean } from "@turtles/engine";

/** What to say of a command id (`rnu`, or `sweep:foo` from `turtles sweep:foo`) that is not a command. */
export function unknownCommand(config: Pick<Interfaces.Config, "commandIDs">, id: string): string {
  const ids = config.commandIDs.filter((c) => c !== "help");
  const [first, ...rest] = id.split(":");
  if (first === "help" && rest.length > 0) return unknownCommand(config, rest.join(":")); // `turtles help:swep`
  if (config.commandIDs.includes(first)) return `"${first} ${rest.join(" ")}" is not a turtles command: ${first} has no subcommands (see turtles help ${first})`;
  return `"${first}" is not a turtles command${didYouMean(first, ids)}; the commands are ${ids.join(", ")} (see turtles help)`;
}

/** An unknown command: the nearest one, and the list, with exit code 2 (bad input) instead of oclif's bare error. */
const hook: Hook<"command_not_found"> = async function (opts) {
  process.stderr.write(`${unknownCommand(opts.config, opts.id)}\n`);
  this.exit(2);
};

export default hook;
