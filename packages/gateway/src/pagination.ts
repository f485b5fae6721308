/**
 * Cursor pagination of the gateway's lists (inbox items, approvals, runs): `limit` (default 100, at
 * most 500; more is a 400 that names it) and an opaque `cursor` from the previous page's
 * `nextCursor`. The cursor names the last item served, so a walk over a list that does not change
 * meanwhile gives every item exactly once; an item that left the list in the meantime does not
 * make the walk repeat items (the position is the fallback). Runs are read from their index a page
 * at a time ({@link indexCursor}): their cursor names the last index entry the page examined.
 *
 * @module
 */
import { FreeholdError } from "@freehold/api";
import { z } from "zod";

/** The largest page. */
export const maxPageSize = 500;
/** The page size without `limit`. */
export const defaultPageSize = 100;

/** The query parameters of a paginated list. */
export const pageQuery = {
  limit: z
    .string()
    .regex(/^\d{1,6}$/, "must be a whole number")
    .transform(Number)
    .pipe(z.int().min(1, "must be at least 1").max(maxPageSize, `must be at most ${maxPageSize}`))
    .optional()
    // What the document says: a query value is text on the wire, an integer 1 to 500 in meaning.
    .meta({ type: "integer", minimum: 1, maximum: maxPageSize })
    .describe(`Items per page: 1 to ${maxPageSize}, default ${defaultPageSize}.`),
  cursor: z
    .string()
    .max(1024)
    .optional()
    .describe("Where to go on: the nextCursor of the previous page, as it was given."),
};

/** What a page adds to a list's body. */
export { pageFields } from "@freehold/api";

const Cursor = z.strictObject({ v: z.literal(1), after: z.string(), position: z.int().min(0) });

/** The cursor of a human queue's items: the state, score and id of the last item of the page. */
const InboxCursor = z.strictObject({
  v: z.literal(2),
  state: z.enum(["waiting", "claimed"]),
  score: z.number(),
  after: z.string().min(1),
});

/** The `nextCursor` of a page of a queue's items (see `inboxPage` of @freehold/handoff). */
export function inboxCursor(position: {
  readonly state: "waiting" | "claimed";
  readonly score: number;
  readonly id: string;
}): string {
  return encode({ v: 2, state: position.state, score: position.score, after: position.id });
}

/** The position a cursor of {@link inboxCursor} names; a cursor this gateway did not give is a 400. */
export function inboxPosition(cursor: string): { state: "waiting" | "claimed"; score: number; id: string } {
  const { state, score, after } = decode(cursor, InboxCursor);
  return { state, score, id: after };
}

/** The cursor of a list read page by page from an index (runs): the last entry the page examined. */
const IndexCursor = z.strictObject({ v: z.literal(1), after: z.string().min(1), createdAt: z.int() });

function encode(cursor: object): string {
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

function decode<Schema extends z.ZodType>(text: string, schema: Schema): z.output<Schema> {
  try {
    return schema.parse(JSON.parse(Buffer.from(text, "base64url").toString("utf8")));
  } catch {
    throw new FreeholdError(
      "request.invalid",
      "invalid query parameter: cursor: not a cursor this gateway gave; pass nextCursor as it was, or leave cursor out to start over",
      { details: { in: "query", issues: [{ field: "cursor", problem: "not a cursor this gateway gave" }] } },
    );
  }
}

/**
 * One page of `items` (in their list order) after `query.cursor`.
 *
 * @example
 * ```ts
 * const { items, nextCursor } = page(await inbox.list(ns, queue), (item) => item.id, { limit: 2 });
 * // next: page(..., { limit: 2, cursor: nextCursor })
 * ```
 */
export function page<Item>(
  items: readonly Item[],
  idOf: (item: Item) => string,
  query: { readonly limit?: number | undefined; readonly cursor?: string | undefined },
): { items: Item[]; nextCursor?: string } {
  const limit = query.limit ?? defaultPageSize;
  let start = 0;
  if (query.cursor !== undefined) {
    const cursor = decode(query.cursor, Cursor);
    const index = items.findIndex((item) => idOf(item) === cursor.after);
    start = index === -1 ? Math.min(cursor.position, items.length) : index + 1;
  }
  const slice = items.slice(start, start + limit);
  const last = slice.at(-1);
  return start + limit < items.length && last !== undefined
    ? { items: slice, nextCursor: encode({ v: 1, after: idOf(last), position: start + limit }) }
    : { items: slice };
}

/** Where a list read from an index stands: the entry's score (creation time, ms) and id. */
export interface IndexPosition {
  readonly createdAt: number;
  readonly id: string;
}

/**
 * The `nextCursor` of a page read from an index: the position to go on after, opaque to callers.
 *
 * @example
 * ```ts
 * const page = await parts.store.list(namespace, { limit, ...(cursor === undefined ? {} : { after: indexPosition(cursor) }) });
 * const nextCursor = page.next === undefined ? undefined : indexCursor(page.next);
 * ```
 */
export function indexCursor(position: IndexPosition): string {
  return encode({ v: 1, after: position.id, createdAt: position.createdAt });
}

/** The position a cursor of {@link indexCursor} names; a cursor this gateway did not give is a 400. */
export function indexPosition(cursor: string): IndexPosition {
  const { after, createdAt } = decode(cursor, IndexCursor);
  return { id: after, createdAt };
}
