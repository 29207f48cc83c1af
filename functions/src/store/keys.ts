/**
 * Every partition key, sort key and GSI key format of the single table lives here.
 * No other module builds a key string.
 *
 * Design rule for the claim path: the four items a claim writes (marker, packet, slot, ledger
 * entry) sit under four different partition keys, each item < 1 KB, so one claim costs at most
 * one write unit on any one partition. Two partitions are per packet (`PKT#`, `SLOTS#`): each
 * takes exactly 1 WCU per claim, so a packet is bound by one partition's 1,000 WCU/s, not less.
 * The indexes are KEYS_ONLY and only written where a claim adds a new item (the ledger entry →
 * `RECV#<user>`), never keyed by packet; updates of the packet's counter touch no index.
 *
 * | item            | pk                     | sk              | gsi1 (due work)            | gsi2 (by user)            |
 * |-----------------|------------------------|-----------------|----------------------------|---------------------------|
 * | account profile | ACCT#<user>            | PROFILE         |                            |                           |
 * | ledger entry    | LEDGER#<user>          | <seq, 12 digits>|                            | RECV#<user> (claims only) |
 * | packet (hot)    | PKT#<packet>           | PACKET          | DUE#<shard> / <dueAt>#<id> | SENT#<user> / <createdAt> |
 * | share amounts   | PKT#<packet>           | SHARES          |                            |                           |
 * | claim marker    | CLAIM#<packet>#<user>  | MARKER          |                            |                           |
 * | slot (claim)    | SLOTS#<packet>         | <index, 6 dig.> |                            |                           |
 * | transfer        | XFER#<transfer>        | XFER            | DUE#<shard> / <dueAt>#<id> |                           |
 * | top-up          | TOPUP#<topup>          | TOPUP           | DUE#<shard> / <dueAt>#<id> |                           |
 * | idempotency     | IDEM#<principal>       | <scope>#<key>   |                            |                           |
 *
 * The SHARES item shares the packet's partition key but is written once at creation and only
 * read afterwards (and cached: it never changes), so it costs the claim path nothing.
 */
export const Keys = {
  profile: (userId: string) => ({ pk: `ACCT#${userId}`, sk: 'PROFILE' }),
  ledgerPk: (userId: string) => `LEDGER#${userId}`,
  ledgerEntry: (userId: string, seq: number) => ({ pk: `LEDGER#${userId}`, sk: seqKey(seq) }),
  packet: (packetId: string) => ({ pk: `PKT#${packetId}`, sk: 'PACKET' }),
  shares: (packetId: string) => ({ pk: `PKT#${packetId}`, sk: 'SHARES' }),
  claimMarker: (packetId: string, userId: string) => ({ pk: `CLAIM#${packetId}#${userId}`, sk: 'MARKER' }),
  slotsPk: (packetId: string) => `SLOTS#${packetId}`,
  slot: (packetId: string, index: number) => ({ pk: `SLOTS#${packetId}`, sk: indexKey(index) }),
  transfer: (transferId: string) => ({ pk: `XFER#${transferId}`, sk: 'XFER' }),
  topup: (topupId: string) => ({ pk: `TOPUP#${topupId}`, sk: 'TOPUP' }),
  idempotency: (principal: string, scope: string, key: string) => ({ pk: `IDEM#${principal}`, sk: `${scope}#${key}` }),

  /** gsi1: work that falls due at a time (refund of expired packets, stale funding, pending transfers). */
  due: (shard: number, dueAtIso: string, id: string) => ({ gsi1pk: dueShardPk(shard), gsi1sk: `${dueAtIso}#${id}` }),
  dueShardPk,
  /** Upper bound for a "due at or before" range query on gsi1sk. */
  dueUntil: (nowIso: string) => `${nowIso}#\uffff`,
  /** gsi2: the packets a user sent, newest first. */
  sent: (userId: string, createdAtIso: string) => ({ gsi2pk: `SENT#${userId}`, gsi2sk: createdAtIso }),
  sentPk: (userId: string) => `SENT#${userId}`,
  /** gsi2: the claims a user received (on claim_credit ledger entries), newest first. */
  received: (userId: string, atIso: string) => ({ gsi2pk: `RECV#${userId}`, gsi2sk: atIso }),
  receivedPk: (userId: string) => `RECV#${userId}`,
} as const;

function dueShardPk(shard: number): string {
  return `DUE#${shard}`;
}

/** Zero-padded so that lexical order is numeric order (Query pages the ledger by seq). */
export function seqKey(seq: number): string {
  return String(seq).padStart(12, '0');
}
export function parseSeqKey(sk: string): number {
  return Number.parseInt(sk, 10);
}
export function indexKey(index: number): string {
  return String(index).padStart(6, '0');
}

/** Table attribute names shared by every item. */
export const Attr = { pk: 'pk', sk: 'sk', gsi1pk: 'gsi1pk', gsi1sk: 'gsi1sk', gsi2pk: 'gsi2pk', gsi2sk: 'gsi2sk' } as const;
export const Indexes = { due: 'gsi1', byUser: 'gsi2' } as const;

/** What a due-index entry (or any item's pk) points at. */
export type ItemRef = { kind: 'packet' | 'transfer' | 'topup'; id: string };
export function refOfPk(pk: string): ItemRef | undefined {
  const [prefix, id] = pk.split('#', 2);
  if (!id) return undefined;
  if (prefix === 'PKT') return { kind: 'packet', id };
  if (prefix === 'XFER') return { kind: 'transfer', id };
  if (prefix === 'TOPUP') return { kind: 'topup', id };
  return undefined;
}
