/**
 * Refund of a WeChat-paid packet's unclaimed remainder to the original payment, end to end: the
 * real handlers and store (dynalite), the real adapter, the WeChat Pay simulator in this process
 * (refunds settle only when a test says so). PROCESSING then SUCCESS by the notification and by
 * the sweeper's query, racing; ABNORMAL → the sender's balance once, with an ops event; a lost
 * create answer; crashes before and after every new write, each followed by the sweeper;
 * reconciliation clean, and a disagreement with WeChat reported. After every test: conservation
 * with refunds in transit and paid out, and at most one refund per packet at WeChat.
 */
import { derivedId } from '../../functions/src/domain/ids';
import { dayKeyUtc8 } from '../../functions/src/domain/money';
import { FEE_ACCOUNTS } from '../../functions/src/app/context';
import type { Deps } from '../../functions/src/app/deps';
import { packetPaymentId } from '../../functions/src/app/payments';
import { refundNoOf, sweepRefund } from '../../functions/src/app/refunds';
import { reconcile } from '../../functions/src/app/reconcile';
import { settlePacket } from '../../functions/src/app/settlement';
import { sweep } from '../../functions/src/app/sweeper';
import type { WriteInfo } from '../../functions/src/store/db';
import { balance, Clock, idem, login, makeApi, sendPacket, topup, type Api, type TestUser } from '../helpers/app';
import { ledgerOf, violations } from '../helpers/invariants';
import { startWxPayEnv, waitFor, type WriteHooks, type WxPayEnv } from '../helpers/wxpay';

let env: WxPayEnv;

beforeAll(async () => {
  // Refunds stay PROCESSING until a test settles them.
  env = await startWxPayEnv({ refundSettleMs: null });
});

afterAll(async () => {
  await env?.close();
});

class Crash extends Error {}

interface World {
  d: Deps;
  api: Api;
  clock: Clock;
  users: TestUser[];
  packets: string[];
  payments: string[];
  topups: number;
}

async function world(n: number): Promise<World> {
  const clock = new Clock();
  const d = env.deps(clock);
  const api = makeApi(d);
  const users: TestUser[] = [];
  for (let i = 0; i < n; i++) users.push(await login(api));
  return { d, api, clock, users, packets: [], payments: [], topups: 0 };
}

const refundsAtWeChat = (no: string) => env.sim.state().refunds.filter((r) => r.outRefundNo === no);

async function expectSound(w: World) {
  expect(
    await violations(w.d, {
      users: w.users.map((u) => u.userId),
      packets: w.packets,
      topups: w.topups,
      feeAccounts: FEE_ACCOUNTS,
      payments: w.payments,
    }),
  ).toEqual([]);
  for (const id of w.packets) expect(refundsAtWeChat(refundNoOf(id)).length).toBeLessThanOrEqual(1);
}

/** A packet paid directly through WeChat Pay, paid and active. */
async function paidPacket(w: World, s: TestUser, body: Record<string, unknown>) {
  const key = idem();
  const r = await w.api('POST', '/v1/packets', {
    token: s.token,
    idem: key,
    body: { funding: 'wechatpay', ttlSeconds: 60, ...body },
  });
  expect(r.status).toBe(202);
  const packetId = derivedId('p', s.userId, 'packet', key);
  const paymentId = packetPaymentId(packetId);
  w.packets.push(packetId);
  w.payments.push(paymentId);
  const prepay = env.sim.state().payments.find((p) => p.outTradeNo === paymentId)!.prepayId;
  expect((await env.hook(`/sim/payments/${prepay}/pay`)).status).toBe(200);
  await waitFor('payment settled', async () => (await w.d.payIns.get(paymentId))?.settled === true);
  const fee = r.body.fee as number;
  w.topups += (body.total as number) + fee;
  return { packetId, paymentId, fee, no: refundNoOf(packetId) };
}

async function claim(w: World, packetId: string, s: TestUser, c: TestUser): Promise<number> {
  const code = await w.api('POST', `/v1/packets/${packetId}/codes`, { token: s.token, body: {} });
  const r = await w.api('POST', '/v1/claims', { token: c.token, body: { code: code.body.code } });
  expect(r.status).toBe(200);
  return r.body.amount as number;
}

/** Well after the packet's expiry (its minute of life counts from the payment, by the real clock). */
const afterExpiry = (w: World) => w.clock.now() + 5 * 60_000;

/** A paid packet with one share claimed, expired: the sender, its ids and the remainder. */
async function claimedOnce(w: World) {
  const [s, c] = w.users as [TestUser, TestUser];
  const p = await paidPacket(w, s, { total: 1_000, count: 3, mode: 'lucky' });
  const got = await claim(w, p.packetId, s, c);
  return { ...p, s, remainder: 1_000 - got };
}

describe('refund of a WeChat-paid packet to its payment', () => {
  it('partly claimed, expired, swept: one refund of exactly the remainder, the balance untouched, refundedTo wechatpay; SUCCESS by notification', async () => {
    const w = await world(3);
    const { s, packetId, paymentId, no, remainder, fee } = await claimedOnce(w);
    // A balance-funded packet beside it refunds to the balance as before.
    const b = w.users[2]!;
    await topup(w.api, b, 500);
    w.topups += 500;
    const byBalance = await sendPacket(w.api, b, { total: 300, count: 2, mode: 'equal', ttlSeconds: 60 });
    w.packets.push(byBalance.packet.id);

    const report = await sweep(w.d, afterExpiry(w));
    expect(report.errors).toBe(0);
    expect(no.length).toBeLessThanOrEqual(64);
    expect(refundsAtWeChat(no)).toEqual([
      { outRefundNo: no, outTradeNo: paymentId, amount: remainder, state: 'PROCESSING' },
    ]);
    expect(await balance(w.api, s)).toBe(0);
    expect((await ledgerOf(w.d, s.userId)).map((e) => e.type)).toEqual(['topup', 'packet_debit']);
    expect(await w.d.refunds.get(no)).toMatchObject({
      state: 'processing',
      amount: remainder,
      orderTotal: 1_000 + fee,
      paymentId,
    });
    const view = await w.api('GET', `/v1/packets/${packetId}`, { token: s.token });
    expect(view.body).toMatchObject({ status: 'refunded', refundedAmount: remainder, refundedTo: 'wechatpay' });
    expect((await w.api('GET', `/v1/packets/${byBalance.packet.id}`, { token: b.token })).body).toMatchObject({
      refundedAmount: 300,
      refundedTo: 'balance',
    });
    expect(await balance(w.api, b)).toBe(500);
    await expectSound(w);

    expect((await env.hook(`/sim/refunds/${no}/settle`, { state: 'SUCCESS' })).status).toBe(200);
    await waitFor('refund success', async () => (await w.d.refunds.get(no))?.state === 'success');
    // Paid back and out of the due index: another sweep asks WeChat nothing and changes nothing.
    await sweep(w.d, afterExpiry(w) + 60 * 60_000);
    expect(refundsAtWeChat(no)).toEqual([
      { outRefundNo: no, outTradeNo: paymentId, amount: remainder, state: 'SUCCESS' },
    ]);
    expect(await balance(w.api, s)).toBe(0);
    expect((await w.api('GET', `/v1/packets/${packetId}`, { token: s.token })).body).toMatchObject({
      refundedAmount: remainder,
      refundedTo: 'wechatpay',
    });
    await expectSound(w);
  });

  it('the notification and the sweeper’s query race on SUCCESS: applied once', async () => {
    const w = await world(2);
    const { s, packetId, no } = await claimedOnce(w);
    await settlePacket(w.d, packetId, afterExpiry(w));
    expect((await w.d.refunds.get(no))?.state).toBe('processing');
    const before = env.sim.notifications().length;
    await env.hook('/sim/faults', { notify: 'duplicate', times: 1 });
    await env.hook(`/sim/refunds/${no}/settle`, { state: 'SUCCESS' });
    const swept = await Promise.all([sweepRefund(w.d, no), sweepRefund(w.d, no)]);
    expect(swept).toEqual(['success', 'success']);
    await waitFor(
      'notifications answered',
      async () =>
        env.sim
          .notifications()
          .slice(before)
          .every((n) => n.delivered) && env.notifyApp.statuses.length > 0,
    );
    expect((await w.d.refunds.get(no))?.state).toBe('success');
    expect(await balance(w.api, s)).toBe(0);
    expect(refundsAtWeChat(no)).toHaveLength(1);
    await expectSound(w);
  });

  it('ABNORMAL: the remainder goes to the sender’s balance once (notification and query racing), with an ops event', async () => {
    const w = await world(2);
    const { s, packetId, no, remainder } = await claimedOnce(w);
    await settlePacket(w.d, packetId, afterExpiry(w));
    await env.hook('/sim/faults', { notify: 'duplicate', times: 1 });
    await env.hook(`/sim/refunds/${no}/settle`, { state: 'ABNORMAL' });
    await Promise.all([sweepRefund(w.d, no), sweepRefund(w.d, no)]);
    const r = await waitFor('returned', async () => {
      const rec = await w.d.refunds.get(no);
      return rec?.returned ? rec : undefined;
    });
    expect(r).toMatchObject({ state: 'failed', failReason: 'ABNORMAL' });
    // Late copies of the notification change nothing.
    await new Promise((res) => setTimeout(res, 200));
    expect(await balance(w.api, s)).toBe(remainder);
    expect(
      (await ledgerOf(w.d, s.userId)).filter((e) => e.type === 'refund_credit').map((e) => [e.opId, e.amount]),
    ).toEqual([[`refund:${packetId}`, remainder]]);
    expect((await w.api('GET', `/v1/packets/${packetId}`, { token: s.token })).body).toMatchObject({
      refundedAmount: remainder,
      refundedTo: 'balance',
    });
    const events = (await w.d.reconciliation.events(dayKeyUtc8(Date.parse(r.finishedAt!)))).filter(
      (e) => e.type === 'refund_fallback' && e.id === no,
    );
    expect(events).toHaveLength(1);
    expect(await sweepRefund(w.d, no)).toBe('returned');
    expect(await balance(w.api, s)).toBe(remainder);
    await expectSound(w);
  });

  it('a lost create answer: no second refund (same out_refund_no); the query resolves it', async () => {
    const w = await world(2);
    const { s, packetId, no, remainder } = await claimedOnce(w);
    // Both sends of the create are applied at WeChat and their answers lost.
    await env.hook('/sim/faults', { answer: 'lost', times: 2 });
    const r = await settlePacket(w.d, packetId, afterExpiry(w));
    expect(r).toMatchObject({ settled: true, refunded: remainder });
    expect((await w.d.refunds.get(no))?.state).toBe('requested');
    expect(refundsAtWeChat(no)).toHaveLength(1);
    await expectSound(w);
    expect(await sweepRefund(w.d, no)).toBe('open');
    expect((await w.d.refunds.get(no))?.state).toBe('processing');
    await env.hook('/sim/faults', { notify: 'drop', times: 1 });
    await env.hook(`/sim/refunds/${no}/settle`, { state: 'SUCCESS' });
    expect(await sweepRefund(w.d, no)).toBe('success');
    expect(refundsAtWeChat(no)).toEqual([
      { outRefundNo: no, outTradeNo: expect.any(String), amount: remainder, state: 'SUCCESS' },
    ]);
    expect(await balance(w.api, s)).toBe(0);
    await expectSound(w);
  });

  it('reconciliation: clean with a refund in transit and after it; a refund WeChat finished that we still call open is reported', async () => {
    const w = await world(2);
    const { packetId, no, remainder } = await claimedOnce(w);
    await settlePacket(w.d, packetId, afterExpiry(w));
    const run = () =>
      reconcile(
        { reconciliation: w.d.reconciliation, now: () => afterExpiry(w) + 10 * 60_000, wechatPay: w.d.wechatPay },
        { scope: { accounts: w.users.map((u) => u.userId), packets: w.packets }, save: false },
      );
    const open = await run();
    expect(open).toMatchObject({ ok: true, mismatches: 0 });
    expect(open.inTransitBy.refunds).toBe(remainder);
    // WeChat pays it back but its word never reaches us: the records disagree.
    await env.hook('/sim/faults', { notify: 'drop', times: 1 });
    await env.hook(`/sim/refunds/${no}/settle`, { state: 'SUCCESS' });
    const disagree = await run();
    expect(disagree.byKind).toEqual({ wechatpay_state: 1 });
    expect(disagree.listed[0]).toMatchObject({ kind: 'wechatpay_state', id: no });
    expect(await sweepRefund(w.d, no)).toBe('success');
    const done = await run();
    expect(done).toMatchObject({ ok: true, mismatches: 0 });
    expect(done.inTransitBy.refunds).toBe(0);
    expect(done.paidOut).toBe(remainder);
    await expectSound(w);
  });
});

describe('reconciliation asks WeChat Pay about payments too', () => {
  it('a payment WeChat Pay has taken that we still call pending is reported until the sweeper applies it', async () => {
    const w = await world(1);
    const [s] = w.users as [TestUser];
    const key = idem();
    const r = await w.api('POST', '/v1/packets', {
      token: s.token,
      idem: key,
      body: { funding: 'wechatpay', total: 800, count: 2, mode: 'equal' },
    });
    expect(r.status).toBe(202);
    const packetId = derivedId('p', s.userId, 'packet', key);
    const paymentId = packetPaymentId(packetId);
    w.packets.push(packetId);
    w.payments.push(paymentId);
    const run = () =>
      reconcile(
        { reconciliation: w.d.reconciliation, now: () => w.clock.now() + 10 * 60_000, wechatPay: w.d.wechatPay },
        { scope: { accounts: [s.userId], packets: w.packets }, save: false },
      );
    // Unpaid: no money, nothing to say.
    expect(await run()).toMatchObject({ ok: true, mismatches: 0 });
    await env.hook('/sim/faults', { notify: 'drop', times: 1 });
    const prepay = env.sim.state().payments.find((p) => p.outTradeNo === paymentId)!.prepayId;
    expect((await env.hook(`/sim/payments/${prepay}/pay`)).status).toBe(200);
    const seen = await run();
    expect(seen.byKind).toEqual({ wechatpay_state: 1 });
    expect(seen.listed[0]).toMatchObject({ kind: 'wechatpay_state', id: paymentId });
    await sweep(w.d, w.clock.now() + 2 * 60_000);
    expect((await w.d.payIns.get(paymentId))?.state).toBe('paid');
    w.topups += 800 + (r.body.fee as number);
    expect(await run()).toMatchObject({ ok: true, mismatches: 0 });
    await expectSound(w);
  });
});

describe('crash points of the refund', () => {
  /** Crashes before or after the `nth` write to an item whose pk starts with `prefix` (counted once `after` was written to). */
  function crashing(w: World, point: Point): { d: Deps; fired: () => boolean } {
    let n = 0;
    let armed = point.after === undefined;
    let fired = false;
    const at = (phase: 'before' | 'after') => (i: WriteInfo) => {
      if (!armed) {
        if (phase === 'after' && i.pk.startsWith(point.after!)) armed = true;
        return;
      }
      if (!i.pk.startsWith(point.prefix) || fired) return;
      if (phase === 'before') n++;
      if (phase === point.phase && n === point.nth) {
        fired = true;
        throw new Crash(`crash ${phase} ${point.prefix} write ${n}`);
      }
    };
    const hooks: WriteHooks = { beforeWrite: at('before'), afterWrite: at('after') };
    return { d: env.deps(w.clock, hooks), fired: () => fired };
  }

  interface Point {
    phase: 'before' | 'after';
    prefix: string;
    nth: number;
    after?: string;
  }

  const settleStep: Array<[string, Point]> = [
    ['before the refund record', { phase: 'before', prefix: 'RFD#', nth: 1 }],
    ['after the refund record (transit)', { phase: 'after', prefix: 'RFD#', nth: 1 }],
    ['after the packet is settled', { phase: 'after', prefix: 'PKT#', nth: 1, after: 'RFD#' }],
    ['before the processing state', { phase: 'before', prefix: 'RFD#', nth: 2 }],
  ];
  it.each(settleStep)(
    'settlement: a crash %s, then the sweeper → one refund of the remainder, then paid back',
    async (_, point) => {
      const w = await world(2);
      const { s, packetId, no, remainder } = await claimedOnce(w);
      const c = crashing(w, point);
      await settlePacket(c.d, packetId, afterExpiry(w)).catch((e: unknown) => {
        if (!(e instanceof Crash)) throw e;
      });
      expect(c.fired()).toBe(true);
      await expectSound(w);
      await sweep(w.d, afterExpiry(w) + 10 * 60_000);
      await sweep(w.d, afterExpiry(w) + 20 * 60_000);
      expect(await w.d.packets.get(packetId)).toMatchObject({
        state: 'settled',
        refundedAmount: remainder,
        refundedTo: 'wechatpay',
      });
      expect(refundsAtWeChat(no)).toEqual([expect.objectContaining({ amount: remainder, state: 'PROCESSING' })]);
      await env.hook('/sim/faults', { notify: 'drop', times: 1 });
      await env.hook(`/sim/refunds/${no}/settle`, { state: 'SUCCESS' });
      await sweep(w.d, afterExpiry(w) + 60 * 60_000);
      expect((await w.d.refunds.get(no))?.state).toBe('success');
      expect(await balance(w.api, s)).toBe(0);
      await expectSound(w);
    },
  );

  const finalStep: Array<[string, 'SUCCESS' | 'ABNORMAL', Point]> = [
    ['before the completion', 'SUCCESS', { phase: 'before', prefix: 'RFD#', nth: 1 }],
    ['after the completion', 'SUCCESS', { phase: 'after', prefix: 'RFD#', nth: 1 }],
    ['before the failure is recorded', 'ABNORMAL', { phase: 'before', prefix: 'RFD#', nth: 1 }],
    ['after the failure is recorded', 'ABNORMAL', { phase: 'after', prefix: 'RFD#', nth: 1 }],
    ['before the fallback credit', 'ABNORMAL', { phase: 'before', prefix: 'LEDGER#', nth: 1 }],
    ['after the fallback credit', 'ABNORMAL', { phase: 'after', prefix: 'LEDGER#', nth: 1 }],
    ['after the packet says balance', 'ABNORMAL', { phase: 'after', prefix: 'PKT#', nth: 1 }],
    ['after the ops event', 'ABNORMAL', { phase: 'after', prefix: 'OPSEV#', nth: 1 }],
    ['before the refund is marked returned', 'ABNORMAL', { phase: 'before', prefix: 'RFD#', nth: 2 }],
  ];
  it.each(finalStep)(
    'WeChat’s final word: a crash %s (%s), then the sweeper → applied once',
    async (_, outcome, point) => {
      const w = await world(2);
      const { s, packetId, no, remainder } = await claimedOnce(w);
      await settlePacket(w.d, packetId, afterExpiry(w));
      await env.hook('/sim/faults', { notify: 'drop', times: 1 });
      await env.hook(`/sim/refunds/${no}/settle`, { state: outcome });
      const c = crashing(w, point);
      await expect(sweepRefund(c.d, no)).rejects.toBeInstanceOf(Crash);
      await expectSound(w);
      await sweep(w.d, afterExpiry(w) + 60 * 60_000);
      const r = await w.d.refunds.get(no);
      if (outcome === 'SUCCESS') {
        expect(r?.state).toBe('success');
        expect(await balance(w.api, s)).toBe(0);
      } else {
        expect(r).toMatchObject({ state: 'failed', returned: true });
        expect(await balance(w.api, s)).toBe(remainder);
        expect((await w.d.packets.get(packetId))?.refundedTo).toBe('balance');
      }
      // Out of the due index either way: a later sweep changes nothing.
      await sweep(w.d, afterExpiry(w) + 120 * 60_000);
      expect(await balance(w.api, s)).toBe(outcome === 'SUCCESS' ? 0 : remainder);
      await expectSound(w);
    },
  );
});
