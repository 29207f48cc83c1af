/**
 * Operations use cases (docs/rules.md, Risk rules and Audit): the audit log as users and support
 * see it, risk events and large-transaction reports for the risk officer, and the admin's tier
 * and blacklist changes. Every change made here is itself audited.
 */
import { fail } from '../domain/errors';
import { AUDIT_OWN_WINDOW_MS, mask, maskStaffRefs, type AuditRecord } from '../domain/audit';
import { policyFor, settingsProblem, type AccountSettings, type Tier } from '../domain/money';
import { DAY_MS } from '../domain/risk';
import type { BlacklistKind, StoredRiskEvent } from '../store/risk';
import type { LedgerEntry } from '../store/ledger';
import type {
  AdminAccountResponse,
  AuditLine,
  AuditResponse,
  BlacklistChangeResponse,
  BlacklistResponse,
  RiskEventsResponse,
  RiskEventView,
  RiskReportsResponse,
} from '../http/contract';
import { iso, type Outcome, type Principal } from './context';
import type { Deps } from './deps';

/** Roles that see other accounts' audit logs, masked (ids as first 3 + last 2 characters). */
export const SUPPORT_ROLE = 'support';

/**
 * Where a read of the audit trail stopped, per stream: the sequence number of the last record
 * consumed (resume after it), `null` once the stream is exhausted, absent to start at the newest.
 */
export interface AuditCursor {
  audit?: number | null;
  ledger?: number | null;
}

export interface AuditQueryInput {
  userId?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  limit: number;
  cursor?: AuditCursor | undefined;
}

function auditLine(r: AuditRecord): AuditLine {
  return {
    source: 'audit',
    accountId: r.accountId,
    seq: r.seq,
    at: r.at,
    type: r.type,
    details: r.details,
    prevHash: r.prevHash,
    hash: r.hash,
  };
}

function ledgerLine(e: LedgerEntry): AuditLine {
  const details: AuditLine['details'] = { opId: e.opId, amount: e.amount, balance: e.balance, ref: e.ref };
  if (e.fee !== undefined) details.fee = e.fee;
  return {
    source: 'ledger',
    accountId: e.userId,
    seq: e.seq,
    at: e.at,
    type: e.type,
    details,
    prevHash: e.prevHash,
    hash: e.hash,
  };
}

/** Whose audit log a caller may read: their own, or (support) anyone's. FORBIDDEN otherwise. */
export function auditSubject(who: Principal, userId: string | undefined): { accountId: string; support: boolean } {
  const own = userId === undefined || userId === who.userId;
  if (own) return { accountId: who.userId, support: false };
  if (!who.roles.includes(SUPPORT_ROLE)) fail('FORBIDDEN', '只能查看自己的记录');
  return { accountId: userId!, support: true };
}

/** Newest-first lines of one stream within [from, to], and where the stream goes on (null: done). */
interface StreamPage {
  lines: AuditLine[];
  /** seq of the last item read (in range or newer than `to`), when the stream has more. */
  next: number | null;
}

async function ledgerBetween(
  d: Deps,
  accountId: string,
  fromIso: string,
  toIso: string,
  limit: number,
  after?: number,
): Promise<StreamPage> {
  const page = await d.wallets.page(accountId, limit, after !== undefined ? { afterSeq: after } : {});
  const lines: AuditLine[] = [];
  for (const e of page.entries) {
    if (e.at < fromIso) return { lines, next: null };
    if (e.at <= toIso) lines.push(ledgerLine(e));
  }
  return { lines, next: page.next ? page.entries.at(-1)!.seq : null };
}

async function auditBetween(
  d: Deps,
  accountId: string,
  fromMs: number,
  toMs: number,
  limit: number,
  after?: number,
): Promise<StreamPage> {
  const page = await d.audit.between(accountId, {
    fromMs,
    toMs,
    limit,
    ...(after !== undefined ? { afterSeq: after } : {}),
  });
  return { lines: page.records.map(auditLine), next: page.lastSeq ?? null };
}

/** A page of the audit trail with its cursor still per stream (the route encodes it). */
export type AuditPage = Omit<AuditResponse, 'cursor'> & { cursor: AuditCursor | null };

/**
 * GET /v1/audit — the account's audit trail: its security records (audit chain) and its money
 * movements (ledger chain: every money movement is audited), merged newest first. A user reads
 * their own last 30 days (an earlier `from` is clamped to 30 days ago); support reads any
 * account's whole retained trail with account ids masked, and that read is appended to the
 * support agent's own chain (who looked at whom, when).
 *
 * Paging: each stream is read from its own cursor position, `limit` items each; the newest
 * `limit` lines of both are returned and each stream's cursor moves past exactly the lines it
 * contributed, so every line is returned once across pages.
 */
export async function auditLog(d: Deps, who: Principal, q: AuditQueryInput): Promise<Outcome<AuditPage>> {
  const nowMs = d.now();
  const subject = auditSubject(who, q.userId);
  const toMs = q.to ? Math.min(Date.parse(q.to), nowMs) : nowMs;
  let fromMs = q.from ? Date.parse(q.from) : nowMs - AUDIT_OWN_WINDOW_MS;
  if (!subject.support) fromMs = Math.max(fromMs, nowMs - AUDIT_OWN_WINDOW_MS);
  if (fromMs > toMs) fail('VALIDATION_FAILED', 'from must not be after to');
  const c = q.cursor ?? {};
  const empty: StreamPage = { lines: [], next: null };
  const [a, l] = await Promise.all([
    c.audit === null ? empty : auditBetween(d, subject.accountId, fromMs, toMs, q.limit, c.audit),
    c.ledger === null ? empty : ledgerBetween(d, subject.accountId, iso(fromMs), iso(toMs), q.limit, c.ledger),
  ]);
  const merged = [...a.lines, ...l.lines]
    .sort((x, y) => (x.at === y.at ? y.seq - x.seq : x.at < y.at ? 1 : -1))
    .slice(0, q.limit);
  const resume = (
    stream: StreamPage,
    source: AuditLine['source'],
    before: number | null | undefined,
  ): number | null | undefined => {
    const taken = merged.filter((x) => x.source === source);
    if (taken.length === stream.lines.length) return stream.next; // all it read went out: go on after the page
    return taken.length > 0 ? taken.at(-1)!.seq : before; // resume after the last line sent
  };
  const next: AuditCursor = {
    audit: c.audit === null ? null : resume(a, 'audit', c.audit),
    ledger: c.ledger === null ? null : resume(l, 'ledger', c.ledger),
  };
  if (subject.support && !q.cursor) {
    // The subject id is kept whole here: the point of this record is to say whose log was read.
    await d.audit.append(who.userId, {
      type: 'support_view',
      atMs: nowMs,
      details: { subject: subject.accountId, from: iso(fromMs), to: iso(toMs) },
    });
  }
  // Support staff see masked ids everywhere, their own trail included (docs/rules.md, Audit).
  const staff = who.roles.includes(SUPPORT_ROLE);
  const items = merged.map((x) => ({
    ...x,
    accountId: subject.support ? mask(x.accountId) : x.accountId,
    details: staff ? maskStaffRefs(x.details) : x.details,
  }));
  return {
    status: 200,
    body: {
      accountId: subject.support ? mask(subject.accountId) : subject.accountId,
      masked: subject.support,
      from: iso(fromMs),
      to: iso(toMs),
      items: items.map(({ source, ...rest }) => ({ source, ...rest })),
      cursor: next.audit === null && next.ledger === null ? null : next,
    },
  };
}

/** Longest range of one risk query (the store's per-query bound). */
export const RISK_RANGE_DAYS = 31;

function riskRange(d: Deps, from: string | undefined, to: string | undefined): { fromMs: number; toMs: number } {
  const nowMs = d.now();
  const toMs = to ? Date.parse(to) : nowMs;
  const fromMs = from ? Date.parse(from) : toMs - DAY_MS;
  if (fromMs > toMs) fail('VALIDATION_FAILED', 'from must not be after to');
  if (toMs - fromMs > RISK_RANGE_DAYS * DAY_MS) fail('VALIDATION_FAILED', `at most ${RISK_RANGE_DAYS} days per query`);
  return { fromMs, toMs };
}

function eventView(e: StoredRiskEvent): RiskEventView {
  const { cursor: _cursor, atMs, ...rest } = e;
  return { ...rest, at: iso(atMs) };
}

/** GET /v1/risk/events — every firing of a risk rule in [from, to] (default: the last 24 h), oldest first. */
export async function riskEvents(
  d: Deps,
  q: { from?: string | undefined; to?: string | undefined; limit: number; after?: string | undefined },
): Promise<Outcome<Omit<RiskEventsResponse, 'cursor'> & { next: string | undefined }>> {
  const { fromMs, toMs } = riskRange(d, q.from, q.to);
  const page = await d.risk.events({ fromMs, toMs, limit: q.limit, ...(q.after ? { after: q.after } : {}) });
  return {
    status: 200,
    body: { from: iso(fromMs), to: iso(toMs), items: page.events.map(eventView), next: page.next },
  };
}

/** GET /v1/risk/reports — large-transaction reports in [from, to] (default: the last 24 h). */
export async function riskReports(
  d: Deps,
  q: { from?: string | undefined; to?: string | undefined },
): Promise<Outcome<RiskReportsResponse>> {
  const { fromMs, toMs } = riskRange(d, q.from, q.to);
  const reports = await d.risk.reports(fromMs, toMs);
  return {
    status: 200,
    body: { from: iso(fromMs), to: iso(toMs), items: reports.map(({ atMs, ...r }) => ({ ...r, at: iso(atMs) })) },
  };
}

function accountView(p: {
  userId: string;
  name: string;
  tier: Tier;
  roles: string[];
  settings: AccountSettings;
  createdAt: string;
}): AdminAccountResponse {
  const policy = policyFor(p.tier, p.settings);
  return {
    userId: p.userId,
    name: p.name,
    tier: p.tier,
    roles: p.roles,
    settings: p.settings,
    policy,
    createdAt: p.createdAt,
  };
}

/** GET /v1/admin/accounts/{userId} — the profile and its effective policy. */
export async function getAccount(d: Deps, userId: string): Promise<Outcome<AdminAccountResponse>> {
  const p = await d.accounts.get(userId);
  if (!p) fail('NOT_FOUND', '账户不存在');
  return { status: 200, body: accountView(p) };
}

/**
 * POST /v1/admin/accounts/{userId}/tier — sets the tier and the per-account settings (fee rate;
 * provider limits and code validity), replacing earlier settings. A setting the tier does not
 * allow is refused (400), not clamped. Money paths read the profile on every movement, so the
 * change applies to the next one; the account's session keeps its old tier for role checks
 * until it is renewed (at most the session TTL).
 */
export async function setTier(
  d: Deps,
  who: Principal,
  userId: string,
  tier: Tier,
  settings: AccountSettings = {},
): Promise<Outcome<AdminAccountResponse>> {
  const problem = settingsProblem(tier, settings);
  if (problem) fail('VALIDATION_FAILED', problem);
  const before = await d.accounts.get(userId);
  if (!before) fail('NOT_FOUND', '账户不存在');
  const after = await d.accounts.setTier(userId, tier, settings);
  if (!after) fail('NOT_FOUND', '账户不存在');
  const nowMs = d.now();
  const details = { from: before.tier, to: tier, feeBps: policyFor(tier, settings).feeBps };
  await Promise.all([
    d.audit.append(userId, { type: 'tier_change', atMs: nowMs, details: { ...details, by: who.userId } }),
    d.audit.append(who.userId, { type: 'tier_change', atMs: nowMs, details: { ...details, subject: userId } }),
  ]);
  return { status: 200, body: accountView(after) };
}

/** GET /v1/admin/blacklist */
export async function blacklist(d: Deps): Promise<Outcome<BlacklistResponse>> {
  return { status: 200, body: { items: await d.risk.blacklist() } };
}

/** POST /v1/admin/blacklist — adds (or re-adds) an account or device; audited on both sides. */
export async function blacklistAdd(
  d: Deps,
  who: Principal,
  kind: BlacklistKind,
  id: string,
  reason: string,
): Promise<Outcome<BlacklistChangeResponse>> {
  if (kind === 'account' && !(await d.accounts.get(id))) fail('NOT_FOUND', '账户不存在');
  const nowMs = d.now();
  await d.risk.blacklistAdd(kind, id, { reason, by: who.userId, nowMs });
  await Promise.all([
    d.audit.append(who.userId, { type: 'blacklist_add', atMs: nowMs, details: { kind, subject: id, reason } }),
    kind === 'account'
      ? d.audit.append(id, { type: 'blacklist_add', atMs: nowMs, details: { kind, by: who.userId, reason } })
      : undefined,
  ]);
  return { status: 201, body: { kind, id, active: true, at: iso(nowMs) } };
}

/** DELETE /v1/admin/blacklist/{kind}/{id} — NOT_FOUND when no active entry exists. */
export async function blacklistRemove(
  d: Deps,
  who: Principal,
  kind: BlacklistKind,
  id: string,
): Promise<Outcome<BlacklistChangeResponse>> {
  const nowMs = d.now();
  if (!(await d.risk.blacklistRemove(kind, id, { by: who.userId, nowMs }))) fail('NOT_FOUND', '不在黑名单中');
  await Promise.all([
    d.audit.append(who.userId, { type: 'blacklist_remove', atMs: nowMs, details: { kind, subject: id } }),
    kind === 'account'
      ? d.audit.append(id, { type: 'blacklist_remove', atMs: nowMs, details: { kind, by: who.userId } })
      : undefined,
  ]);
  return { status: 200, body: { kind, id, active: false, at: iso(nowMs) } };
}
