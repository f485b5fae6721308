/**
 * Who acted on a run, as people's records show it: the user and their groups, as the gateway
 * authenticated them. Records carry the groups bounded (at most {@link maxActorGroups}, each at most
 * {@link maxActorGroupLength} characters), so an identity with hundreds of groups never makes a
 * record too large to store or read back.
 *
 * @module
 */
import { z } from "zod";

/** Groups kept on a record at most. */
export const maxActorGroups = 64;
/** Characters of a group kept on a record at most. */
export const maxActorGroupLength = 256;

/** The groups of the person who acted, as recorded. */
export const ActorGroups = z
  .array(z.string().min(1).max(maxActorGroupLength))
  .max(maxActorGroups)
  .describe(
    `The groups of the person who acted, as the gateway authenticated them (at most ${maxActorGroups} kept).`,
  );

/** A person acting on an inbox item or an approval: their user name and, when known, groups. */
export interface Actor {
  readonly user: string;
  readonly groups?: readonly string[];
}

/**
 * The actor of a name alone or of an identity, with its groups bounded as records keep them
 * (empty groups and longer ones dropped, then the first {@link maxActorGroups}).
 *
 * @example
 * ```ts
 * recordedActor("ann"); // { user: "ann" }
 * recordedActor({ user: "ann", groups: ["billing-desk"] }); // { user: "ann", groups: ["billing-desk"] }
 * ```
 */
export function recordedActor(actor: string | Actor): { user: string; groups?: string[] } {
  if (typeof actor === "string") return { user: actor };
  if (actor.groups === undefined) return { user: actor.user };
  return {
    user: actor.user,
    groups: actor.groups
      .filter((group) => group.length > 0 && group.length <= maxActorGroupLength)
      .slice(0, maxActorGroups),
  };
}
