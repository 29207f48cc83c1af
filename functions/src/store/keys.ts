import { counterOf } from '../domain/share-counters';

/**
 * Every partition key, sort key and GSI key format of the single table lives here
 * (docs/table-design.md describes each item: who writes it, its size, its indexes).
 * No other module builds a key string.
 *
 * Design rule for the claim path: the four items a claim writes (marker, packet, slot, ledger
 * entry) sit under four different partition keys, each item < 1 KB, so one claim costs at most
 * one write unit on any one partition. Two partitions are per packet (`PKT#`, `SLOTS#`): each
 * takes exactly 1 WCU per claim, so a packet of ≤ 100 shares is bound by one partition's
 * 1,000 WCU/s, not less. A bigger packet counts on n = ⌈count/100⌉ counter items (`CNTR#`) and
 * keeps each counter's slots under its own `SLOTS#<packet>#<k>`, so it is bound by n × 1,000.
 * The indexes are KEYS_ONLY and a claim writes none of them: no claim item carries an index key
 * (older claim credits carry `RECV#<user>`; the received list now reads the ledger itself), and
 * updates of the packet's counter touch no index.
 *
 * | item            | pk                     | sk              | gsi1 (due work)            | gsi2 (by user)            |
 * |-----------------|------------------------|-----------------|----------------------------|---------------------------|
 * | account profile | ACCT#<user>            | PROFILE         |                            |                           |
 * | default name    | NAME#<display name>    | NAME            |                            |                           |
 * | ledger entry    | LEDGER#<user>          | <seq, 12 digits>|                            | RECV#<user> (older claims)|
 * | packet (hot)    | PKT#<packet>           | PACKET          | DUE#<shard> / <dueAt>#<id> | SENT#<user> / <createdAt> |
 * | share amounts   | PKT#<packet>           | SHARES          |                            |                           |
 * | claim marker    | CLAIM#<packet>#<user>  | MARKER          |                            |                           |
 * | slot (claim)    | SLOTS#<packet>[#<k>]   | <index, 6 dig.> |                            |                           |
 * | share counter k | CNTR#<packet>#<k>      | COUNTER         |                            |                           |
 * | forward         | FWD#<packet>           | <forward id>    |                            |                           |
 * | forwards by one | FWDBY#<packet>#<user>  | QUOTA           |                            |                           |
 * | group binding   | PKTGRP#<packet>        | GROUP           |                            |                           |
 * | campaign        | CAMP#<campaign>        | CAMPAIGN        | DUE#<shard> (while funding)| CAMPS#<user> / <createdAt>|
 * | API key         | APIKEY#<key id>        | KEY             |                            |                           |
 * | owner's keys    | APIKEYS#<owner>        | <key id>        |                            |                           |
 * | transfer        | XFER#<transfer>        | XFER            | DUE#<shard> / <dueAt>#<id> |                           |
 * | top-up          | TOPUP#<topup>          | TOPUP           | DUE#<shard> / <dueAt>#<id> |                           |
 * | withdrawal      | WD#<withdrawal>        | WD              | DUE#<shard> (while open)   | WDS#<user> / <createdAt>#<id>|
 * | payment (pay in)| PAY#<payment>          | PAY             | DUE#<shard> (until settled)|                           |
 * | refund (WeChat) | RFD#<out_refund_no>    | RFD             | DUE#<shard> (until settled)|                           |
 * | notification    | NOTE#<notification>    | NOTE            | DUE#<shard> (while pending)|                           |
 * | idempotency     | IDEM#<principal>       | <scope>#<key>   |                            |                           |
 * | risk: account   | RISKACCT#<user>        | BLACKLIST       |                            | BLACKLIST / account#<user>|
 * |   blacklist + freezes                    | FREEZE#<reason> |                            |  (blacklist only, active) |
 * | risk: device    | RISKDEV#<device>       | BLACKLIST       |                            | BLACKLIST / device#<dev>  |
 * |   blacklist, binding, freezes            | BIND, FREEZE#<r>|                            |  (blacklist only, active) |
 * | risk: breaker   | RISKCODE#<payee>       | BREAKER         |                            |                           |
 * | risk: night cnt | RISKCNT#<user>         | NIGHT#<hour+8>  |                            |                           |
 * | risk event      | RISKEV#<day+8>#<shard> | <atIso>#<id>    |                            |                           |
 * | large report    | RISKRPT#<day+8>        | <atIso>#<opId>  |                            |                           |
 * | risk once-mark  | RISKONCE#<event/rpt id>| ONCE            |                            |                           |
 * | audit record    | AUDIT#<account>        | <seq, 12 digits>|                            |                           |
 * | recon report    | OPSRECON#<run>         | REPORT          |                            |                           |
 * | latest report   | OPS                    | RECON#LATEST    |                            |                           |
 * | ops event       | OPSEV#<day+8>          | <atIso>#<id>    |                            |                           |
 * | ops figures     | OPSMIN#<UTC hour>      | <minute>#<inst.>|                            |                           |
 *
 * Risk items: counters, bindings and freezes carry `expiresAt` (epoch seconds, the
 * table's TTL attribute on AWS) but every rule checks its own times, so TTL only reclaims space.
 * Blacklist entries never expire. `<day+8>` / `<hour+8>` are UTC+8 calendar days / clock hours.
 * Audit records expire 3 years after they were written.
 *
 * The SHARES item shares the packet's partition key but is written once at creation and only
 * read afterwards (and cached: it never changes), so it costs the claim path nothing.
 */
/**
 * Partition-key prefixes read on their own: by the reconciliation scan (which recognises a
 * ledger by its prefix) and by the deploy's IAM conditions (which limit a role's writes to
 * partitions starting with these).
 */
export const PkPrefix = {
  ledger: 'LEDGER#',
  riskCount: 'RISKCNT#',
  riskEvent: 'RISKEV#',
  riskOnce: 'RISKONCE#',
  audit: 'AUDIT#',
  opsMinute: 'OPSMIN#',
  groupBinding: 'PKTGRP#',
} as const;

/** Sort keys that name an item's kind, for the reconciliation scan that finds items by kind. */
export const ItemSk = {
  profile: 'PROFILE',
  packet: 'PACKET',
  marker: 'MARKER',
  topup: 'TOPUP',
  payment: 'PAY',
} as const;

export const Keys = {
  profile: (userId: string) => ({ pk: `ACCT#${userId}`, sk: ItemSk.profile }),
  /**
   * A default name (微信用户 + suffix) reserved by one account: created with a conditional put,
   * never deleted (the table allows no deletes), so no two accounts ever get the same default.
   */
  displayName: (name: string) => ({ pk: `NAME#${name}`, sk: 'NAME' }),
  ledgerPk: (userId: string) => `${PkPrefix.ledger}${userId}`,
  ledgerEntry: (userId: string, seq: number) => ({ pk: `${PkPrefix.ledger}${userId}`, sk: seqKey(seq) }),
  packet: (packetId: string) => ({ pk: `PKT#${packetId}`, sk: ItemSk.packet }),
  shares: (packetId: string) => ({ pk: `PKT#${packetId}`, sk: 'SHARES' }),
  claimMarker: (packetId: string, userId: string) => ({ pk: `CLAIM#${packetId}#${userId}`, sk: ItemSk.marker }),
  /**
   * The slots of one share counter (see domain/share-counters.ts): counter 0 — every slot of a
   * packet of ≤ 100 shares — under `SLOTS#<packet>`, counter k > 0 under `SLOTS#<packet>#<k>`.
   */
  slotsPk,
  /** A share's slot, under its counter's partition (derived from the index alone). */
  slot: (packetId: string, index: number) => ({ pk: slotsPk(packetId, counterOf(index)), sk: indexKey(index) }),
  /** Counter k of a packet of > 100 shares (a packet of ≤ 100 counts on its own item). */
  shareCounter: (packetId: string, counter: number) => ({ pk: `CNTR#${packetId}#${counter}`, sk: 'COUNTER' }),
  transfer: (transferId: string) => ({ pk: `XFER#${transferId}`, sk: 'XFER' }),
  topup: (topupId: string) => ({ pk: `TOPUP#${topupId}`, sk: ItemSk.topup }),
  /** A forward of a packet (one per forwarder and source code: its id is derived from both). */
  forward: (packetId: string, forwardId: string) => ({ pk: `FWD#${packetId}`, sk: forwardId }),
  forwardsPk: (packetId: string) => `FWD#${packetId}`,
  /** The forward ids one account made of one packet (a set: the per-account bound). */
  forwardQuota: (packetId: string, userId: string) => ({ pk: `FWDBY#${packetId}#${userId}`, sk: 'QUOTA' }),
  /**
   * 仅限本群: the group a group-only packet is bound to, on its own item rather than the packet
   * item, so the open view (whose role may write only a few partitions) can bind without the
   * right to write packets.
   */
  groupBinding: (packetId: string) => ({ pk: `${PkPrefix.groupBinding}${packetId}`, sk: 'GROUP' }),
  /** A campaign: its record; its packets are PKT#<campaignPacketId(id, i)>. */
  campaign: (campaignId: string) => ({ pk: `CAMP#${campaignId}`, sk: 'CAMPAIGN' }),
  /** gsi2: an owner's campaigns, newest first. */
  campaignsOf: (ownerId: string, createdAtIso: string, campaignId: string) => ({
    gsi2pk: `CAMPS#${ownerId}`,
    gsi2sk: `${createdAtIso}#${campaignId}`,
  }),
  campaignsPk: (ownerId: string) => `CAMPS#${ownerId}`,
  /** An API key, looked up by its id on every call it makes. */
  apiKey: (keyId: string) => ({ pk: `APIKEY#${keyId}`, sk: 'KEY' }),
  /** The owner's list of keys (ids and names), one Query. */
  ownerApiKey: (ownerId: string, keyId: string) => ({ pk: `APIKEYS#${ownerId}`, sk: keyId }),
  ownerApiKeysPk: (ownerId: string) => `APIKEYS#${ownerId}`,
  idempotency: (principal: string, scope: string, key: string) => ({ pk: `IDEM#${principal}`, sk: `${scope}#${key}` }),
  /** A withdrawal (提现); in the due index until it is final and its hold is settled. */
  withdrawal: (withdrawalId: string) => ({ pk: `WD#${withdrawalId}`, sk: 'WD' }),
  /** gsi2: a user's withdrawals, newest first. */
  withdrawalsOf: (userId: string, createdAtIso: string, withdrawalId: string) => ({
    gsi2pk: `WDS#${userId}`,
    gsi2sk: `${createdAtIso}#${withdrawalId}`,
  }),
  withdrawalsPk: (userId: string) => `WDS#${userId}`,
  /** A WeChat Pay payment in (its id is the order's out_trade_no); due until settled. */
  payment: (paymentId: string) => ({ pk: `PAY#${paymentId}`, sk: ItemSk.payment }),
  /** A packet's refund through WeChat Pay (its id is the out_refund_no); due until settled. */
  refund: (outRefundNo: string) => ({ pk: `RFD#${outRefundNo}`, sk: 'RFD' }),
  /**
   * A subscribe message to send (its id is derived from the event: one per event); due while
   * it waits for a delivery attempt. Holds no money.
   */
  notification: (notificationId: string) => ({ pk: `NOTE#${notificationId}`, sk: 'NOTE' }),

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

function slotsPk(packetId: string, counter = 0): string {
  return counter === 0 ? `SLOTS#${packetId}` : `SLOTS#${packetId}#${counter}`;
}

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

/**
 * Table attribute names shared by every item. `ttl` is the table's TimeToLiveSpecification
 * attribute (infra/table.json): epoch seconds on audit records, risk items and ops items only.
 * No money item (ledger, packet, share, slot, counter, marker, transfer, top-up, campaign,
 * idempotency) may carry it as a number — money must never vanish by TTL. (Packets and campaigns
 * hold an ISO-string `expiresAt`; TTL ignores any value that is not a Number.)
 */
export const Attr = {
  pk: 'pk',
  sk: 'sk',
  gsi1pk: 'gsi1pk',
  gsi1sk: 'gsi1sk',
  gsi2pk: 'gsi2pk',
  gsi2sk: 'gsi2sk',
  ttl: 'expiresAt',
} as const;
export const Indexes = { due: 'gsi1', byUser: 'gsi2' } as const;

/** What a due-index entry (or any item's pk) points at. */
export type ItemRef = {
  kind: 'packet' | 'transfer' | 'topup' | 'campaign' | 'withdrawal' | 'payment' | 'refund' | 'notification';
  id: string;
};
export function refOfPk(pk: string): ItemRef | undefined {
  const [prefix, id] = pk.split('#', 2);
  if (!id) return undefined;
  if (prefix === 'PKT') return { kind: 'packet', id };
  if (prefix === 'XFER') return { kind: 'transfer', id };
  if (prefix === 'TOPUP') return { kind: 'topup', id };
  if (prefix === 'CAMP') return { kind: 'campaign', id };
  if (prefix === 'WD') return { kind: 'withdrawal', id };
  if (prefix === 'PAY') return { kind: 'payment', id };
  if (prefix === 'RFD') return { kind: 'refund', id };
  if (prefix === 'NOTE') return { kind: 'notification', id };
  return undefined;
}

/**
 * A time-ordered sort key `<atIso>#<id>` (due index, risk and ops events, figures minutes): its
 * time and the rest. Ids never hold '#' before the time's end, so the first '#' splits them.
 */
export function parseTimeKey(sk: string): { at: string; id: string } {
  const cut = sk.indexOf('#');
  return cut < 0 ? { at: sk, id: '' } : { at: sk.slice(0, cut), id: sk.slice(cut + 1) };
}

/** The account of a ledger partition (`LEDGER#<user>`) or a profile (`ACCT#<user>`). */
export function accountOfPk(pk: string): string | undefined {
  for (const prefix of [PkPrefix.ledger, 'ACCT#'])
    if (pk.startsWith(prefix)) return pk.slice(prefix.length) || undefined;
  return undefined;
}

/** The packet and the account of a claim marker's pk (`CLAIM#<packet>#<user>`; ids are base64url, never '#'). */
export function claimMarkerOf(pk: string): { packetId: string; userId: string } | undefined {
  if (!pk.startsWith('CLAIM#')) return undefined;
  const rest = pk.slice('CLAIM#'.length);
  const cut = rest.indexOf('#');
  return cut < 0 ? undefined : { packetId: rest.slice(0, cut), userId: rest.slice(cut + 1) };
}

/** The reason of a freeze's sort key (`FREEZE#<reason>`), or undefined for another sort key. */
export function freezeReasonOf(sk: string): string | undefined {
  return sk.startsWith('FREEZE#') ? sk.slice('FREEZE#'.length) : undefined;
}

/** The kind and id of an active blacklist entry's gsi2 sort key (`<kind>#<id>`). */
export function blacklistedOf(gsi2sk: string): { kind: 'account' | 'device'; id: string } {
  const cut = gsi2sk.indexOf('#');
  return { kind: gsi2sk.slice(0, cut) as 'account' | 'device', id: gsi2sk.slice(cut + 1) };
}

/** Risk engine items (store/risk.ts). The device id comes from `x-device-id`; see isDeviceId. */
export const RiskKeys = {
  accountPk: (userId: string) => `RISKACCT#${userId}`,
  devicePk: (deviceId: string) => `RISKDEV#${deviceId}`,
  /** sk of a blacklist entry, under an account or device pk. */
  blacklistSk: 'BLACKLIST',
  /** sk of a device's account binding (the accounts seen on it in the rolling window). */
  bindSk: 'BIND',
  /** sk of a freeze (outgoing money of an account, or payments from a device) for one reason. */
  freezeSk: (reason: string) => `FREEZE#${reason}`,
  freezePrefix: 'FREEZE#',
  /** gsi2 of an active blacklist entry: lists the blacklist without a scan. */
  blacklisted: (kind: 'account' | 'device', id: string) => ({ gsi2pk: 'BLACKLIST', gsi2sk: `${kind}#${id}` }),
  blacklistPk: 'BLACKLIST',
  /** The breaker of a receive code; a receive code is identified by its payee's account id. */
  breaker: (codeId: string) => ({ pk: `RISKCODE#${codeId}`, sk: 'BREAKER' }),
  /** Night-velocity counter of an account for one UTC+8 clock hour ('YYYY-MM-DDTHH'). */
  night: (userId: string, hourUtc8: string) => ({ pk: `${PkPrefix.riskCount}${userId}`, sk: `NIGHT#${hourUtc8}` }),
  /** Rate-limit counter of an account for one action and clock minute (its start, epoch ms). */
  rate: (userId: string, action: string, windowStartMs: number) => ({
    pk: `${PkPrefix.riskCount}${userId}`,
    sk: `RATE#${action}#${windowStartMs}`,
  }),
  /** Risk events: one partition per UTC+8 day and shard; sk sorts by time. */
  eventPk: (dayUtc8: string, shard: number) => `${PkPrefix.riskEvent}${dayUtc8}#${shard}`,
  eventSk: (atIso: string, id: string) => `${atIso}#${id}`,
  /** Large-transaction reports: one partition per UTC+8 day. */
  reportPk: (dayUtc8: string) => `RISKRPT#${dayUtc8}`,
  reportSk: (atIso: string, opId: string) => `${atIso}#${opId}`,
  /** Fixes the time of an event or report the first time its id is written (exactly-once). */
  onceMarker: (id: string) => ({ pk: `${PkPrefix.riskOnce}${id}`, sk: 'ONCE' }),
} as const;

/** Operations: reconciliation reports and ops events (store/reconcile.ts). */
export const OpsKeys = {
  /** One report per reconciliation run. */
  reconReport: (runId: string) => ({ pk: `OPSRECON#${runId}`, sk: 'REPORT' }),
  /** A copy of the newest report: the operator view reads it with one GetItem. */
  reconLatest: { pk: 'OPS', sk: 'RECON#LATEST' },
  /** Ops events (reconciliation mismatches…): one partition per UTC+8 day, sorted by time. */
  eventPk: (dayUtc8: string) => `OPSEV#${dayUtc8}`,
  eventSk: (atIso: string, id: string) => `${atIso}#${id}`,
  /** Live operator figures: one partition per UTC hour, one item per minute and Lambda instance. */
  minutePk: (hourIso: string) => `${PkPrefix.opsMinute}${hourIso}`,
  minuteSk: (minuteIso: string, instance: string) => `${minuteIso}#${instance}`,
} as const;

/**
 * The platform fee account's ledgers (account ids, each under its own `LEDGER#<id>`). Fees are
 * spread over shard accounts `platform-fees#<k>` so fee-bearing sends do not all append to one
 * ledger item; `platform-fees` is the single account of before the shards (still read, never
 * written for new packets).
 */
export const FeeAccounts = {
  legacy: 'platform-fees',
  shard: (k: number) => `platform-fees#${k}`,
} as const;

/** The hash-chained audit log (store/audit.ts): one partition per account, dense seq. */
export const AuditKeys = {
  pk: (accountId: string) => `${PkPrefix.audit}${accountId}`,
  record: (accountId: string, seq: number) => ({ pk: `${PkPrefix.audit}${accountId}`, sk: seqKey(seq) }),
} as const;
