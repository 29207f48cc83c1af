import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import { hasCjkFonts, launchChromium } from '../helpers/browser';
import { call, startStack, type Stack } from './stack';

/**
 * End to end in headless Chromium (driven by playwright-core; Debian's when installed, else the
 * npm package's: test/helpers/browser.ts) against the real local stack: API through
 * serverless-offline, dynalite, the H5 build. Two browser contexts: alice sends, bob claims.
 *
 * Screenshots: the README's images in docs/screenshots come from this test, but only where a
 * CJK font is installed — elsewhere Chinese renders as boxes, so they go to a temp folder and
 * the README keeps its good ones.
 *
 * QR decoding: jsQR (npm) always, and it must decode; zbarimg (Debian zbar-tools), when
 * installed, must decode the same screenshot to the same text. The test's title says which ran.
 */
const README_SHOTS = path.resolve(__dirname, '..', '..', 'docs', 'screenshots');
const CJK_FONTS = hasCjkFonts();
const SHOTS = CJK_FONTS ? README_SHOTS : mkdtempSync(path.join(tmpdir(), 'hongbao-e2e-shots-'));
const ZBARIMG = spawnSync('zbarimg', ['--version'], { encoding: 'utf8' }).status === 0;
const DECODERS = ZBARIMG ? 'jsQR and zbarimg' : 'jsQR; zbarimg not installed';

let stack: Stack;
let browser: Browser;
let alice: Page;
let bob: Page;
let aliceCtx: BrowserContext;
let bobCtx: BrowserContext;
const suffix = randomBytes(3).toString('hex');

async function login(page: Page, name: string) {
  await page.goto(`${stack.app}/#/pages/login/index`);
  await page.getByLabel('昵称').fill(name);
  await page.getByLabel('登录').click();
  await page.getByLabel('余额').waitFor();
}

/**
 * Screenshot the QR canvas and decode it with jsQR — and with zbarimg too when it is installed,
 * which must agree. The canvas is drawn with a white quiet zone.
 */
async function decodeQr(page: Page, id = 'packet-qr'): Promise<string> {
  const target = page.locator(`[canvas-id="${id}"] canvas, canvas#${id}, #${id} canvas`).first();
  const shot = await target.screenshot();
  const png = PNG.sync.read(shot);
  const found = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  if (!found) throw new Error('jsQR found no QR code in the screenshot');
  if (ZBARIMG) expect(zbarDecode(shot)).toBe(found.data);
  return found.data;
}

/** zbarimg's reading of a PNG (`--raw`: the payload only, one line per symbol). */
function zbarDecode(png: Buffer): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'hongbao-qr-'));
  try {
    const file = path.join(dir, 'qr.png');
    writeFileSync(file, png);
    const res = spawnSync('zbarimg', ['--raw', '--quiet', file], { encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`zbarimg found no QR code (exit ${res.status}): ${res.stderr}`);
    return res.stdout.replace(/\n$/, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The links of the live codes the API issues to `page` (what its QR codes must show), each
 * checked to be `<app>/o/<code>`: locally PUBLIC_BASE_URL is the app's own address.
 */
function codesFrom(page: Page): string[] {
  const links: string[] = [];
  const add = (c: { code: string; link: string }) => {
    expect(c.link).toBe(`${stack.app}/o/${c.code}`);
    links.push(c.link);
  };
  page.on('response', async (r: Response) => {
    const url = r.url();
    if (r.request().method() !== 'POST' || r.status() !== 201) return;
    try {
      if (/\/v1\/packets$/.test(url)) add(((await r.json()) as { code: { code: string; link: string } }).code);
      else if (/\/v1\/packets\/[^/]+\/codes$/.test(url)) add((await r.json()) as { code: string; link: string });
    } catch {
      /* a response body may be gone after navigation */
    }
  });
  return links;
}

/** The code in a code link, `<app>/o/<code>`. */
const codeOfLink = (link: string) => decodeURIComponent(new URL(link).pathname.replace(/^\/o\//, ''));

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  stack = await startStack();
  const launched = await launchChromium();
  browser = launched.browser;
  console.info(
    [
      `browser: ${launched.chromium.description}`,
      `QR decoders: ${DECODERS}`,
      CJK_FONTS
        ? `screenshots: ${SHOTS}`
        : `screenshots: ${SHOTS} (no CJK font installed, e.g. Debian fonts-noto-cjk: docs/screenshots left as they are)`,
    ].join('\n'),
  );
  aliceCtx = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, locale: 'zh-CN' });
  bobCtx = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, locale: 'zh-CN' });
  await aliceCtx.grantPermissions(['clipboard-read', 'clipboard-write']);
  alice = await aliceCtx.newPage();
  bob = await bobCtx.newPage();
}, 420_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
}, 60_000);

describe('the app in a real browser', () => {
  let liveCodes: string[];
  let bobCode = '';

  test('alice logs in, tops up and sends a 3-share lucky packet in at most 4 steps', async () => {
    liveCodes = codesFrom(alice);
    await login(alice, `alice${suffix}`);
    await alice.screenshot({ path: path.join(SHOTS, 'home.png') });
    await alice.getByLabel('零钱').click();
    await alice.getByLabel('充值金额（元）').fill('100');
    await alice.getByLabel('充值', { exact: true }).click();
    await eventuallyContains(alice.getByLabel('余额'), '100.00');
    await pagesAtRest(alice);
    await alice.screenshot({ path: path.join(SHOTS, 'wallet.png') });
    await alice.goto(`${stack.app}/#/pages/home/index`);
    await alice.getByLabel('余额').waitFor();

    // Step 1: 发红包 · step 2: amount and count · step 3: 塞钱进红包 · step 4: 确认支付.
    await alice.getByLabel('发红包').click();
    await alice.getByLabel('总金额（元）').fill('9.99');
    await alice.getByLabel('红包个数').fill('3');
    await alice.getByLabel('祝福语').fill('端到端快乐');
    await expectNoSidewaysScroll(alice);
    await pagesAtRest(alice);
    await alice.screenshot({ path: path.join(SHOTS, 'send.png') });
    await alice.getByLabel('塞钱进红包').click();
    await alice.getByLabel('确认支付').click();
    await alice.getByLabel('领取进度').waitFor();
    expect(await alice.getByLabel('领取进度').textContent()).toContain('0/3');
  }, 120_000);

  test(`the QR code on screen decodes (${DECODERS}) to the link of the code the API issued, and a refresh gives a new valid one`, async () => {
    await alice.waitForTimeout(1500);
    const first = await decodeQr(alice);
    expect(liveCodes).toContain(first);
    await alice.screenshot({ path: path.join(SHOTS, 'packet.png') });
    // Wait past the code's refresh time (60 s): real time, so the server issues a new code.
    const before = liveCodes.length;
    const deadline = Date.now() + 75_000;
    while (liveCodes.length === before && Date.now() < deadline) await alice.waitForTimeout(1000);
    expect(liveCodes.length).toBeGreaterThan(before);
    await alice.waitForTimeout(1000);
    const second = await decodeQr(alice);
    expect(second).not.toBe(first);
    expect(liveCodes).toContain(second);
    bobCode = codeOfLink(second);
  }, 120_000);

  test('bob opens the deep link, sees the greeting, claims, and gets the same amount again', async () => {
    await login(bob, `bob${suffix}`);
    await bob.goto(`${stack.app}/#/pages/open/index?c=${encodeURIComponent(bobCode)}`);
    await eventuallyContains(bob.getByLabel('祝福语'), '端到端快乐');
    expect(await bob.getByLabel('发红包的人').textContent()).toContain(`alice${suffix}`);
    await bob.getByLabel('开红包').click();
    const amountEl = bob.getByLabel('领取金额');
    await amountEl.waitFor();
    await bob.waitForTimeout(800);
    const amount = (await amountEl.textContent())!.replace(/[^\d.]/g, '');
    expect(Number(amount)).toBeGreaterThan(0);
    await bob.screenshot({ path: path.join(SHOTS, 'open.png') });
    await bob.reload();
    await bob.getByLabel('领取金额').waitFor();
    expect((await bob.getByLabel('领取金额').textContent())!.replace(/[^\d.]/g, '')).toBe(amount);
    // alice's page shows 1/3 and bob in the list.
    await eventuallyContains(alice.getByLabel('领取进度'), '1/3', 20_000);
    await eventuallyContains(alice.locator('body'), `bob${suffix}`, 20_000);
  }, 120_000);

  test('a camera opens the QR: its link, in a fresh browser that is not logged in, logs in, opens the packet and claims', async () => {
    // A sender of its own (this test runs alone too: -t 'a camera opens the QR').
    const senderCtx = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      locale: 'zh-CN',
    });
    const cameraCtx = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    try {
      const sender = await senderCtx.newPage();
      const issued = codesFrom(sender);
      await login(sender, `frank${suffix}`);
      const token = await bearerOf(sender);
      expect(
        (await call(stack.api, 'POST', '/v1/wallet/topups', { token, idem: `cam-t${suffix}`, body: { amount: 1_000 } }))
          .status,
      ).toBe(201);
      const created = await call(stack.api, 'POST', '/v1/packets', {
        token,
        idem: `cam-p${suffix}`,
        body: { total: 300, count: 2, mode: 'lucky', greeting: '扫码快乐' },
      });
      expect(created.status).toBe(201);
      const packetId = created.body.packet.id as string;
      expect(created.body.shareCode.link).toBe(`${stack.app}/o/${created.body.shareCode.code}`);

      // The packet page fetches a live code and draws its link.
      await sender.goto(`${stack.app}/#/pages/packet/index?id=${encodeURIComponent(packetId)}`);
      await sender.getByLabel('领取进度').waitFor();
      await sender.waitForTimeout(1500);
      const link = await decodeQr(sender);
      expect(link.startsWith(`${stack.app}/o/1.`)).toBe(true);
      expect(issued).toContain(link);

      // What a phone camera does with it: open the URL in a browser of its own.
      const camera = await cameraCtx.newPage();
      const first = await camera.goto(link);
      expect(first?.request().redirectedFrom()?.url()).toBe(link);
      // The app's open page, then (no session in this browser) the login page, which comes back.
      expect(camera.url()).toContain('#/pages/');
      await camera.getByLabel('昵称').waitFor();
      expect(camera.url()).toContain('#/pages/login/index');
      await camera.getByLabel('昵称').fill(`grace${suffix}`);
      await camera.getByLabel('登录').click();
      await eventuallyContains(camera.getByLabel('祝福语'), '扫码快乐', 20_000);
      expect(camera.url()).toContain(`#/pages/open/index?c=${encodeURIComponent(codeOfLink(link))}`);
      await camera.getByLabel('开红包').click();
      const amount = camera.getByLabel('领取金额');
      await amount.waitFor();
      expect(Number((await amount.textContent())!.replace(/[^\d.]/g, ''))).toBeGreaterThan(0);
      const view = await call(stack.api, 'GET', `/v1/packets/${packetId}`, { token });
      expect(view.body.claims.map((c: { name: string }) => c.name)).toEqual([`grace${suffix}`]);
      await eventuallyContains(sender.getByLabel('领取进度'), '1/2', 20_000);

      // The app port's answers without a browser: the redirect, and a clear 400 page for a
      // path that cannot hold a code (not the app).
      const r = await fetch(link, { redirect: 'manual' });
      expect({ status: r.status, location: r.headers.get('location') }).toEqual({
        status: 302,
        location: `/#/pages/open/index?c=${encodeURIComponent(codeOfLink(link))}`,
      });
      for (const bad of ['/o/', '/o/a%20b', `/o/${'x'.repeat(107)}`, '/o/a/b', '/o/%E4%ZZ']) {
        const b = await fetch(`${stack.app}${bad}`, { redirect: 'manual' });
        const text = await b.text();
        expect({
          bad,
          status: b.status,
          invalid: text.includes('链接无效'),
          app: text.includes('__HONGBAO_API__'),
        }).toEqual({ bad, status: 400, invalid: true, app: false });
      }
    } finally {
      await senderCtx.close();
      await cameraCtx.close();
    }
  }, 180_000);

  test('a 收款码 QR opens the pay page: the receive code link, in another browser, names the payee', async () => {
    const payeeCtx = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      locale: 'zh-CN',
    });
    const payerCtx = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    try {
      const payee = await payeeCtx.newPage();
      const issued = payee.waitForResponse((r) => /\/v1\/receive-code$/.test(r.url()) && r.status() === 200);
      await login(payee, `ivy${suffix}`);
      await payee.goto(`${stack.app}/#/pages/receive/index`);
      const rc = (await (await issued).json()) as { code: string; link: string; kind: string };
      expect(rc).toMatchObject({ kind: 'receive', link: `${stack.app}/o/${rc.code}` });
      await payee.waitForTimeout(1500);
      const link = await decodeQr(payee, 'receive-qr');
      expect(link).toBe(rc.link);

      const payer = await payerCtx.newPage();
      await login(payer, `jack${suffix}`);
      await payer.goto(link);
      // The open page learns it is a receive code and hands it to the pay page.
      await eventuallyContains(payer.getByLabel('收款人'), `ivy${suffix}`, 20_000);
      expect(payer.url()).toContain('#/pages/pay/index');
    } finally {
      await payeeCtx.close();
      await payerCtx.close();
    }
  }, 120_000);

  test("alice pays for a packet with 微信支付 through the simulator's sheet; the app polls until paid and shows the QR", async () => {
    const token = await bearerOf(alice);
    const before = (await call(stack.api, 'GET', '/v1/wallet', { token })).body.balance as number;
    await alice.goto(`${stack.app}/#/pages/send/index`);
    // More than the balance: 微信支付 is preselected, 零钱 stays offered beside it.
    await alice.getByLabel('总金额（元）').fill('150');
    await alice.getByLabel('红包个数').fill('3');
    await alice.getByLabel('祝福语').fill('微信支付快乐');
    await alice.getByLabel('塞钱进红包').click();
    await expectNoSidewaysScroll(alice);
    const funding = alice.getByLabel('支付方式');
    expect(await funding.getByLabel('微信支付', { exact: true }).getAttribute('aria-pressed')).toBe('true');
    expect(await funding.getByLabel('零钱', { exact: true }).getAttribute('aria-pressed')).toBe('false');
    const created = alice.waitForResponse((r) => r.request().method() === 'POST' && /\/v1\/packets$/.test(r.url()));
    await alice.getByLabel('确认支付').click();
    const res = await created;
    expect(res.status()).toBe(202);
    const { packet, payment } = (await res.json()) as {
      packet: { id: string };
      payment: { paymentId: string; amount: number; request: { package: string } };
    };
    expect(payment.amount).toBe(15_000);
    const prepayId = payment.request.package.replace(/^prepay_id=/, '');

    // The simulator's sheet stands in for WeChat's: nothing is paid until 确认支付 there.
    await alice.getByLabel('模拟微信支付').waitFor();
    expect(await alice.getByLabel('模拟微信支付').getByLabel('支付金额').textContent()).toContain('150.00');
    expect((await call(stack.api, 'GET', `/v1/payments/${payment.paymentId}`, { token })).body.state).toBe('pending');
    expect(simPayment(await simState(), prepayId)).toMatchObject({ amount: 15_000, state: 'NOTPAY' });
    await pagesAtRest(alice);
    await alice.screenshot({ path: path.join(SHOTS, 'pay.png') });

    await alice.getByLabel('模拟支付成功').click();
    await alice.getByLabel('领取进度').waitFor({ timeout: 30_000 });
    expect(alice.url()).toContain(encodeURIComponent(packet.id));
    expect(await alice.getByLabel('领取进度').textContent()).toContain('0/3');
    await alice.waitForTimeout(1500);
    expect(liveCodes).toContain(await decodeQr(alice));

    expect((await call(stack.api, 'GET', `/v1/payments/${payment.paymentId}`, { token })).body).toMatchObject({
      paymentId: payment.paymentId,
      amount: 15_000,
      state: 'paid',
    });
    expect(simPayment(await simState(), prepayId)).toMatchObject({ amount: 15_000, state: 'SUCCESS' });
    // Paid by WeChat Pay: the balance is untouched.
    expect((await call(stack.api, 'GET', '/v1/wallet', { token })).body.balance).toBe(before);
  }, 120_000);

  test("alice withdraws on the 提现 page through the simulator's 确认收款: 已到账, the balance goes down", async () => {
    const token = await bearerOf(alice);
    const before = (await call(stack.api, 'GET', '/v1/wallet', { token })).body.balance as number;
    expect(before).toBeGreaterThanOrEqual(2_000);
    await alice.goto(`${stack.app}/#/pages/withdraw/index`);
    await eventuallyContains(alice.getByLabel('零钱余额'), (before / 100).toFixed(2));
    await alice.getByLabel('提现金额（元）').fill('20');
    await expectNoSidewaysScroll(alice);
    const created = alice.waitForResponse((r) => r.request().method() === 'POST' && /\/v1\/withdrawals$/.test(r.url()));
    await alice.getByLabel('提现', { exact: true }).click();
    const res = await created;
    expect(res.status()).toBe(201);
    const w = (await res.json()) as { withdrawalId: string; amount: number; state: string };
    expect(w).toMatchObject({ amount: 2_000, state: 'wait_user_confirm' });

    await alice.getByLabel('模拟确认收款').waitFor();
    expect(await alice.getByLabel('模拟确认收款').getByLabel('收款金额').textContent()).toContain('20.00');
    expect(simTransfer(await simState(), w.withdrawalId)).toMatchObject({ amount: 2_000, state: 'WAIT_USER_CONFIRM' });
    await eventuallyContains(alice.getByLabel('提现记录', { exact: true }), '待确认收款');
    await pagesAtRest(alice);
    await alice.screenshot({ path: path.join(SHOTS, 'withdraw.png') });

    await alice.getByLabel('模拟收款成功').click();
    await eventuallyContains(alice.getByLabel('提现状态'), '已到账', 30_000);
    await eventuallyContains(alice.getByLabel('零钱余额'), ((before - 2_000) / 100).toFixed(2));
    await eventuallyContains(alice.getByLabel('提现记录', { exact: true }), '已到账');

    expect((await call(stack.api, 'GET', `/v1/withdrawals/${w.withdrawalId}`, { token })).body).toMatchObject({
      withdrawalId: w.withdrawalId,
      amount: 2_000,
      state: 'success',
    });
    expect(simTransfer(await simState(), w.withdrawalId)).toMatchObject({ amount: 2_000, state: 'SUCCESS' });
    expect((await call(stack.api, 'GET', '/v1/wallet', { token })).body.balance).toBe(before - 2_000);
  }, 120_000);

  test('the send form survives a reload mid-typing', async () => {
    await alice.goto(`${stack.app}/#/pages/send/index`);
    await alice.getByLabel('总金额（元）').fill('12.34');
    await alice.getByLabel('祝福语').fill('草稿还在');
    await alice.waitForTimeout(600);
    await alice.reload();
    await alice.getByLabel('继续编辑').click();
    expect(await alice.getByLabel('总金额（元）').inputValue()).toBe('12.34');
    expect(await alice.getByLabel('祝福语').inputValue()).toBe('草稿还在');
  }, 60_000);

  test('a finished packet and a tampered link each show their Chinese message', async () => {
    const s = await call(stack.api, 'POST', '/v1/session', { body: { devUser: `carol${suffix}`, name: 'Carol' } });
    const carol = s.body.token as string;
    await call(stack.api, 'POST', '/v1/wallet/topups', { token: carol, idem: `t${suffix}`, body: { amount: 500 } });
    const created = await call(stack.api, 'POST', '/v1/packets', {
      token: carol,
      idem: `p${suffix}`,
      body: { total: 100, count: 1, mode: 'lucky' },
    });
    const code = created.body.shareCode.code as string;
    const dave = await call(stack.api, 'POST', '/v1/session', { body: { devUser: `dave${suffix}`, name: 'Dave' } });
    expect((await call(stack.api, 'POST', '/v1/claims', { token: dave.body.token, body: { code } })).status).toBe(200);
    await bob.goto(`${stack.app}/#/pages/open/index?c=${encodeURIComponent(code)}`);
    await eventuallyContains(bob.getByLabel('红包状态'), '手慢了');
    const tampered = code.slice(0, -1) + (code.endsWith('A') ? 'B' : 'A');
    await bob.goto(`${stack.app}/#/pages/open/index?c=${encodeURIComponent(tampered)}`);
    await eventuallyContains(bob.getByLabel('红包状态'), '无效');
  }, 60_000);
});

describe('仅限本群 in a real browser', () => {
  // Self-contained (its own three browser contexts), so `-t 仅限本群` runs it alone.
  test('a group-only packet: a member of 群A opens and claims, a user from 群B gets the refusal screen', async () => {
    const contexts = await Promise.all(
      [0, 1, 2].map(() => browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' })),
    );
    try {
      const [sender, member, outsider] = await Promise.all(contexts.map((c) => c.newPage()));
      await login(sender!, `grpS${suffix}`);
      const token = await bearerOf(sender!);
      expect(
        (await call(stack.api, 'POST', '/v1/wallet/topups', { token, idem: `g${suffix}`, body: { amount: 1_000 } }))
          .status,
      ).toBe(201);

      // The sender turns 仅限本群 on in the send form.
      await sender!.goto(`${stack.app}/#/pages/send/index`);
      await sender!.getByLabel('总金额（元）').fill('3');
      await sender!.getByLabel('红包个数').fill('2');
      await sender!.getByLabel('仅限本群', { exact: true }).click();
      expect(await sender!.getByLabel('仅限本群', { exact: true }).getAttribute('aria-pressed')).toBe('true');
      await sender!.getByLabel('塞钱进红包').click();
      expect(await sender!.getByLabel('领取范围').textContent()).toContain('仅限本群');
      const created = sender!.waitForResponse((r) => r.request().method() === 'POST' && /\/v1\/packets$/.test(r.url()));
      await sender!.getByLabel('确认支付').click();
      const res = await created;
      expect(res.status()).toBe(201);
      const body = (await res.json()) as { packet: { id: string; groupOnly: boolean }; shareCode: { code: string } };
      expect(body.packet.groupOnly).toBe(true);
      await sender!.getByLabel('领取进度').waitFor();
      await eventuallyContains(sender!.locator('.hb-card').first(), '仅限本群');
      const link = `${stack.app}/#/pages/open/index?c=${encodeURIComponent(body.shareCode.code)}`;

      // User 1 opens it from 群A (the 模拟群聊 chooser): the packet binds to 群A, and the claim succeeds.
      await login(member!, `grpA${suffix}`);
      await member!.goto(link);
      await member!.getByLabel('模拟群聊').waitFor();
      await member!.getByLabel('从群A打开').click();
      await member!.getByLabel('开红包').click();
      const amount = member!.getByLabel('领取金额');
      await amount.waitFor();
      expect(Number((await amount.textContent())!.replace(/[^\d.]/g, ''))).toBeGreaterThan(0);

      // User 2 comes from 群B: the 仅限本群 screen, no 開 button; the API refuses the claim too.
      await login(outsider!, `grpB${suffix}`);
      await outsider!.goto(link);
      await outsider!.getByLabel('模拟群聊').waitFor();
      await outsider!.getByLabel('从群B打开').click();
      const refusal = outsider!.getByRole('alert', { name: '仅限本群领取' });
      await refusal.waitFor();
      await eventuallyContains(refusal, '只有发红包所在群的成员可以领取');
      expect(await outsider!.getByLabel('开红包').count()).toBe(0);
      const outsiderToken = await bearerOf(outsider!);
      const claim = await call(stack.api, 'POST', '/v1/claims', {
        token: outsiderToken,
        body: { code: body.shareCode.code, group: { devGroup: '群B' } },
      });
      expect(claim.status).toBe(403);
      expect(claim.body.error.code).toBe('GROUP_ONLY');
      const view = await call(stack.api, 'GET', `/v1/packets/${body.packet.id}`, { token });
      expect(view.body.claimedCount).toBe(1);
    } finally {
      await Promise.all(contexts.map((c) => c.close()));
    }
  }, 180_000);
});

/** Waits until the element's text contains `text` (playwright-core has no `expect`). */
async function eventuallyContains(loc: { textContent(): Promise<string | null> }, text: string, timeoutMs = 10_000) {
  const end = Date.now() + timeoutMs;
  let last: string | null = null;
  while (Date.now() < end) {
    last = await loc.textContent().catch(() => null);
    if (last?.includes(text)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`expected text containing ${JSON.stringify(text)}, last saw ${JSON.stringify(last)}`);
}

/** The session token the page sends (for API checks beside the browser). */
async function bearerOf(page: Page): Promise<string> {
  const req = page.waitForRequest(
    (r) => r.url().startsWith(stack.api) && /^Bearer /.test(r.headers().authorization ?? ''),
  );
  await page.goto(`${stack.app}/#/pages/home/index`);
  await page.getByLabel('余额').waitFor();
  return (await req).headers().authorization!.replace(/^Bearer /, '');
}

interface SimState {
  payments: Array<{ outTradeNo: string; prepayId: string; amount: number; state: string }>;
  transfers: Array<{ outBillNo: string; amount: number; state: string }>;
}

/** The WeChat Pay simulator's own record (`GET /sim/state`). */
async function simState(): Promise<SimState> {
  const res = await fetch(`${stack.sim}/sim/state`);
  expect(res.status).toBe(200);
  return (await res.json()) as SimState;
}

function simPayment(s: SimState, prepayId: string) {
  const found = s.payments.filter((p) => p.prepayId === prepayId);
  expect(found).toHaveLength(1);
  return found[0];
}

function simTransfer(s: SimState, outBillNo: string) {
  const found = s.transfers.filter((t) => t.outBillNo === outBillNo);
  expect(found).toHaveLength(1);
  return found[0];
}

/**
 * Taro's H5 router slides a new page in from the right; screenshots wait until every shown page
 * is at rest (a frame mid-slide is not what a user looks at).
 */
async function pagesAtRest(page: Page) {
  await page.waitForFunction(
    "Array.from(document.querySelectorAll('.taro_page')).filter((p) => getComputedStyle(p).display !== 'none').every((p) => Math.abs(p.getBoundingClientRect().left) < 0.5)",
    undefined,
    { timeout: 10_000 },
  );
}

/**
 * The page fits the phone's width: nothing wider than the viewport, not scrolled sideways —
 * also while a new page is still sliding in (a field filled at once must not scroll the document).
 */
async function expectNoSidewaysScroll(page: Page) {
  // A string: this file is compiled without the DOM library.
  const m = (await page.evaluate(
    '({ scrollWidth: document.documentElement.scrollWidth, width: window.innerWidth, scrollX: window.scrollX })',
  )) as { scrollWidth: number; width: number; scrollX: number };
  expect(m.scrollWidth).toBeLessThanOrEqual(m.width);
  expect(m.scrollX).toBe(0);
}
