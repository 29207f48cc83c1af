import { fail } from '../domain/errors';
import { derivedId } from '../domain/ids';
import { dayKeyUtc8, policyFor, type Fen, type Tier } from '../domain/money';
import { isCodeExpired, verifyCode } from '../domain/codes';
import type { CodeView, ErrorBody, TransferResponse } from '../http/contract';
import { iso, seconds, type Outcome, type Principal } from './context';
import type { Deps } from './deps';
import { idempotent } from './idempotent';
import { rateLimit, riskAfter, riskCheck, riskCount } from './risk-gate';
import { completeTransfer, dueShard } from './settlement';
import { issueCode } from './views';

const PENDING_GRACE_MS = 60_000;

/** GET /v1/receive-code — the caller's own rotating 收款码. */
export async function receiveCode(d: Deps, who: Principal): Promise<Outcome<CodeView>> {
  const [profile] = await Promise.all([d.accounts.get(who.userId), rateLimit(d, who, 'code_refresh')]);
  const policy = policyFor(profile?.tier ?? who.tier, profile?.settings);
  return { status: 200, body: issueCode(d, 'receive', who.userId, { validitySeconds: policy.codeValiditySeconds }) };
}

/** The payee of a receive code, checked for signature and the payee's tier validity. */
export async function payeeOfCode(d: Deps, code: string) {
  const nowS = seconds(d.now());
  const check = verifyCode(code, d.cfg.codeKeys, nowS);
  if (!check.ok || check.claims.kind !== 'receive') fail('CODE_INVALID', '无效的收款码');
  const { claims } = check;
  const payee = await d.accounts.get(claims.target);
  if (!payee) fail('CODE_INVALID', '无效的收款码');
  const policy = policyFor(payee.tier, payee.settings);
  if (isCodeExpired(claims, { validitySeconds: policy.codeValiditySeconds }, nowS))
    fail('CODE_EXPIRED', '收款码已过期，请让对方刷新');
  return payee;
}

/** POST /v1/transfers — pay into a receive code. */
export async function transfer(
  d: Deps,
  who: Principal,
  input: { code: string; amount: Fen; note?: string | undefined },
  idemKey: string | undefined,
  deviceId?: string,
): Promise<Outcome<TransferResponse | ErrorBody>> {
  const profile = await d.accounts.get(who.userId);
  const policy = policyFor(profile?.tier ?? who.tier, profile?.settings);
  let payee: Awaited<ReturnType<typeof payeeOfCode>> | undefined;
  const movement = (to: { userId: string; tier: Tier }) => ({
    kind: 'transfer' as const,
    amount: input.amount,
    opId: derivedId('x', who.userId, 'transfer', idemKey!),
    deviceId,
    payee: { userId: to.userId, tier: to.tier },
  });
  const precheck = async () => {
    payee = await payeeOfCode(d, input.code);
    if (payee.userId === who.userId) fail('VALIDATION_FAILED', '不能向自己付款');
    await riskCheck(d, who, policy.tier, movement(payee));
    if (input.amount > policy.perPacketLimit)
      fail('LIMIT_PER_PACKET', '超出单笔转账限额', { perPacketLimit: policy.perPacketLimit });
    const w = await d.wallets.state(who.userId);
    const today = dayKeyUtc8(d.now());
    const sentToday = w.sentDay === today ? w.sentToday : 0;
    if (sentToday + input.amount > policy.dailyLimit)
      fail('LIMIT_DAILY', '超出今日转账限额', { dailyLimit: policy.dailyLimit, sentToday });
    if (w.balance < input.amount) fail('INSUFFICIENT_FUNDS', '余额不足', { balance: w.balance });
    await riskCount(d, who, policy.tier, movement(payee));
  };
  return idempotent(
    d,
    { principal: who.userId, scope: 'POST /v1/transfers', key: idemKey, body: input },
    precheck,
    async () => {
      const to = payee ?? (await payeeOfCode(d, input.code));
      const id = derivedId('x', who.userId, 'transfer', idemKey!);
      const nowMs = d.now();
      const [fromState, toState] = await Promise.all([d.wallets.state(who.userId), d.wallets.state(to.userId)]);
      const record = await d.movements.createTransfer(
        {
          id,
          fromId: who.userId,
          toId: to.userId,
          toName: to.name,
          amount: input.amount,
          note: input.note ?? '',
          state: 'pending',
          at: iso(nowMs),
          fromHint: fromState.seq,
          toHint: toState.seq,
        },
        { shard: dueShard(d, id), at: iso(nowMs + PENDING_GRACE_MS) },
      );
      // A record the sweeper canceled (no debit happened) is revived by this retry.
      if (record.state !== 'done') await completeTransfer(d, record, false, policy.dailyLimit);
      await riskAfter(d, who, policy.tier, movement(to));
      return { status: 201, body: { transferId: id, amount: input.amount, to: { id: to.userId, name: to.name } } };
    },
  );
}
