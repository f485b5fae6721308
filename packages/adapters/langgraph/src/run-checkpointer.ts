/**
 * LangGraph's checkpointer on Freehold's run store (native mode): a `BaseCheckpointSaver` whose
 * thread is one run (`thread_id` = the run's id) and whose checkpoints and pending writes live in one
 * Redis hash beside the run's own keys, `<run key>:langgraph`. The run key's hash tag puts it in the
 * run's Redis Cluster slot, so every write touches one slot; when the run ends the hash gets the
 * run's own retention (its remaining TTL).
 *
 * Fields of the hash: `l|<ns>` the latest checkpoint id of checkpoint namespace `<ns>` (`""` for
 * the graph, a subgraph's namespace otherwise); `c|<id>|<ns>` a checkpoint, its metadata, its
 * parent and the run's model answers (`steps`) when it was written; `w|<id>|<ns>|<task>|<index>` a
 * pending write of a task of checkpoint `<id>`. Values are LangGraph's own serializer's output.
 *
 * @module
 */
import { FreeholdError } from "@freehold/api";
import { runKey, type RedisClient } from "@freehold/handoff";
import type { RunnableConfig } from "@langchain/core/runnables";
import {
  BaseCheckpointSaver,
  WRITES_IDX_MAP,
  compareWritesSortKeys,
  writesSortKey,
  type ChannelVersions,
  type Checkpoint,
  type CheckpointListOptions,
  type CheckpointMetadata,
  type CheckpointPendingWrite,
  type CheckpointTuple,
  type PendingWrite,
} from "@langchain/langgraph-checkpoint";

/** A value as LangGraph's serializer wrote it: its type and its bytes (base64). */
type Serialized = readonly [type: string, data: string];

interface StoredCheckpoint {
  readonly checkpoint: Serialized;
  readonly metadata: Serialized;
  readonly parent?: string;
  /** The run's model answers (`RunState.steps`) when the checkpoint was written. */
  readonly steps: number;
}

interface StoredWrite {
  readonly task: string;
  readonly channel: string;
  readonly value: Serialized;
  readonly path: string;
}

/** Options of {@link createRunCheckpointer}. */
export interface RunCheckpointerOptions {
  readonly redis: RedisClient;
  readonly namespace: string;
  readonly runId: string;
  /** The run's model answers so far, recorded with each checkpoint (see {@link RunCheckpointer.stepsAtLatest}). */
  readonly steps: () => number;
}

/** Copies the run's remaining TTL (its retention, set when it ended) to its LangGraph hash. */
const expireLikeRunLua = `
local ttl = redis.call('TTL', KEYS[1])
if ttl > 0 then redis.call('EXPIRE', KEYS[2], ttl) end
return ttl
`;

/** The LangGraph checkpointer of one run. */
export class RunCheckpointer extends BaseCheckpointSaver {
  readonly #redis: RedisClient;
  readonly #runId: string;
  readonly #runKey: string;
  readonly #key: string;
  readonly #steps: () => number;

  constructor(options: RunCheckpointerOptions) {
    super();
    this.#redis = options.redis;
    this.#runId = options.runId;
    this.#runKey = runKey(options.namespace, options.runId);
    this.#key = `${this.#runKey}:langgraph`;
    this.#steps = options.steps;
  }

  /** The hash that holds the run's checkpoints. */
  get key(): string {
    return this.#key;
  }

  #thread(config: RunnableConfig): string {
    const thread: unknown = config.configurable?.thread_id;
    if (thread !== this.#runId) {
      throw new FreeholdError(
        "adapter.langgraph.thread-invalid",
        `the checkpointer of run ${this.#runId} was asked for thread ${String(thread)}; a native graph's thread is its run (thread_id = the run's id)`,
      );
    }
    return thread;
  }

  async #dump(value: unknown): Promise<Serialized> {
    const [type, bytes] = await this.serde.dumpsTyped(value);
    return [type, Buffer.from(bytes).toString("base64")];
  }

  #load(value: Serialized): Promise<unknown> {
    return this.serde.loadsTyped(value[0], new Uint8Array(Buffer.from(value[1], "base64")));
  }

  async #scan(pattern: string): Promise<[string, string][]> {
    const found: [string, string][] = [];
    let cursor = "0";
    do {
      const [next, flat] = await this.#redis.hscan(this.#key, cursor, "MATCH", pattern, "COUNT", 500);
      for (let index = 0; index + 1 < flat.length; index += 2) {
        found.push([flat[index] as string, flat[index + 1] as string]);
      }
      cursor = next;
    } while (cursor !== "0");
    return found;
  }

  async #writes(checkpointNs: string, checkpointId: string): Promise<CheckpointPendingWrite[]> {
    const rows = (await this.#scan(`w|${checkpointId}|*`))
      .map(([field, raw]) => ({ field, write: JSON.parse(raw) as StoredWrite }))
      .filter(({ field }) => field.startsWith(`w|${checkpointId}|${checkpointNs}|`))
      .map(({ field, write }) => ({
        write,
        sortKey: writesSortKey(write.path, write.task, Number(field.slice(field.lastIndexOf("|") + 1))),
      }));
    rows.sort((left, right) => compareWritesSortKeys(left.sortKey, right.sortKey));
    return Promise.all(
      rows.map(async ({ write }): Promise<CheckpointPendingWrite> => [
        write.task,
        write.channel,
        await this.#load(write.value),
      ]),
    );
  }

  async #tuple(
    thread: string,
    checkpointNs: string,
    checkpointId: string,
    stored: StoredCheckpoint,
  ): Promise<CheckpointTuple> {
    const tuple: CheckpointTuple = {
      config: {
        configurable: { thread_id: thread, checkpoint_ns: checkpointNs, checkpoint_id: checkpointId },
      },
      checkpoint: (await this.#load(stored.checkpoint)) as Checkpoint,
      metadata: (await this.#load(stored.metadata)) as CheckpointMetadata,
      pendingWrites: await this.#writes(checkpointNs, checkpointId),
    };
    if (stored.parent !== undefined) {
      tuple.parentConfig = {
        configurable: { thread_id: thread, checkpoint_ns: checkpointNs, checkpoint_id: stored.parent },
      };
    }
    return tuple;
  }

  async #stored(checkpointNs: string, checkpointId: string | undefined) {
    const id = checkpointId ?? (await this.#redis.hget(this.#key, `l|${checkpointNs}`));
    if (id === null) return undefined;
    const raw = await this.#redis.hget(this.#key, `c|${id}|${checkpointNs}`);
    return raw === null ? undefined : { id, stored: JSON.parse(raw) as StoredCheckpoint };
  }

  override async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    const thread = this.#thread(config);
    const checkpointNs = (config.configurable?.checkpoint_ns as string | undefined) ?? "";
    const found = await this.#stored(checkpointNs, config.configurable?.checkpoint_id as string | undefined);
    return found === undefined ? undefined : this.#tuple(thread, checkpointNs, found.id, found.stored);
  }

  override async *list(
    config: RunnableConfig,
    options: CheckpointListOptions = {},
  ): AsyncGenerator<CheckpointTuple> {
    const thread = this.#thread(config);
    const wantedNs = config.configurable?.checkpoint_ns as string | undefined;
    const wantedId = config.configurable?.checkpoint_id as string | undefined;
    const before = options.before?.configurable?.checkpoint_id as string | undefined;
    const rows = (await this.#scan("c|*"))
      .map(([field, raw]) => {
        const separator = field.indexOf("|", 2);
        return {
          id: field.slice(2, separator),
          checkpointNs: field.slice(separator + 1),
          stored: JSON.parse(raw) as StoredCheckpoint,
        };
      })
      .filter(
        (row) =>
          (wantedNs === undefined || row.checkpointNs === wantedNs) &&
          (wantedId === undefined || row.id === wantedId) &&
          (before === undefined || row.id < before),
      )
      .sort((left, right) => (left.id < right.id ? 1 : left.id > right.id ? -1 : 0));
    let remaining = options.limit ?? Infinity;
    for (const row of rows) {
      if (remaining <= 0) return;
      const tuple = await this.#tuple(thread, row.checkpointNs, row.id, row.stored);
      const metadata = (tuple.metadata ?? {}) as Record<string, unknown>;
      if (
        options.filter !== undefined &&
        !Object.entries(options.filter).every(([key, value]) => metadata[key] === value)
      ) {
        continue;
      }
      remaining -= 1;
      yield tuple;
    }
  }

  override async put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    _newVersions: ChannelVersions,
  ): Promise<RunnableConfig> {
    const thread = this.#thread(config);
    const checkpointNs = (config.configurable?.checkpoint_ns as string | undefined) ?? "";
    const parent = config.configurable?.checkpoint_id as string | undefined;
    const stored: StoredCheckpoint = {
      checkpoint: await this.#dump(checkpoint),
      metadata: await this.#dump(metadata),
      ...(parent === undefined ? {} : { parent }),
      steps: this.#steps(),
    };
    // One HSET: the checkpoint and the latest pointer change together.
    await this.#redis.hset(this.#key, {
      [`c|${checkpoint.id}|${checkpointNs}`]: JSON.stringify(stored),
      [`l|${checkpointNs}`]: checkpoint.id,
    });
    return { configurable: { thread_id: thread, checkpoint_ns: checkpointNs, checkpoint_id: checkpoint.id } };
  }

  override async putWrites(
    config: RunnableConfig,
    writes: PendingWrite[],
    taskId: string,
    taskPath = "",
  ): Promise<void> {
    this.#thread(config);
    const checkpointNs = (config.configurable?.checkpoint_ns as string | undefined) ?? "";
    const checkpointId = config.configurable?.checkpoint_id as string | undefined;
    if (checkpointId === undefined || writes.length === 0) return;
    const fields: Record<string, string> = {};
    for (const [index, [channel, value]] of writes.entries()) {
      const position = WRITES_IDX_MAP[channel] ?? index;
      const stored: StoredWrite = { task: taskId, channel, value: await this.#dump(value), path: taskPath };
      fields[`w|${checkpointId}|${checkpointNs}|${taskId}|${position}`] = JSON.stringify(stored);
    }
    await this.#redis.hset(this.#key, fields);
  }

  override async deleteThread(threadId: string): Promise<void> {
    this.#thread({ configurable: { thread_id: threadId } });
    await this.#redis.del(this.#key);
  }

  /**
   * The run's model answers when the latest checkpoint of the graph was written: answers after it
   * were recorded by the run but not yet seen by the graph (a worker stopped inside the node), and
   * are given to the graph again instead of calling the model (see native-model.ts). Undefined
   * before the graph's first checkpoint.
   */
  async stepsAtLatest(): Promise<number | undefined> {
    return (await this.#stored("", undefined))?.stored.steps;
  }

  /** Gives the hash the run's retention: called once the run ended (the run's keys expire then). */
  async expireWithRun(): Promise<void> {
    await this.#redis.eval(expireLikeRunLua, 2, this.#runKey, this.#key);
  }
}

/**
 * The checkpointer of run `runId` of `namespace`, on the run store's Redis.
 *
 * @example
 * ```ts
 * const checkpointer = createRunCheckpointer({ redis, namespace: "acme", runId, steps: () => state.steps });
 * const graph = builder.compile({ checkpointer });
 * await graph.invoke(input, { configurable: { thread_id: runId } });
 * ```
 */
export function createRunCheckpointer(options: RunCheckpointerOptions): RunCheckpointer {
  return new RunCheckpointer(options);
}
