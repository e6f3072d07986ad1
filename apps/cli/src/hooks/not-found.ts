import type { Hook, Interfaces } from "@oclif/core";
import { didYouMean, printable } from "@turtles/engine";

/**
 * What to say of a command id (`rnu`, or `sweep:foo` from `turtles sweep:foo`, or `plugin:foo` from `turtles plugin
 * foo`) that is not a command. Ids are shown as typed: `plugin init`.
 */
export function unknownCommand(config: Pick<Interfaces.Config, "commandIDs">, id: string): string {
  const shown = (c: string): string => c.replaceAll(":", " ");
  const ids = config.commandIDs.filter((c) => c !== "help");
  const [first, ...rest] = id.split(":");
  if (first === "help" && rest.length > 0) return unknownCommand(config, rest.join(":")); // `turtles help:swep`
  if (config.commandIDs.includes(first)) return `"${first} ${rest.join(" ")}" is not a turtles command: ${first} has no subcommands (see turtles help ${first})`;
  const topic = ids.filter((c) => c.startsWith(`${first}:`));
  if (topic.length > 0) return `"${shown(id)}" is not a turtles command; the ${first} commands are ${topic.map(shown).join(", ")} (see turtles help ${first})`;
  const words = [...new Set(ids.map((c) => c.split(":")[0]))];
  return `"${first}" is not a turtles command${didYouMean(first, words)}; the commands are ${ids.map(shown).join(", ")} (see turtles help)`;
}

/** An unknown command: the nearest one, and the list, with exit code 2 (bad input) instead of oclif's bare error. */
const hook: Hook<"command_not_found"> = async function (opts) {
  process.stderr.write(`${printable(unknownCommand(opts.config, opts.id))}\n`); // it quotes what was typed
  this.exit(2);
};

export default hook;
