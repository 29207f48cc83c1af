/**
 * The WeChat Pay adapter against the local simulator, both in this process: every call, the
 * state machines, idempotency by out_* number, notification delivery (verified and decrypted by
 * a tiny receiver with the adapter's own verifyNotification), faults (lost, failed, slow and
 * forged answers and notifications) and the protocol in both key modes.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createWeChatPay, type NotificationEvent, type WeChatPay } from '../../functions/src/wechatpay/client';
import {
  adapterConfigFor,
  generateWxPaySimKeys,
  loadOrCreateWxPaySimKeys,
  type WxPaySimKeys,
} from '../../scripts/wxpay-sim/keys';
import { startWxPaySim, type WxPaySim, type WxPaySimState } from '../../scripts/wxpay-sim/sim';

/** Polls until `pred` holds; the budget is the test's, generous for a loaded machine. */
async function waitFor<T>(what: string, get: () => T | undefined | false, budgetMs = 15_000): Promise<T> {
  const until = Date.now() + budgetMs;
  for (;;) {
    const v = get();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Received {
  status: number;
  result: ReturnType<WeChatPay['verifyNotification']>;
}

/** A notify URL: verifies and decrypts with the adapter, answers 204 / 401 like the API will, or 500 on demand for one order. */
async function startReceiver(verify: () => WeChatPay) {
  const received: Received[] = [];
  const failFor = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const result = verify().verifyNotification(req.headers, Buffer.concat(chunks).toString('utf8'));
      let status = result.kind === 'ok' ? 204 : 401;
      const order =
        result.kind === 'ok' && result.event.resourceType === 'transaction' ? result.event.transaction.outTradeNo : '';
      const fails = failFor.get(order) ?? 0;
      if (fails > 0) {
        failFor.set(order, fails - 1);
        status = 500;
      }
      received.push({ status, result });
      res
        .writeHead(status, { 'Content-Type': 'application/json' })
        .end(status === 204 ? '' : JSON.stringify({ code: 'FAIL', message: 'refused' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/pay/wechat/notify`,
    received,
    /** The next `n` deliveries for this order are answered 500. */
    failFor: (outTradeNo: string, n: number) => {
      failFor.set(outTradeNo, n);
    },
    events: (): NotificationEvent[] => received.flatMap((r) => (r.result.kind === 'ok' ? [r.result.event] : [])),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const OPENID = 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o';
let seq = 0;
const no = (prefix: string): string =>
  `${prefix}${Date.now().toString(36)}${(seq++).toString(36)}X`.replace(/[^A-Za-z0-9]/g, '');

let keys: WxPaySimKeys;
let sim: WxPaySim;
let pay: WeChatPay;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
const logLines: Array<{ level: string; msg: string; fields: Record<string, unknown> }> = [];

const hook = async (p: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
  const res = await fetch(sim.baseUrl + p, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
};
const simState = async (): Promise<WxPaySimState> =>
  (await (await fetch(`${sim.baseUrl}/sim/state`)).json()) as WxPaySimState;

beforeAll(async () => {
  keys = generateWxPaySimKeys();
  receiver = await startReceiver(() => pay);
  sim = await startWxPaySim({ keys, retryScale: 0.0001, refundSettleMs: null, notifyDelayMs: 300 });
  pay = createWeChatPay(adapterConfigFor(keys, sim.baseUrl, 5000), {
    log: (level, msg, fields) => logLines.push({ level, msg, fields }),
  });
});

afterAll(async () => {
  await sim.close();
  await receiver.close();
});

async function newOrder(amount = 1288) {
  const outTradeNo = no('pay');
  const r = await pay.createJsapiOrder({
    outTradeNo,
    description: '红包',
    amount,
    payerOpenid: OPENID,
    notifyUrl: receiver.url,
  });
  if (r.kind !== 'ok') throw new Error(`order: ${JSON.stringify(r)}`);
  return { outTradeNo, prepayId: r.prepayId, request: r.request };
}

async function paidOrder(amount = 1288) {
  const o = await newOrder(amount);
  expect((await hook(`/sim/payments/${o.prepayId}/pay`, {})).status).toBe(200);
  await waitFor('payment notification', () =>
    receiver.events().find((e) => e.resourceType === 'transaction' && e.transaction.outTradeNo === o.outTradeNo),
  );
  return o;
}

describe('JSAPI payments', () => {
  it('creates an order, signs wx.requestPayment, pays through the hook, notifies once and queries SUCCESS', async () => {
    const o = await newOrder(1288);
    expect(o.prepayId).toMatch(/^wx/);
    expect(o.request.package).toBe(`prepay_id=${o.prepayId}`);
    const msg = `${keys.appid}\n${o.request.timeStamp}\n${o.request.nonceStr}\n${o.request.package}\n`;
    expect(
      crypto.verify(
        'sha256',
        Buffer.from(msg),
        crypto.createPublicKey(keys.merchantPublicKey),
        Buffer.from(o.request.paySign, 'base64'),
      ),
    ).toBe(true);

    const before = await pay.queryOrder(o.outTradeNo);
    expect(before).toMatchObject({
      kind: 'ok',
      transaction: { outTradeNo: o.outTradeNo, state: 'NOTPAY', total: 1288, appid: keys.appid, mchid: keys.mchid },
    });

    // The user closing the sheet changes nothing at WeChat: still payable.
    expect((await hook(`/sim/payments/${o.prepayId}/cancel`, {})).json).toMatchObject({ state: 'NOTPAY' });
    expect((await hook(`/sim/payments/${o.prepayId}/pay`, {})).json).toMatchObject({ state: 'SUCCESS' });
    const event = await waitFor('notification', () =>
      receiver.events().find((e) => e.resourceType === 'transaction' && e.transaction.outTradeNo === o.outTradeNo),
    );
    expect(event).toMatchObject({
      eventType: 'TRANSACTION.SUCCESS',
      resourceType: 'transaction',
      transaction: {
        state: 'SUCCESS',
        total: 1288,
        payerTotal: 1288,
        appid: keys.appid,
        mchid: keys.mchid,
        payerOpenid: OPENID,
      },
    });

    // Paying again is a no-op: no second notification.
    expect((await hook(`/sim/payments/${o.prepayId}/pay`, {})).json).toMatchObject({ state: 'SUCCESS' });
    const after = await pay.queryOrder(o.outTradeNo);
    expect(after).toMatchObject({
      kind: 'ok',
      transaction: {
        state: 'SUCCESS',
        transactionId: expect.any(String),
        successTime: expect.stringMatching(/\+08:00$/),
      },
    });
    expect(
      receiver.events().filter((e) => e.resourceType === 'transaction' && e.transaction.outTradeNo === o.outTradeNo),
    ).toHaveLength(1);

    // A paid order can neither be re-created nor closed.
    expect(
      await pay.createJsapiOrder({
        outTradeNo: o.outTradeNo,
        description: '红包',
        amount: 1288,
        payerOpenid: OPENID,
        notifyUrl: receiver.url,
      }),
    ).toMatchObject({ kind: 'rejected', code: 'ORDERPAID' });
    expect(await pay.closeOrder(o.outTradeNo)).toMatchObject({
      kind: 'rejected',
      status: 400,
      code: 'ORDERPAID',
      retryable: false,
    });
    expect((await simState()).payments).toContainEqual({
      outTradeNo: o.outTradeNo,
      prepayId: o.prepayId,
      amount: 1288,
      state: 'SUCCESS',
    });
  });

  it('the same out_trade_no is the same order; another amount under it is refused', async () => {
    const o = await newOrder(500);
    const again = await pay.createJsapiOrder({
      outTradeNo: o.outTradeNo,
      description: '红包',
      amount: 500,
      payerOpenid: OPENID,
      notifyUrl: receiver.url,
    });
    expect(again).toMatchObject({ kind: 'ok', prepayId: o.prepayId });
    const other = await pay.createJsapiOrder({
      outTradeNo: o.outTradeNo,
      description: '红包',
      amount: 501,
      payerOpenid: OPENID,
      notifyUrl: receiver.url,
    });
    expect(other).toMatchObject({ kind: 'rejected', status: 403, code: 'OUT_TRADE_NO_USED' });
    expect((await simState()).payments.filter((p) => p.outTradeNo === o.outTradeNo)).toEqual([
      { outTradeNo: o.outTradeNo, prepayId: o.prepayId, amount: 500, state: 'NOTPAY' },
    ]);
  });

  it('closes an unpaid order (idempotently); a closed order cannot be paid or re-created', async () => {
    const o = await newOrder(300);
    expect(await pay.closeOrder(o.outTradeNo)).toEqual({ kind: 'ok' });
    expect(await pay.closeOrder(o.outTradeNo)).toEqual({ kind: 'ok' });
    expect(await pay.queryOrder(o.outTradeNo)).toMatchObject({ kind: 'ok', transaction: { state: 'CLOSED' } });
    expect((await hook(`/sim/payments/${o.prepayId}/pay`, {})).status).toBe(409);
    expect(
      await pay.createJsapiOrder({
        outTradeNo: o.outTradeNo,
        description: '红包',
        amount: 300,
        payerOpenid: OPENID,
        notifyUrl: receiver.url,
      }),
    ).toMatchObject({ kind: 'rejected', code: 'ORDER_CLOSED' });
  });

  it('an unknown number is not_found; a malformed one never leaves the process', async () => {
    expect(await pay.queryOrder('nosuchorder1')).toEqual({ kind: 'not_found' });
    await expect(pay.queryOrder('a/b')).rejects.toThrow(RangeError);
    await expect(
      pay.createJsapiOrder({
        outTradeNo: 'abcdef1',
        description: 'x',
        amount: 1.5,
        payerOpenid: OPENID,
        notifyUrl: receiver.url,
      }),
    ).rejects.toThrow(RangeError);
  });
});

describe('refunds', () => {
  it('PROCESSING → SUCCESS with a notification; the same number is the same refund; another amount under it and over-refunds are refused', async () => {
    const o = await paidOrder(1000);
    const outRefundNo = no('rf');
    const r = await pay.createRefund({
      outTradeNo: o.outTradeNo,
      outRefundNo,
      amount: 400,
      total: 1000,
      notifyUrl: receiver.url,
    });
    expect(r).toMatchObject({
      kind: 'ok',
      refund: { outRefundNo, outTradeNo: o.outTradeNo, status: 'PROCESSING', refund: 400, total: 1000 },
    });
    const again = await pay.createRefund({
      outTradeNo: o.outTradeNo,
      outRefundNo,
      amount: 400,
      total: 1000,
      notifyUrl: receiver.url,
    });
    expect(again.kind === 'ok' && r.kind === 'ok' && again.refund.refundId === r.refund.refundId).toBe(true);
    expect(await pay.createRefund({ outTradeNo: o.outTradeNo, outRefundNo, amount: 401, total: 1000 })).toMatchObject({
      kind: 'rejected',
      code: 'INVALID_REQUEST',
    });
    expect(
      await pay.createRefund({ outTradeNo: o.outTradeNo, outRefundNo: no('rf'), amount: 601, total: 1000 }),
    ).toMatchObject({ kind: 'rejected', code: 'INVALID_REQUEST' });
    expect(await pay.queryOrder(o.outTradeNo)).toMatchObject({ kind: 'ok', transaction: { state: 'REFUND' } });

    expect((await hook(`/sim/refunds/${outRefundNo}/settle`, { state: 'SUCCESS' })).json).toMatchObject({
      state: 'SUCCESS',
    });
    const event = await waitFor('refund notification', () =>
      receiver.events().find((e) => e.resourceType === 'refund' && e.refund.outRefundNo === outRefundNo),
    );
    expect(event).toMatchObject({
      eventType: 'REFUND.SUCCESS',
      refund: { status: 'SUCCESS', refund: 400, total: 1000, outTradeNo: o.outTradeNo },
    });
    expect(await pay.queryRefund(outRefundNo)).toMatchObject({
      kind: 'ok',
      refund: { status: 'SUCCESS', successTime: expect.any(String) },
    });
    expect((await simState()).refunds).toContainEqual({
      outRefundNo,
      outTradeNo: o.outTradeNo,
      amount: 400,
      state: 'SUCCESS',
    });
    // The rest of the order is still refundable, exactly.
    expect(
      await pay.createRefund({ outTradeNo: o.outTradeNo, outRefundNo: no('rf'), amount: 600, total: 1000 }),
    ).toMatchObject({ kind: 'ok' });
  });

  it('PROCESSING → ABNORMAL; refunds of unpaid or unknown orders are refused; unknown refund is not_found', async () => {
    const o = await paidOrder(200);
    const outRefundNo = no('rf');
    expect(await pay.createRefund({ outTradeNo: o.outTradeNo, outRefundNo, amount: 200, total: 200 })).toMatchObject({
      kind: 'ok',
    });
    await hook(`/sim/refunds/${outRefundNo}/settle`, { state: 'ABNORMAL' });
    expect(await pay.queryRefund(outRefundNo)).toMatchObject({ kind: 'ok', refund: { status: 'ABNORMAL' } });
    const unpaid = await newOrder(200);
    expect(
      await pay.createRefund({ outTradeNo: unpaid.outTradeNo, outRefundNo: no('rf'), amount: 100, total: 200 }),
    ).toMatchObject({ kind: 'rejected', code: 'INVALID_REQUEST' });
    expect(
      await pay.createRefund({ outTradeNo: 'nosuchorder2', outRefundNo: no('rf'), amount: 100, total: 200 }),
    ).toMatchObject({ kind: 'rejected', status: 404, code: 'RESOURCE_NOT_EXISTS' });
    expect(await pay.queryRefund('nosuchrefund')).toEqual({ kind: 'not_found' });
  });
});

describe('merchant transfers (user confirmation)', () => {
  const transfer = (outBillNo: string, amount = 5000) =>
    pay.createTransfer({
      outBillNo,
      openid: OPENID,
      amount,
      remark: '红包提现',
      sceneId: '1000',
      sceneReportInfos: [{ infoType: '活动名称', infoContent: '红包' }],
      notifyUrl: receiver.url,
    });

  it('WAIT_USER_CONFIRM with package_info → confirm → SUCCESS with a notification; idempotent by out_bill_no', async () => {
    const outBillNo = no('wd');
    const r = await transfer(outBillNo);
    expect(r).toMatchObject({
      kind: 'ok',
      bill: { outBillNo, state: 'WAIT_USER_CONFIRM', packageInfo: expect.any(String) },
    });
    if (r.kind !== 'ok') return;
    expect(pay.transferConfirmParams(r.bill.packageInfo!)).toEqual({
      mchId: keys.mchid,
      appId: keys.appid,
      package: r.bill.packageInfo,
    });
    const again = await transfer(outBillNo);
    expect(again).toMatchObject({
      kind: 'ok',
      bill: { transferBillNo: r.bill.transferBillNo, state: 'WAIT_USER_CONFIRM', packageInfo: r.bill.packageInfo },
    });
    expect(await transfer(outBillNo, 5001)).toMatchObject({ kind: 'rejected', code: 'INVALID_REQUEST' });

    expect((await hook(`/sim/transfers/${outBillNo}/confirm`, {})).json).toMatchObject({ state: 'SUCCESS' });
    const event = await waitFor('transfer notification', () =>
      receiver.events().find((e) => e.resourceType === 'transfer_bill' && e.bill.outBillNo === outBillNo),
    );
    expect(event).toMatchObject({
      eventType: 'MCHTRANSFER.BILL.FINISHED',
      bill: { state: 'SUCCESS', amount: 5000, transferBillNo: r.bill.transferBillNo },
    });
    expect(await pay.queryTransfer(outBillNo)).toMatchObject({
      kind: 'ok',
      bill: { state: 'SUCCESS', amount: 5000, openid: OPENID },
    });
    expect(await pay.cancelTransfer(outBillNo)).toMatchObject({ kind: 'rejected', code: 'INVALID_REQUEST' });
    expect((await simState()).transfers).toContainEqual({ outBillNo, amount: 5000, state: 'SUCCESS' });
    // Once final, the same number answers the final state (no new package to confirm).
    const final = await transfer(outBillNo);
    expect(final.kind === 'ok' && final.bill.state === 'SUCCESS' && final.bill.packageInfo === undefined).toBe(true);
  });

  it('cancel → CANCELLED (idempotently); reject → FAIL; expire → FAIL OVERDUE_CLOSE; below 0.1 yuan never sent', async () => {
    const a = no('wd');
    await transfer(a);
    expect(await pay.cancelTransfer(a)).toMatchObject({ kind: 'ok', bill: { outBillNo: a, state: 'CANCELLED' } });
    expect(await pay.cancelTransfer(a)).toMatchObject({ kind: 'ok', bill: { state: 'CANCELLED' } });
    expect((await hook(`/sim/transfers/${a}/confirm`, {})).status).toBe(409);

    const b = no('wd');
    await transfer(b);
    await hook(`/sim/transfers/${b}/reject`, {});
    expect(await pay.queryTransfer(b)).toMatchObject({
      kind: 'ok',
      bill: { state: 'FAIL', failReason: expect.any(String) },
    });

    const c = no('wd');
    await transfer(c);
    await hook(`/sim/transfers/${c}/expire`, {});
    expect(await pay.queryTransfer(c)).toMatchObject({
      kind: 'ok',
      bill: { state: 'FAIL', failReason: 'OVERDUE_CLOSE' },
    });
    const events = await waitFor('three final notifications', () => {
      const got = receiver
        .events()
        .filter((e) => e.resourceType === 'transfer_bill' && [a, b, c].includes(e.bill.outBillNo));
      return got.length === 3 && got;
    });
    expect(events.map((e) => (e.resourceType === 'transfer_bill' ? e.bill.state : '')).sort()).toEqual([
      'CANCELLED',
      'FAIL',
      'FAIL',
    ]);

    await expect(transfer(no('wd'), 9)).rejects.toThrow(RangeError);
    expect(await pay.queryTransfer('nosuchbill')).toEqual({ kind: 'not_found' });
  });
});

describe('answers that cannot be trusted or never came', () => {
  it('lost answer: the adapter says unknown, a query tells the truth, the same number does not double', async () => {
    const outBillNo = no('wd');
    await hook('/sim/faults', { answer: 'lost' });
    const r = await pay.createTransfer({
      outBillNo,
      openid: OPENID,
      amount: 2000,
      remark: '提现',
      sceneId: '1000',
      sceneReportInfos: [],
    });
    expect(r).toEqual({ kind: 'unknown', reason: 'network' });
    expect(await pay.queryTransfer(outBillNo)).toMatchObject({
      kind: 'ok',
      bill: { state: 'WAIT_USER_CONFIRM', amount: 2000 },
    });
    const again = await pay.createTransfer({
      outBillNo,
      openid: OPENID,
      amount: 2000,
      remark: '提现',
      sceneId: '1000',
      sceneReportInfos: [],
    });
    expect(again).toMatchObject({ kind: 'ok', bill: { state: 'WAIT_USER_CONFIRM' } });
    expect((await simState()).transfers.filter((t) => t.outBillNo === outBillNo)).toHaveLength(1);
  });

  it('500 after applying: unknown server_error, and the order exists', async () => {
    const outTradeNo = no('pay');
    await hook('/sim/faults', { answer: 'error' });
    expect(
      await pay.createJsapiOrder({
        outTradeNo,
        description: '红包',
        amount: 100,
        payerOpenid: OPENID,
        notifyUrl: receiver.url,
      }),
    ).toEqual({ kind: 'unknown', reason: 'server_error', status: 500 });
    expect(await pay.queryOrder(outTradeNo)).toMatchObject({
      kind: 'ok',
      transaction: { state: 'NOTPAY', total: 100 },
    });
  });

  it('slow answer past the budget: unknown timeout; the refund happened and a query says so', async () => {
    const o = await paidOrder(700);
    const fast = createWeChatPay(adapterConfigFor(keys, sim.baseUrl, 300), { log: () => undefined });
    const outRefundNo = no('rf');
    await hook('/sim/faults', { answer: 'slow', ms: 3000 });
    expect(await fast.createRefund({ outTradeNo: o.outTradeNo, outRefundNo, amount: 700, total: 700 })).toEqual({
      kind: 'unknown',
      reason: 'timeout',
    });
    expect(await pay.queryRefund(outRefundNo)).toMatchObject({
      kind: 'ok',
      refund: { status: 'PROCESSING', refund: 700 },
    });
  });

  it('an answer signed with another key is unknown, never ok or rejected', async () => {
    const outTradeNo = no('pay');
    await hook('/sim/faults', { answer: 'bad_signature' });
    expect(
      await pay.createJsapiOrder({
        outTradeNo,
        description: '红包',
        amount: 100,
        payerOpenid: OPENID,
        notifyUrl: receiver.url,
      }),
    ).toEqual({ kind: 'unknown', reason: 'unverified_answer', status: 200 });
    // An adapter that trusts another key under the same id refuses every answer.
    const other = crypto
      .generateKeyPairSync('rsa', { modulusLength: 2048 })
      .publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const misconfigured = createWeChatPay(
      { ...adapterConfigFor(keys, sim.baseUrl, 5000), platformKeys: { [keys.platformPublicKeyId]: other } },
      { log: () => undefined },
    );
    expect(await misconfigured.queryOrder(outTradeNo)).toEqual({
      kind: 'unknown',
      reason: 'unverified_answer',
      status: 200,
    });
  });

  it('the simulator refuses a request signed with another merchant key (401 SIGN_ERROR) and does nothing', async () => {
    const otherKey = crypto
      .generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const impostor = createWeChatPay(
      { ...adapterConfigFor(keys, sim.baseUrl, 5000), merchantPrivateKey: otherKey },
      { log: () => undefined },
    );
    const outTradeNo = no('pay');
    expect(
      await impostor.createJsapiOrder({
        outTradeNo,
        description: '红包',
        amount: 100,
        payerOpenid: OPENID,
        notifyUrl: receiver.url,
      }),
    ).toMatchObject({ kind: 'rejected', status: 401, code: 'SIGN_ERROR' });
    // A request timestamp 10 minutes off is refused too (the 401 then fails our own freshness check: unknown).
    const skewed = createWeChatPay(adapterConfigFor(keys, sim.baseUrl, 5000), {
      log: () => undefined,
      now: () => Date.now() - 600_000,
    });
    expect(
      await skewed.createJsapiOrder({
        outTradeNo,
        description: '红包',
        amount: 100,
        payerOpenid: OPENID,
        notifyUrl: receiver.url,
      }),
    ).toMatchObject({ kind: 'unknown', reason: 'unverified_answer', status: 401 });
    expect((await simState()).payments.some((p) => p.outTradeNo === outTradeNo)).toBe(false);
  });
});

describe('notification delivery', () => {
  const countFor = (outTradeNo: string) =>
    receiver.received.filter(
      (r) =>
        r.result.kind === 'ok' &&
        r.result.event.resourceType === 'transaction' &&
        r.result.event.transaction.outTradeNo === outTradeNo,
    );

  it('retries on non-2xx on the (compressed) WeChat schedule until it is taken', async () => {
    const o = await newOrder(100);
    receiver.failFor(o.outTradeNo, 2);
    const before = sim.notifications().length;
    await hook(`/sim/payments/${o.prepayId}/pay`, {});
    const rec = await waitFor('delivery after retries', () => {
      const r = sim.notifications()[before];
      return r?.delivered && r;
    });
    expect(rec.eventType).toBe('TRANSACTION.SUCCESS');
    expect(rec.statuses).toEqual([500, 500, 204]);
    expect(countFor(o.outTradeNo).map((r) => r.status)).toEqual([500, 500, 204]);
  });

  it('duplicate: the same notification id arrives twice, both verify', async () => {
    const o = await newOrder(100);
    await hook('/sim/faults', { notify: 'duplicate' });
    await hook(`/sim/payments/${o.prepayId}/pay`, {});
    const got = await waitFor('two copies', () => countFor(o.outTradeNo).length === 2 && countFor(o.outTradeNo));
    const ids = got.map((r) => (r.result.kind === 'ok' ? r.result.event.id : ''));
    expect(ids[0]).toBe(ids[1]);
    expect(ids[0]).not.toBe('');
  });

  it('forge: the receiver refuses it (bad signature), the simulator gives up, and only a query shows the payment', async () => {
    const o = await newOrder(100);
    await hook('/sim/faults', { notify: 'forge' });
    const before = receiver.received.length;
    await hook(`/sim/payments/${o.prepayId}/pay`, {});
    const r = await waitFor('forged delivery', () =>
      receiver.received.slice(before).find((x) => x.result.kind === 'invalid'),
    );
    expect(r).toEqual({ status: 401, result: { kind: 'invalid', reason: 'bad_signature' } });
    expect(await pay.queryOrder(o.outTradeNo)).toMatchObject({ kind: 'ok', transaction: { state: 'SUCCESS' } });
    expect(countFor(o.outTradeNo)).toHaveLength(0);
  });

  it('drop: nothing arrives (the record says so); delay: it arrives later', async () => {
    const dropped = await newOrder(100);
    await hook('/sim/faults', { notify: 'drop' });
    const n = sim.notifications().length;
    await hook(`/sim/payments/${dropped.prepayId}/pay`, {});
    expect(sim.notifications()[n]).toMatchObject({ fault: 'drop', attempts: 0, delivered: false });

    const late = await newOrder(100);
    await hook('/sim/faults', { notify: 'delay', ms: 1000 });
    const sent = performance.now();
    await hook(`/sim/payments/${late.prepayId}/pay`, {});
    const rec = sim.notifications().at(-1);
    expect(rec).toMatchObject({ fault: 'delay', attempts: 0 });
    await waitFor('delayed delivery', () => countFor(late.outTradeNo).length === 1);
    // The timer started after `sent`; 5 ms of slack for timer rounding only.
    expect(performance.now() - sent).toBeGreaterThanOrEqual(995);
    expect(countFor(dropped.outTradeNo)).toHaveLength(0);
  });

  it('refuses a notification replayed past 5 minutes, a bad resource and a bad fault request', async () => {
    const body = JSON.stringify({
      id: 'x',
      event_type: 'TRANSACTION.SUCCESS',
      resource: {
        original_type: 'transaction',
        algorithm: 'AEAD_AES_256_GCM',
        ciphertext: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAA',
        nonce: 'abcdefghijkl',
        associated_data: 'transaction',
      },
    });
    const ts = String(Math.floor(Date.now() / 1000));
    const sign = (t: string) =>
      crypto
        .sign('sha256', Buffer.from(`${t}\nn\n${body}\n`), crypto.createPrivateKey(keys.platformPrivateKey))
        .toString('base64');
    const headers = (t: string) => ({
      'wechatpay-signature': sign(t),
      'wechatpay-timestamp': t,
      'wechatpay-nonce': 'n',
      'wechatpay-serial': keys.platformPublicKeyId,
    });
    expect(pay.verifyNotification(headers(ts), body)).toEqual({ kind: 'invalid', reason: 'decrypt_failed' });
    expect(pay.verifyNotification(headers(String(Number(ts) - 400)), body)).toEqual({
      kind: 'invalid',
      reason: 'stale_timestamp',
    });
    expect((await hook('/sim/faults', { notify: 'sometimes' })).status).toBe(400);
    expect((await hook('/sim/faults', {})).status).toBe(400);
  });
});

describe('certificate mode and key files', () => {
  it('verifies answers signed under a platform certificate serial', async () => {
    const dir = path.join(__dirname, '..', 'fixtures', 'wechatpay');
    const certPem = fs.readFileSync(path.join(dir, 'platform-cert.pem'), 'utf8');
    const serial = new crypto.X509Certificate(certPem).serialNumber;
    const certKeys = { ...keys, platformPrivateKey: fs.readFileSync(path.join(dir, 'platform-cert.key'), 'utf8') };
    const certSim = await startWxPaySim({ keys: certKeys, platformSerial: serial });
    try {
      const adapter = createWeChatPay(
        { ...adapterConfigFor(certKeys, certSim.baseUrl, 5000), platformKeys: { [serial]: certPem } },
        { log: () => undefined },
      );
      expect(await adapter.queryOrder('nosuchorder3')).toEqual({ kind: 'not_found' });
      const outTradeNo = no('pay');
      expect(
        await adapter.createJsapiOrder({
          outTradeNo,
          description: '红包',
          amount: 100,
          payerOpenid: OPENID,
          notifyUrl: receiver.url,
        }),
      ).toMatchObject({ kind: 'ok' });
      // An adapter that trusts only the public key id does not know this serial.
      const mismatch = createWeChatPay(adapterConfigFor(certKeys, certSim.baseUrl, 5000), { log: () => undefined });
      expect(await mismatch.queryOrder(outTradeNo)).toEqual({
        kind: 'unknown',
        reason: 'unverified_answer',
        status: 200,
      });
    } finally {
      await certSim.close();
    }
  });

  it('keeps keys in a JSON file between runs (mode 0600) and refuses a corrupt one', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wxsim-'));
    const file = path.join(dir, 'sub', 'wxpay-sim-keys.json');
    const first = loadOrCreateWxPaySimKeys(file);
    expect(loadOrCreateWxPaySimKeys(file)).toEqual(first);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    fs.writeFileSync(file, '{"mchid":"1"}');
    expect(() => loadOrCreateWxPaySimKeys(file)).toThrow(/not a WeChat Pay simulator key file/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('logs', () => {
  it('never hold keys, signatures, openids or bodies', () => {
    expect(logLines.length).toBeGreaterThan(10);
    const text = JSON.stringify(logLines);
    expect(text).not.toContain(OPENID);
    expect(text).not.toContain(keys.apiV3Key);
    expect(text).not.toMatch(/BEGIN|signature="|paySign|prepay_id/);
    expect(
      logLines.every((l) =>
        Object.keys(l.fields).every((k) => ['op', 'outcome', 'ms', 'status', 'code', 'reason', 'check'].includes(k)),
      ),
    ).toBe(true);
  });
});

describe('adapter edge answers (stub fetch, no simulator)', () => {
  const signed = (status: number, body: string, extra: Record<string, string> = {}): Response => {
    const ts = String(Math.floor(Date.now() / 1000));
    const nonce = 'stubnonce';
    const signature = crypto
      .sign('sha256', Buffer.from(`${ts}\n${nonce}\n${body}\n`), crypto.createPrivateKey(keys.platformPrivateKey))
      .toString('base64');
    return new Response(body === '' ? null : body, {
      status,
      headers: {
        'Wechatpay-Timestamp': ts,
        'Wechatpay-Nonce': nonce,
        'Wechatpay-Serial': keys.platformPublicKeyId,
        'Wechatpay-Signature': signature,
        ...extra,
      },
    });
  };
  const stub = (answer: () => Response | Promise<Response>) => {
    const calls: Array<{ url: string; init: RequestInit }> = [];
    const adapter = createWeChatPay(adapterConfigFor(keys, 'https://api.example.test/', 5000), {
      log: () => undefined,
      fetch: (async (url: string, init: RequestInit) => {
        calls.push({ url, init });
        return answer();
      }) as unknown as typeof fetch,
    });
    return { adapter, calls };
  };
  const order = {
    outTradeNo: 'stuborder1',
    description: '红包',
    amount: 100,
    payerOpenid: OPENID,
    notifyUrl: 'https://x.test/n',
  };

  it('signs each request over METHOD, path+query, timestamp, nonce and body, and sends it once', async () => {
    const { adapter, calls } = stub(() => signed(200, '{"prepay_id":"wx1"}'));
    expect(await adapter.createJsapiOrder(order)).toMatchObject({ kind: 'ok', prepayId: 'wx1' });
    await adapter.queryOrder('stuborder1');
    expect(calls.map((c) => c.url)).toEqual([
      'https://api.example.test/v3/pay/transactions/jsapi',
      `https://api.example.test/v3/pay/transactions/out-trade-no/stuborder1?mchid=${keys.mchid}`,
    ]);
    const merchantPub = crypto.createPublicKey(keys.merchantPublicKey);
    for (const [i, path] of [
      '/v3/pay/transactions/jsapi',
      `/v3/pay/transactions/out-trade-no/stuborder1?mchid=${keys.mchid}`,
    ].entries()) {
      const init = calls[i]!.init;
      const headers = init.headers as Record<string, string>;
      const auth = headers.Authorization!;
      const f = Object.fromEntries([...auth.matchAll(/([a-z_]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
      expect(f.mchid).toBe(keys.mchid);
      expect(f.serial_no).toBe(keys.merchantSerialNo);
      const body = typeof init.body === 'string' ? init.body : '';
      const msg = `${init.method}\n${path}\n${f.timestamp}\n${f.nonce_str}\n${body}\n`;
      expect(crypto.verify('sha256', Buffer.from(msg), merchantPub, Buffer.from(f.signature!, 'base64'))).toBe(true);
    }
    expect(JSON.parse(calls[0]!.init.body as string)).toEqual({
      appid: keys.appid,
      mchid: keys.mchid,
      description: '红包',
      out_trade_no: 'stuborder1',
      notify_url: 'https://x.test/n',
      amount: { total: 100, currency: 'CNY' },
      payer: { openid: OPENID },
    });
    expect(calls[1]!.init.body).toBeUndefined();
  });

  it('429 is a retryable refusal; an unsigned 4xx, bad JSON or a missing field is unknown; a network error is unknown, never retried', async () => {
    expect(
      await stub(() => signed(429, '{"code":"FREQUENCY_LIMITED","message":"频率超限"}')).adapter.createJsapiOrder(
        order,
      ),
    ).toEqual({
      kind: 'rejected',
      status: 429,
      code: 'FREQUENCY_LIMITED',
      message: '频率超限',
      retryable: true,
    });
    expect(
      await stub(() => new Response('{"code":"PARAM_ERROR","message":"x"}', { status: 400 })).adapter.createJsapiOrder(
        order,
      ),
    ).toEqual({ kind: 'unknown', reason: 'unverified_answer', status: 400 });
    expect(await stub(() => signed(200, '{not json')).adapter.createJsapiOrder(order)).toEqual({
      kind: 'unknown',
      reason: 'malformed_answer',
      status: 200,
    });
    expect(await stub(() => signed(200, '{"something":"else"}')).adapter.createJsapiOrder(order)).toEqual({
      kind: 'unknown',
      reason: 'malformed_answer',
      status: 200,
    });
    const failing = stub(() => Promise.reject(new TypeError('fetch failed')));
    expect(
      await failing.adapter.createTransfer({
        outBillNo: 'stubbill1',
        openid: OPENID,
        amount: 100,
        remark: 'x',
        sceneId: '1000',
        sceneReportInfos: [],
      }),
    ).toEqual({ kind: 'unknown', reason: 'network' });
    expect(failing.calls).toHaveLength(1);
    const stale = stub(() => {
      const r = signed(200, '{"prepay_id":"wx1"}');
      const h = new Headers(r.headers);
      h.set('Wechatpay-Timestamp', String(Math.floor(Date.now() / 1000) - 301));
      return new Response('{"prepay_id":"wx1"}', { status: 200, headers: h });
    });
    expect(await stale.adapter.createJsapiOrder(order)).toEqual({
      kind: 'unknown',
      reason: 'unverified_answer',
      status: 200,
    });
  });

  it('refuses a configuration it cannot use', () => {
    const base = adapterConfigFor(keys, 'https://api.example.test', 5000);
    expect(() => createWeChatPay({ ...base, apiV3Key: 'short' })).toThrow(/32 bytes/);
    expect(() => createWeChatPay({ ...base, platformKeys: {} })).toThrow(/no platform key/);
    expect(() => createWeChatPay({ ...base, merchantPrivateKey: 'nope' })).toThrow();
  });
});
