import { fail } from '../domain/errors';
import { derivedId } from '../domain/ids';
import { dayKeyUtc8, policyFor, type Fen } from '../domain/money';
import type {
  ErrorBody,
  LedgerLine,
  LedgerResponse,
  PendingTopupResponse,
  TopupResponse,
  WalletResponse,
} from '../http/contract';
import type { LedgerEntry } from '../store/ledger';
import { iso, type Outcome, type Principal } from './context';
import type { Deps } from './deps';
import { idempotent } from './idempotent';
import { riskCheck } from './risk-gate';
import { completeTopup, dueShard } from './settlement';
import { payerOpenid, requireWeChatPay, startTopup, topupPaymentId } from './payments';

const PENDING_GRACE_MS = 60_000;

/** GET /v1/wallet */
export async function getWallet(d: Deps, who: Principal): Promise<Outcome<WalletResponse>> {
  const [state, profile] = await Promise.all([d.wallets.state(who.userId), d.accounts.get(who.userId)]);
  const tier = profile?.tier ?? who.tier;
  const policy = policyFor(tier, profile?.settings);
  const today = dayKeyUtc8(d.now());
  return {
    status: 200,
    body: {
      balance: state.balance,
      currency: 'CNY',
      tier,
      perPacketLimit: policy.perPacketLimit,
      dailyLimit: policy.dailyLimit,
      sentToday: state.sentDay === today ? state.sentToday : 0,
      feeBps: policy.feeBps,
      maxShares: policy.maxShares,
    },
  };
}

/**
 * POST /v1/wallet/topups. `wechatpay` (the default where dev features are off, and the only
 * method there): a JSAPI order, 202, credited when WeChat Pay confirms (payments.ts). `sandbox`
 * (only where dev features are on, and their default): credited at once.
 */
export async function topup(
  d: Deps,
  who: Principal,
  amount: Fen,
  idemKey: string | undefined,
  deviceId?: string,
  method?: 'wechatpay' | 'sandbox',
): Promise<Outcome<TopupResponse | PendingTopupResponse | ErrorBody>> {
  const how = method ?? d.cfg.paymentProvider;
  if (how === 'sandbox' && !d.cfg.devFeatures) fail('VALIDATION_FAILED', '此环境只支持微信支付充值');
  // A blacklisted account or device moves no money, not even in (docs/rules.md).
  const opId =
    how === 'wechatpay'
      ? topupPaymentId(who.userId, idemKey ?? '')
      : derivedId('t', who.userId, 'topup', idemKey ?? '');
  const risk = async () => void (await riskCheck(d, who, who.tier, { kind: 'topup', amount, opId, deviceId }));
  const body = { amount, method };
  if (how === 'wechatpay') {
    requireWeChatPay(d);
    let openid = '';
    const precheck = async () => {
      await risk();
      openid = await payerOpenid(d, who.userId);
    };
    return idempotent(
      d,
      { principal: who.userId, scope: 'POST /v1/wallet/topups', key: idemKey, body },
      precheck,
      async () => startTopup(d, who, amount, idemKey!, openid || (await payerOpenid(d, who.userId))),
    );
  }
  return idempotent(
    d,
    { principal: who.userId, scope: 'POST /v1/wallet/topups', key: idemKey, body },
    risk,
    async () => {
      const id = derivedId('t', who.userId, 'topup', idemKey!);
      const nowMs = d.now();
      const hint = (await d.wallets.state(who.userId)).seq;
      const record = await d.movements.createTopup(
        { id, userId: who.userId, amount, state: 'pending', at: iso(nowMs), hint },
        { shard: dueShard(d, id), at: iso(nowMs + PENDING_GRACE_MS) },
      );
      if (record.state !== 'done') await completeTopup(d, record, false);
      const state = await d.wallets.state(who.userId);
      return { status: 201, body: { topupId: id, amount, balance: state.balance } };
    },
  );
}

/** One stored entry as API lines: a packet debit with a fee shows as two lines. */
function lines(e: LedgerEntry): LedgerLine[] {
  const base = { ref: e.ref, at: e.at };
  if (e.type === 'packet_debit' && e.fee) {
    return [
      { id: `${e.seq}-fee`, type: 'fee', amount: -e.fee, balanceAfter: e.balance, ...base },
      { id: String(e.seq), type: 'packet_debit', amount: e.amount + e.fee, balanceAfter: e.balance + e.fee, ...base },
    ];
  }
  return [{ id: String(e.seq), type: e.type, amount: e.amount, balanceAfter: e.balance, ...base }];
}

/** GET /v1/wallet/ledger — newest first; `cursor`: the last page's (another account's is refused). */
export async function ledger(
  d: Deps,
  who: Principal,
  limit: number,
  cursor?: string,
): Promise<Outcome<LedgerResponse>> {
  const page = await d.wallets.page(who.userId, limit, { after: cursor });
  return { status: 200, body: { entries: page.entries.flatMap(lines), cursor: page.next ?? null } };
}
