import { createHash } from 'node:crypto';

/** A stable shard in [0, shards) for an id: spreads due-index entries over partitions. */
export function shardOf(id: string, shards: number): number {
  return createHash('sha256').update(id).digest().readUInt32BE(0) % shards;
}
