/**
 * Withdrawals (提现), the use cases: the request, the sweeper's step, WeChat's notification and
 * the reads. The rules are in domain/withdrawals.ts; the WeChat Pay adapter's outcomes
 * (ok / not_found / rejected / unknown) in wechatpay/client.ts.
 *
 * Timeline of one withdrawal (id = out_bill_no, derived from the caller's Idempotency-Key):
 *   0. record put: `pending`, due after CREATE_GRACE_MS (the sweeper's safety net).
 *   A. hold: ledger debit `withdrawal_debit` of amount + fee, opId `wd:<id>` — checks funds and
 *      the UTC+8 day's withdrawal limit in the wallet's own compare-and-swap; at most once.
 *   B. `billAt` set (only while `pending`), then the transfer bill created with the user's
 *      openid under the one out_bill_no. `ok` → `wait_user_confirm` + package, due at the next
 *      poll; `rejected` → nothing was done at WeChat: `failed`, the hold returned; `unknown` →
 *      the same create is sent once more (WeChat dedupes by number); still unknown → 503, the
 *      record stays `pending` with `billAt`, and the caller's retry or the sweeper's query finds
 *      out. There is never a second number.
 *   C. final state from WeChat (notification, the sweeper's query or a read's query), set once
 *      by a conditional write: SUCCESS → `success` (the fee, if any, to the fee account first);
 *      FAIL / CANCELLED → `failed` / `canceled`, then the hold returned (`withdrawal_return`,
 *      opId `wdret:<id>`, at most once), then `returned` and out of the due index. After 24 h
 *      unconfirmed the sweeper cancels the bill and then queries: only a final FAIL/CANCELLED
 *      returns money (a confirmation that won the race is a SUCCESS).
 * Crashes: before A nothing moved (the sweeper cancels the record); between A and B the money
 * is held and no bill exists (the retry creates it; after the grace the sweeper gives it back);
 * after B the bill decides (the sweeper queries); between C's state and the return the record
 * is still due and the next sweep returns the hold (the ledger's opId makes it once).
 * A bill WeChat does not know (`not_found`) is given up only when the last create was sent
 * longer ago than the grace, and only by a write conditional on `billAt` being unchanged, so a
 * create racing the decision either lands before it (the query sees the bill) or is never sent
 * (the record is no longer `pending`). (docs/crash-timelines.md has this and every other flow.)
 */
import { createHash } from 'node:crypto';
import { fail } from '../domain/errors';
import { dayKeyUtc8, policyFor, type Fen, type WithdrawalPolicy } from '../domain/money';
import {
  CREATE_GRACE_MS,
  confirmWindowOver,
  isFinalWithdrawal,
  nextCheckAt,
  outBillNoOf,
  stateOfBill,
  WITHDRAWAL_ID,
  withdrawalFee,
  withdrawalId,
  withdrawalLimitProblem,
} from '../domain/withdrawals';
import type { TransferBill, WeChatPay } from '../wechatpay/client';
import type { WithdrawalRecord } from '../store/withdrawals';
import type { CreateWithdrawalResponse, ErrorBody, WithdrawalView, WithdrawalsResponse } from '../http/contract';
import type { WeChatPaySettings } from '../config';
import { log } from '../log';
import { feeAccountFor, iso, type Outcome, type Principal } from './context';
import type { Deps } from './deps';
import { idempotent } from './idempotent';
import { dueShard } from './settlement';
import { notifyWithdrawalArrived } from './notifications';

/** A retry of the sweeper after an answer it could not use (unknown, rate limited). */
const RETRY_MS = 60_000;

/** What the user sees in WeChat for the transfer (≤ 32 characters). */
const REMARK = '红包零钱提现';
/** The report infos of scene 1000 (现金营销). */
const SCENE_REPORT = [
  { infoType: '活动名称', infoContent: '红包零钱提现' },
  { infoType: '奖励说明', infoContent: '提现到微信零钱' },
] as const;

/** The API's view: `pending` is shown as `processing` (the app waits either way). */
export function withdrawalView(w: WithdrawalRecord): WithdrawalView {
  const state: WithdrawalView['state'] = w.state === 'pending' ? 'processing' : w.state;
  return { withdrawalId: w.id, amount: w.amount, state, returned: w.returned === true };
}

/**
 * The openid a withdrawal pays: the one the account's WeChat login stored. Dev-login accounts
 * (local, test, sandbox stages only) get a stand-in derived from the account id, so the flow
 * runs against the simulator.
 */
export async function openidOf(d: Deps, userId: string): Promise<string | undefined> {
  const stored = await d.accounts.openid(userId);
  if (stored) return stored;
  if (!d.cfg.devFeatures) return undefined;
  return `odev${createHash('sha256').update(userId).digest('base64url').slice(0, 24)}`;
}

function wechatPay(d: Deps): { pay: WeChatPay; settings: WeChatPaySettings } {
  if (!d.wechatPay || !d.cfg.wechatPay) return fail('UNAVAILABLE', '提现暂不可用');
  return { pay: d.wechatPay, settings: d.cfg.wechatPay };
}

async function policyOf(d: Deps, userId: string, fallbackTier: Principal['tier']): Promise<WithdrawalPolicy> {
  const profile = await d.accounts.get(userId);
  return policyFor(profile?.tier ?? fallbackTier, profile?.settings).withdrawal;
}

/** POST /v1/withdrawals — hold the amount and create the transfer bill the user confirms in WeChat. */
export async function createWithdrawal(
  d: Deps,
  who: Principal,
  input: { amount: Fen },
  idemKey: string | undefined,
): Promise<Outcome<CreateWithdrawalResponse | ErrorBody>> {
  const { pay, settings } = wechatPay(d);
  const policy = await policyOf(d, who.userId, who.tier);
  const fee = withdrawalFee(Math.max(0, input.amount), policy);
  let openid: string | undefined;
  // Refusals before anything is written: limits, funds, no openid.
  const precheck = async () => {
    const w = await d.wallets.state(who.userId);
    const today = dayKeyUtc8(d.now());
    const problem = withdrawalLimitProblem(input.amount, policy, w.wdDay === today ? (w.wdToday ?? 0) : 0);
    if (problem) fail('WITHDRAWAL_LIMIT', problem.message, problem.details);
    if (w.balance < input.amount + fee) fail('INSUFFICIENT_FUNDS', '余额不足', { balance: w.balance });
    openid = await openidOf(d, who.userId);
    if (!openid) fail('FORBIDDEN', '请先使用微信登录后再提现');
  };
  return idempotent(
    d,
    { principal: who.userId, scope: 'POST /v1/withdrawals', key: idemKey, body: input },
    precheck,
    async () => {
      const id = withdrawalId(who.userId, idemKey!);
      let w = await d.withdrawals.get(id);
      if (!w) {
        const nowMs = d.now();
        const [mine, fees] = await Promise.all([
          d.wallets.state(who.userId),
          fee > 0 ? d.wallets.state(feeAccountFor(id)) : undefined,
        ]);
        w = await d.withdrawals.create(
          {
            id,
            userId: who.userId,
            amount: input.amount,
            fee,
            state: 'pending',
            returned: false,
            createdAt: iso(nowMs),
            hint: mine.seq,
            feeHint: fees?.seq ?? 0,
          },
          { shard: dueShard(d, id), at: iso(nowMs + CREATE_GRACE_MS) },
        );
      }
      openid ??= await openidOf(d, who.userId);
      if (!openid) fail('FORBIDDEN', '请先使用微信登录后再提现');
      return startWithdrawal(d, pay, settings, w, openid, policy);
    },
  );
}

/** Steps A–B for the request (and its retries); see the timeline above. */
async function startWithdrawal(
  d: Deps,
  pay: WeChatPay,
  settings: WeChatPaySettings,
  w: WithdrawalRecord,
  openid: string,
  policy: WithdrawalPolicy,
): Promise<Outcome<CreateWithdrawalResponse>> {
  if (w.state === 'pending') {
    const hold = await d.wallets.append(w.userId, w.hint, {
      opId: `wd:${w.id}`,
      type: 'withdrawal_debit',
      amount: -(w.amount + w.fee),
      ...(w.fee > 0 ? { fee: w.fee } : {}),
      ref: w.id,
      at: w.createdAt,
      withdrawal: { amount: w.amount, limit: policy.dailyLimit, day: dayKeyUtc8(Date.parse(w.createdAt)) },
    });
    if (hold.kind === 'insufficient' || hold.kind === 'withdrawal_limit' || hold.kind === 'daily_limit') {
      // Nothing held: the record ends here (settled: the sweeper has nothing to do).
      await d.withdrawals.finish(w.id, 'canceled', { atIso: iso(d.now()), settled: true, onlyIfBillAt: null });
      if (hold.kind === 'insufficient') fail('INSUFFICIENT_FUNDS', '余额不足', { balance: hold.balance });
      fail('WITHDRAWAL_LIMIT', '超出今日提现限额', {
        dailyLimit: policy.dailyLimit,
        ...(hold.kind === 'withdrawal_limit' ? { withdrawnToday: hold.withdrawnToday } : {}),
      });
    }
    const claimed = await d.withdrawals.markBillAttempt(w.id, iso(d.now()));
    if (!claimed) {
      // The sweeper gave it up meanwhile (no create may follow): make sure the hold goes back.
      const now = (await d.withdrawals.get(w.id))!;
      return { status: 201, body: withdrawalView(await settleReturn(d, now)) };
    }
    w = claimed;
  } else if (isFinalWithdrawal(w.state)) {
    return { status: 201, body: withdrawalView(w.state === 'success' ? w : await settleReturn(d, w)) };
  } else if (w.packageInfo) {
    return created(pay, w, w.packageInfo);
  }
  // A pending record with `billAt`, or an open bill whose package we lack (the sweeper learned
  // its state from a query, which carries none): the same create again, same number.
  const bill = await sendCreate(pay, settings, w, openid);
  if (bill.kind === 'rejected') {
    // Refused: nothing was done by this call. An earlier send (an unknown answer) may still
    // have made the bill, so only WeChat not knowing the number fails the withdrawal.
    log('warn', 'withdrawal create refused by WeChat Pay', { withdrawalId: w.id, code: bill.code });
    const q = await pay.queryTransfer(outBillNoOf(w.id));
    if (q.kind === 'ok') return { status: 201, body: withdrawalView(await applyBill(d, w, q.bill)) };
    if (q.kind !== 'not_found') fail('UNAVAILABLE', '微信支付繁忙，请稍后重试');
    await applyBill(d, w, { outBillNo: outBillNoOf(w.id), transferBillNo: '', state: 'FAIL', failReason: bill.code });
    fail('UNAVAILABLE', '微信支付暂时无法提现，金额已退回余额');
  }
  if (bill.kind !== 'ok') fail('UNAVAILABLE', '微信支付繁忙，请稍后重试');
  const b = bill.bill;
  const after = await applyBill(d, w, b);
  if (after.state === 'wait_user_confirm' && b.packageInfo) return created(pay, after, b.packageInfo);
  return { status: 201, body: withdrawalView(after) };
}

function created(pay: WeChatPay, w: WithdrawalRecord, packageInfo: string): Outcome<CreateWithdrawalResponse> {
  return {
    status: 201,
    body: {
      withdrawalId: w.id,
      amount: w.amount,
      state: 'wait_user_confirm',
      confirm: pay.transferConfirmParams(packageInfo),
    },
  };
}

/**
 * Sends the create (same out_bill_no always) and, on an unknown answer, once more: WeChat treats
 * the same number as the same bill, so a repeat can only learn what the first did. A retryable
 * refusal (rate limit) counts as not done yet.
 */
async function sendCreate(pay: WeChatPay, settings: WeChatPaySettings, w: WithdrawalRecord, openid: string) {
  const input = {
    outBillNo: outBillNoOf(w.id),
    openid,
    amount: w.amount,
    remark: REMARK,
    sceneId: settings.transferSceneId,
    sceneReportInfos: SCENE_REPORT,
    notifyUrl: settings.notifyUrl,
  };
  let r = await pay.createTransfer(input);
  if (r.kind === 'unknown' || (r.kind === 'rejected' && r.retryable)) r = await pay.createTransfer(input);
  if (r.kind === 'rejected' && r.retryable) return { kind: 'unknown' as const, reason: 'server_error' as const };
  return r;
}

/**
 * Step C: what WeChat says about the bill, applied once. Final states are set by a conditional
 * write (the first decider wins; the others read its result); an open bill updates the state
 * and the next check. Returns the record as it now is.
 */
export async function applyBill(d: Deps, w: WithdrawalRecord, bill: TransferBill): Promise<WithdrawalRecord> {
  const state = stateOfBill(bill.state);
  const nowMs = d.now();
  const tb = bill.transferBillNo ? { transferBillNo: bill.transferBillNo } : {};
  if (state === 'success') {
    if (w.state === 'failed' || w.state === 'canceled') {
      // Cannot happen while WeChat keeps one state per bill: say so loudly, change nothing.
      log('error', 'withdrawal: WeChat says SUCCESS for a withdrawal we closed', {
        withdrawalId: w.id,
        state: w.state,
      });
      return w;
    }
    if (w.fee > 0)
      await d.wallets.append(feeAccountFor(w.id), w.feeHint, {
        opId: `fee:wd:${w.id}`,
        type: 'fee',
        amount: w.fee,
        ref: w.id,
        at: w.createdAt,
      });
    const done =
      (await d.withdrawals.finish(w.id, 'success', { atIso: iso(nowMs), settled: true, ...tb })) ??
      (await d.withdrawals.get(w.id))!;
    // The money arrived: "withdrawal arrived" — every path that sees SUCCESS (notification,
    // query, read, repeats) gets here, and the message's id makes it one.
    if (done.state === 'success') await notifyWithdrawalArrived(d, done);
    return done;
  }
  if (state === 'failed' || state === 'canceled') {
    const done = await d.withdrawals.finish(w.id, state, {
      atIso: iso(nowMs),
      settled: false,
      ...tb,
      ...(bill.failReason ? { failReason: bill.failReason } : {}),
    });
    return settleReturn(d, done ?? (await d.withdrawals.get(w.id))!);
  }
  if (isFinalWithdrawal(w.state)) return w;
  const saved = await d.withdrawals.saveBill(
    w.id,
    { state, ...(bill.packageInfo ? { packageInfo: bill.packageInfo } : {}), ...tb },
    { shard: dueShard(d, w.id), at: iso(nextCheckAt(nowMs, Date.parse(w.createdAt))) },
  );
  return saved ?? (await d.withdrawals.get(w.id))!;
}

/**
 * A failed or canceled withdrawal gives its hold back exactly once (the ledger applies opId
 * `wdret:<id>` at most once), then leaves the due index. Nothing held (the hold was refused or
 * never made) → nothing to return. A success or an open withdrawal is returned unchanged.
 */
export async function settleReturn(d: Deps, w: WithdrawalRecord, nowMs: number = d.now()): Promise<WithdrawalRecord> {
  if ((w.state !== 'failed' && w.state !== 'canceled') || w.returned) return w;
  const hold = await d.wallets.find(w.userId, w.hint, `wd:${w.id}`);
  if (!hold) {
    // Nothing held. A request that read the record before it was closed may still append its
    // hold (it then returns it itself, finding the record closed); the due entry stays until the
    // grace has passed, so a hold whose request died meanwhile is still found and returned.
    const closedMs = Date.parse(w.finishedAt ?? '');
    if (!Number.isFinite(closedMs) || nowMs >= closedMs + CREATE_GRACE_MS) await d.withdrawals.settle(w.id);
    return w;
  }
  await d.wallets.append(w.userId, w.hint, {
    opId: `wdret:${w.id}`,
    type: 'withdrawal_return',
    amount: w.amount + w.fee,
    ref: w.id,
    at: w.finishedAt ?? iso(nowMs),
    // Gives the day's allowance back if that day is still being counted.
    withdrawal: { amount: -w.amount, limit: Number.MAX_SAFE_INTEGER, day: dayKeyUtc8(Date.parse(w.createdAt)) },
  });
  await d.withdrawals.markReturned(w.id);
  return { ...w, returned: true };
}

/** What the sweeper did with one withdrawal. */
export type WithdrawalSweep = 'success' | 'returned' | 'closed' | 'open' | 'retry' | 'none';

/**
 * The sweeper's step for a due withdrawal: finish what a crash left, ask WeChat about a bill
 * whose notification has not come, cancel a bill unconfirmed after 24 h (then query: only a
 * final FAIL/CANCELLED returns the hold).
 */
export async function sweepWithdrawal(d: Deps, id: string, nowMs: number): Promise<WithdrawalSweep> {
  const w = await d.withdrawals.get(id);
  if (!w) return 'none';
  const due = (atMs: number) => ({ shard: dueShard(d, id), at: iso(atMs) });
  if (isFinalWithdrawal(w.state)) {
    if (w.state === 'success') {
      // A crash right after `success` left the message unrecorded: record it now (once by its id).
      await notifyWithdrawalArrived(d, w);
      await d.withdrawals.settle(id);
      return 'success';
    }
    const r = await settleReturn(d, w, nowMs);
    return r.returned ? 'returned' : 'closed';
  }
  const createdMs = Date.parse(w.createdAt);
  if (w.state === 'pending' && !w.billAt) {
    // No create was ever sent. Within the grace the request may still be at work; after it,
    // the withdrawal ends here: nothing moved, or the hold goes back (settleReturn).
    if (nowMs < createdMs + CREATE_GRACE_MS) {
      await d.withdrawals.reschedule(id, due(createdMs + CREATE_GRACE_MS));
      return 'retry';
    }
    const done = await d.withdrawals.finish(id, 'canceled', { atIso: iso(nowMs), settled: false, onlyIfBillAt: null });
    if (!done) return 'retry';
    const r = await settleReturn(d, done, nowMs);
    return r.returned ? 'returned' : 'closed';
  }
  if (!d.wechatPay) {
    log('error', 'withdrawal due but WeChat Pay is not configured', { withdrawalId: id });
    return 'retry';
  }
  const pay = d.wechatPay;
  const q = await pay.queryTransfer(outBillNoOf(id));
  if (q.kind === 'not_found') {
    // WeChat never got a create. Give up only when none can still be on its way, and only if
    // no create was sent since we looked (billAt unchanged).
    const sentMs = Date.parse(w.billAt ?? w.createdAt);
    if (nowMs < sentMs + CREATE_GRACE_MS) {
      await d.withdrawals.reschedule(id, due(sentMs + CREATE_GRACE_MS));
      return 'retry';
    }
    const done = await d.withdrawals.finish(id, 'canceled', {
      atIso: iso(nowMs),
      settled: false,
      onlyIfBillAt: w.billAt ?? null,
    });
    if (!done) return 'retry';
    const r = await settleReturn(d, done, nowMs);
    return r.returned ? 'returned' : 'closed';
  }
  if (q.kind !== 'ok') {
    await d.withdrawals.reschedule(id, due(nowMs + RETRY_MS));
    return 'retry';
  }
  let bill = q.bill;
  if (!isFinalWithdrawal(stateOfBill(bill.state)) && confirmWindowOver(nowMs, createdMs)) {
    // 24 h without a confirmation: cancel first, then believe only the query. A confirmation
    // that beat the cancel shows as SUCCESS; CANCELING stays open until it settles.
    const c = await pay.cancelTransfer(outBillNoOf(id));
    if (c.kind === 'rejected') log('info', 'withdrawal cancel refused', { withdrawalId: id, code: c.code });
    const again = await pay.queryTransfer(outBillNoOf(id));
    if (again.kind !== 'ok') {
      await d.withdrawals.reschedule(id, due(nowMs + RETRY_MS));
      return 'retry';
    }
    bill = again.bill;
  }
  const after = await applyBill(d, w, bill);
  if (after.state === 'success') return 'success';
  if (after.returned) return 'returned';
  if (!isFinalWithdrawal(after.state) && confirmWindowOver(nowMs, createdMs)) {
    await d.withdrawals.reschedule(id, due(nowMs + RETRY_MS));
  }
  return isFinalWithdrawal(after.state) ? 'closed' : 'open';
}

/** What became of a transfer-bill notification (the notify endpoint answers 204 for all of them). */
export type BillNotice = 'applied' | 'unknown_bill' | 'mismatch' | 'ignored';

/**
 * A verified transfer-bill notification (MCHTRANSFER.BILL.FINISHED): checked against our record
 * (number, amount) and applied once — a repeat finds the state already final and changes nothing.
 * Only final states act; an open one is left to the sweeper's poll.
 */
export async function onTransferBillNotification(d: Deps, bill: TransferBill): Promise<BillNotice> {
  if (!WITHDRAWAL_ID.test(bill.outBillNo)) return 'unknown_bill';
  const w = await d.withdrawals.get(bill.outBillNo);
  if (!w) return 'unknown_bill';
  if (bill.amount !== undefined && bill.amount !== w.amount) {
    log('error', 'withdrawal notification does not match our record', {
      withdrawalId: w.id,
      amount: bill.amount,
      expected: w.amount,
    });
    return 'mismatch';
  }
  if (!isFinalWithdrawal(stateOfBill(bill.state))) return 'ignored';
  await applyBill(d, w, bill);
  return 'applied';
}

/** GET /v1/withdrawals/{id} — the owner only; an open one is refreshed from WeChat (the app polls it after confirming). */
export async function getWithdrawal(d: Deps, who: Principal, id: string): Promise<Outcome<WithdrawalView>> {
  let w = WITHDRAWAL_ID.test(id) ? await d.withdrawals.get(id) : undefined;
  if (!w || w.userId !== who.userId) return fail('NOT_FOUND', '没有这笔提现');
  if (!isFinalWithdrawal(w.state) && w.billAt && d.wechatPay) {
    const q = await d.wechatPay.queryTransfer(outBillNoOf(w.id));
    if (q.kind === 'ok') w = await applyBill(d, w, q.bill);
  }
  return { status: 200, body: withdrawalView(w!) };
}

/** GET /v1/withdrawals — the caller's, newest first; `cursor`: the last page's (another's is refused). */
export async function listWithdrawals(
  d: Deps,
  who: Principal,
  limit: number,
  cursor?: string,
): Promise<Outcome<WithdrawalsResponse>> {
  const page = await d.withdrawals.list(who.userId, limit, cursor);
  return { status: 200, body: { withdrawals: page.items.map(withdrawalView), cursor: page.next ?? null } };
}

/** The answer to WeChat Pay's notification call. */
export interface NotifyAnswer {
  status: 204 | 401 | 500;
  body?: { code: 'FAIL'; message: string };
}
