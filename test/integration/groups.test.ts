import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../functions/src/config';
import { HttpCode2Session } from '../../functions/src/app/ports';
import { Keys } from '../../functions/src/store/keys';
import {
  Clock,
  baseDb,
  idem,
  login,
  makeApi,
  sendPacket,
  testDeps,
  topup,
  type Api,
  type TestUser,
} from '../helpers/app';
import { violations } from '../helpers/invariants';
import { captureLogs } from '../helpers/logs';
import { newSessionKey, wxGroupData } from '../helpers/wx-group';

/**
 * Group-only packets (仅限本群) through the real handlers and store: logins through a
 * code2session stub that hands out WeChat-style session keys, group data encrypted the way
 * WeChat encrypts it, binding, refusals that write nothing.
 */
const APPID = 'wxgroupstest00001';
const G1 = 'tGgroupOne_AAAAAAAAAAAAAAAAAAA';
const G2 = 'tGgroupTwo_BBBBBBBBBBBBBBBBBBB';
const clock = new Clock(Date.parse('2026-12-05T04:00:00Z'));
let writes = 0;
const written: string[] = [];
const reads: string[] = [];
/** Session keys the stub issued, by openid (the latest login's). */
const issued = new Map<string, string>();
let stub: Server;
let api: Api;
let noDev: Api;
let d: ReturnType<typeof testDeps>;

beforeAll(async () => {
  stub = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    res.setHeader('content-type', 'application/json');
    const code = url.searchParams.get('js_code') ?? '';
    if (
      url.pathname !== '/sns/jscode2session' ||
      url.searchParams.get('appid') !== APPID ||
      !code.startsWith('code-')
    ) {
      res.end(JSON.stringify({ errcode: 40029, errmsg: 'invalid code' }));
      return;
    }
    // Like WeChat: each login hands out a new session key for the user.
    const openid = `o_${code.slice(5).split('#')[0]}`;
    // `#nokey`: an answer without a usable session_key (login works, group data cannot).
    if (code.endsWith('#nokey')) {
      res.end(JSON.stringify({ openid, session_key: 'not-a-key' }));
      return;
    }
    const sessionKey = newSessionKey();
    issued.set(openid, sessionKey);
    res.end(JSON.stringify({ openid, session_key: sessionKey }));
  });
  await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
  const wx = { appId: APPID, secret: 'shh', apiBase: `http://127.0.0.1:${(stub.address() as AddressInfo).port}` };
  const cfg = { ...loadConfig(), wx };
  const base = testDeps({
    clock,
    db: baseDb({ beforeWrite: (i) => void (writes++, written.push(i.pk)), afterRead: (i) => void reads.push(i.pk) }),
  });
  d = { ...base, cfg, code2session: new HttpCode2Session(wx) };
  api = makeApi(d);
  noDev = makeApi({ ...d, cfg: { ...cfg, devFeatures: false } });
});
afterAll(() => stub.close());

interface WxUser extends TestUser {
  openid: string;
}
let seq = 0;
async function wxLogin(): Promise<WxUser> {
  const who = `user${++seq}_${idem().replace(/[^A-Za-z0-9]/g, '')}`;
  const r = await api('POST', '/v1/session', {
    body: { code: `code-${who}` },
    headers: { 'x-device-id': `dev-${who}` },
  });
  if (r.status !== 200) throw new Error(`login ${r.status} ${JSON.stringify(r.body)}`);
  return { token: r.body.token, userId: r.body.userId, name: r.body.name, openid: `o_${who}` };
}
/** Fresh group data for `u` from group `gid`, as wx.getGroupEnterInfo gives it now. */
const groupOf = (u: WxUser, gid: string, over: { appid?: string; timestamp?: number } = {}) =>
  wxGroupData({
    sessionKey: issued.get(u.openid)!,
    openGId: gid,
    appid: over.appid ?? APPID,
    timestamp: over.timestamp ?? Math.floor(clock.t / 1000),
  });
const openWith = (u: TestUser, code: string, query?: Record<string, string>) =>
  api('GET', `/v1/codes/${encodeURIComponent(code)}`, { token: u.token, ...(query ? { query } : {}) });
const claimWith = (u: TestUser, code: string, group?: unknown, via = api) =>
  via('POST', '/v1/claims', { token: u.token, body: group === undefined ? { code } : { code, group } });
/**
 * The partitions the open view's role may write (serverless.yml, the codes role's LeadingKeys):
 * an open that binds must stay inside them, or it would be denied on AWS.
 */
const CODES_MAY_WRITE = (() => {
  const yml = readFileSync(path.resolve(__dirname, '..', '..', 'serverless.yml'), 'utf8');
  const m = /dynamodb:LeadingKeys: \[([^\]]*)\]/.exec(yml);
  if (!m) throw new Error('no LeadingKeys in serverless.yml');
  return m[1]!.split(',').map((s) => s.trim().replace(/^'|'$/g, '').replace(/\*$/, ''));
})();
const expectError = (r: { status: number; body: any }, status: number, code: string) =>
  expect({ status: r.status, code: r.body?.error?.code }).toEqual({ status, code });

describe('group-only packets (仅限本群)', () => {
  test('login keeps the latest session key, sealed: never returned, not readable in the stored item', async () => {
    const u = await wxLogin();
    const first = issued.get(u.openid)!;
    const raw = await d.db.get(Keys.profile(u.userId));
    expect(raw?.wxSessionKey).toMatch(/^sk1\./);
    const dump = JSON.stringify(raw);
    const bytes = Buffer.from(first, 'base64');
    for (const form of [first, bytes.toString('base64url'), bytes.toString('hex')]) expect(dump).not.toContain(form);
    // A second login replaces it: data encrypted under the old key no longer verifies.
    const again = await api('POST', '/v1/session', {
      body: { code: `code-${u.openid.slice(2)}` },
      headers: { 'x-device-id': `dev-${u.openid.slice(2)}` },
    });
    expect(again.status).toBe(200);
    expect(JSON.stringify(again.body)).not.toContain(issued.get(u.openid)!);
    expect(issued.get(u.openid)).not.toBe(first);
    const sender = await login(api);
    await topup(api, sender, 10_000);
    const sent = await sendPacket(api, sender, { total: 300, count: 3, mode: 'equal', groupOnly: true });
    const old = wxGroupData({ sessionKey: first, openGId: G1, appid: APPID, timestamp: Math.floor(clock.t / 1000) });
    writes = 0;
    const r = await claimWith(u, sent.shareCode.code, old);
    expectError(r, 400, 'VALIDATION_FAILED');
    expect(writes).toBe(0);
    expect((await claimWith(u, sent.shareCode.code, groupOf(u, G1))).status).toBe(200);

    // A login whose answer has no usable session key drops the stored one (WeChat replaced it).
    const v = await wxLogin();
    const data = groupOf(v, G1);
    const bare = await api('POST', '/v1/session', {
      body: { code: `code-${v.openid.slice(2)}#nokey` },
      headers: { 'x-device-id': `dev-${v.openid.slice(2)}` },
    });
    expect(bare.status).toBe(200);
    expect((await d.db.get(Keys.profile(v.userId)))?.wxSessionKey).toBeUndefined();
    const refused = await claimWith(v, sent.shareCode.code, data);
    expectError(refused, 400, 'VALIDATION_FAILED');
    expect(refused.body.error.details).toEqual({ reason: 'no_session_key' });
  });

  test('the first verified group an open comes from binds; its members claim, other groups and no group get GROUP_ONLY and nothing is written', async () => {
    const sender = await wxLogin();
    const [a1, a2, b1, loner] = [await wxLogin(), await wxLogin(), await wxLogin(), await wxLogin()];
    await topup(api, sender, 10_000);
    const plain = await sendPacket(api, sender, { total: 300, count: 3, mode: 'lucky' });
    expect(plain.packet.groupOnly).toBe(false);
    const sent = await sendPacket(api, sender, { total: 400, count: 4, mode: 'equal', groupOnly: true });
    expect(sent.packet.groupOnly).toBe(true);
    const code = sent.shareCode.code;
    const id = sent.packet.id;

    // Before any verified open: an open from no group is not claimable, and binds nothing.
    const blind = await openWith(loner, code);
    expect(blind.body).toMatchObject({
      claimable: false,
      reason: 'GROUP_ONLY',
      group: 'none',
      packet: { groupOnly: true },
    });
    expect(await d.db.get(Keys.groupBinding(id))).toBeUndefined();

    // a1 opens from G1: bound. The binding holds a salted hash, never the group id; the packet
    // item only says it is group-only, and stays small.
    written.length = 0;
    const opened = await openWith(a1, code, groupOf(a1, G1));
    expect(opened.body).toMatchObject({ claimable: true, group: 'member' });
    expect(written.some((pk) => pk.startsWith('PKTGRP#'))).toBe(true);
    expect(written.filter((pk) => !CODES_MAY_WRITE.some((prefix) => pk.startsWith(prefix)))).toEqual([]);
    const item = await d.db.get(Keys.groupBinding(id));
    expect(item?.group).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(JSON.stringify(item)).not.toContain(G1);
    const packetItem = await d.db.get(Keys.packet(id));
    expect(packetItem?.groupOnly).toBe(true);
    expect(JSON.stringify(packetItem).length).toBeLessThan(1024);

    // b1 from G2 sees the refusal in the open view; the binding stays G1.
    expect((await openWith(b1, code, groupOf(b1, G2))).body).toMatchObject({
      claimable: false,
      reason: 'GROUP_ONLY',
      group: 'other',
    });
    expect((await d.db.get(Keys.groupBinding(id)))?.group).toBe(item?.group);

    // Claims: G1 members (fresh data fetched before claiming) succeed, including one who never opened.
    expect((await claimWith(a1, code, groupOf(a1, G1))).status).toBe(200);
    expect((await claimWith(a2, code, groupOf(a2, G1))).status).toBe(200);
    // The sender is held to the same rule: from the group, fine; from outside, refused.
    writes = 0;
    const senderOut = await claimWith(sender, code);
    expectError(senderOut, 403, 'GROUP_ONLY');
    expect(senderOut.body.error.details).toEqual({ group: 'none' });
    expect(writes).toBe(0);
    expect((await claimWith(sender, code, groupOf(sender, G1))).status).toBe(200);

    // Another group, no group, forged or stale or foreign data: refused, nothing written.
    writes = 0;
    const other = await claimWith(b1, code, groupOf(b1, G2));
    expectError(other, 403, 'GROUP_ONLY');
    expect(other.body.error.details).toEqual({ group: 'other' });
    expectError(await claimWith(loner, code), 403, 'GROUP_ONLY');
    const good = groupOf(b1, G1);
    const bytes = Buffer.from(good.encryptedData, 'base64');
    bytes[bytes.length - 20]! ^= 0x10;
    const refusals = [
      // b1 with G1 data encrypted under someone else's session key (a2's): not b1's group data.
      groupOf(a2, G1),
      { ...good, encryptedData: bytes.toString('base64') },
      { ...good, iv: Buffer.alloc(16, 7).toString('base64') },
      groupOf(b1, G1, { timestamp: Math.floor(clock.t / 1000) - 3_600 }),
      groupOf(b1, G1, { appid: 'wxsomeoneelse0000' }),
      wxGroupData({
        sessionKey: issued.get(b1.openid)!,
        appid: APPID,
        timestamp: Math.floor(clock.t / 1000),
        plaintext: 'not json at all',
      }),
    ];
    for (const g of refusals) expectError(await claimWith(b1, code, g), 400, 'VALIDATION_FAILED');
    expectError(await claimWith(b1, code, { encryptedData: 'AAAA' }), 400, 'VALIDATION_FAILED');
    expectError(
      await claimWith(b1, code, { encryptedData: good.encryptedData, iv: good.iv, devGroup: 'x' }),
      400,
      'VALIDATION_FAILED',
    );
    expect(writes).toBe(0);
    // An open with forged data is refused too; like every open of a valid code it was counted
    // against the account's open limit first (that counter is its only write).
    written.length = 0;
    expectError(await openWith(b1, code, groupOf(b1, G1, { appid: 'wxsomeoneelse0000' })), 400, 'VALIDATION_FAILED');
    expect(written.every((pk) => pk.startsWith('RISKCNT#'))).toBe(true);

    // Those who claimed see their share again from anywhere (a repeat writes nothing new).
    const repeat = await claimWith(a1, code);
    expect(repeat.body).toMatchObject({ repeat: true });
    expect((await openWith(a1, code)).body).toMatchObject({ reason: 'ALREADY_CLAIMED' });

    const view = await api('GET', `/v1/packets/${id}`, { token: sender.token });
    expect(view.body.claims.map((c: { userId: string }) => c.userId).sort()).toEqual(
      [a1.userId, a2.userId, sender.userId].sort(),
    );
    expect(
      await violations(d, {
        users: [sender, a1, a2, b1, loner].map((u) => u.userId),
        packets: [id, plain.packet.id],
        topups: 10_000,
      }),
    ).toEqual([]);
  });

  test('a claim binds too when no open came first', async () => {
    const sender = await login(api);
    const [a, b] = [await wxLogin(), await wxLogin()];
    await topup(api, sender, 10_000);
    const sent = await sendPacket(api, sender, { total: 200, count: 2, mode: 'equal', groupOnly: true });
    expect((await claimWith(b, sent.shareCode.code, groupOf(b, G2))).status).toBe(200);
    expectError(await claimWith(a, sent.shareCode.code, groupOf(a, G1)), 403, 'GROUP_ONLY');
    expect((await openWith(a, sent.shareCode.code, groupOf(a, G1))).body).toMatchObject({
      claimable: false,
      reason: 'GROUP_ONLY',
      group: 'other',
    });
  });

  test('concurrent opens from two groups bind exactly one', async () => {
    const sender = await login(api);
    await topup(api, sender, 100_000);
    for (let round = 0; round < 6; round++) {
      const sent = await sendPacket(api, sender, { total: 400, count: 4, mode: 'equal', groupOnly: true });
      const users = await Promise.all([wxLogin(), wxLogin(), wxLogin(), wxLogin()]);
      const groups = [G1, G2, G1, G2];
      const views = await Promise.all(users.map((u, i) => openWith(u, sent.shareCode.code, groupOf(u, groups[i]!))));
      const members = views.map((v) => v.body.group);
      expect(views.every((v) => v.status === 200)).toBe(true);
      // Exactly one group's openers are members, the other's are refused.
      const winners = new Set(groups.filter((_, i) => members[i] === 'member'));
      expect(winners.size).toBe(1);
      expect(members.filter((m) => m === 'member')).toHaveLength(2);
      expect(members.filter((m) => m === 'other')).toHaveLength(2);
      // And claims follow the binding.
      const claims = await Promise.all(users.map((u, i) => claimWith(u, sent.shareCode.code, groupOf(u, groups[i]!))));
      expect(claims.map((c) => c.status)).toEqual(members.map((m) => (m === 'member' ? 200 : 403)));
    }
  });

  test('devGroup stands in where dev features are on and is refused elsewhere, writing nothing', async () => {
    const sender = await login(api);
    const [a, b] = [await login(api), await login(api)];
    await topup(api, sender, 10_000);
    const sent = await sendPacket(api, sender, { total: 200, count: 2, mode: 'equal', groupOnly: true });
    const code = sent.shareCode.code;
    writes = 0;
    expectError(
      await noDev('GET', `/v1/codes/${encodeURIComponent(code)}`, { token: a.token, query: { devGroup: '群A' } }),
      400,
      'VALIDATION_FAILED',
    );
    expectError(await claimWith(a, code, { devGroup: '群A' }, noDev), 400, 'VALIDATION_FAILED');
    expect(writes).toBe(0);
    expect(await d.db.get(Keys.groupBinding(sent.packet.id))).toBeUndefined();
    expect((await openWith(a, code, { devGroup: '群A' })).body).toMatchObject({ claimable: true, group: 'member' });
    expect((await claimWith(a, code, { devGroup: '群A' })).status).toBe(200);
    expect((await openWith(b, code, { devGroup: '群B' })).body).toMatchObject({
      claimable: false,
      reason: 'GROUP_ONLY',
      group: 'other',
    });
    writes = 0;
    expectError(await claimWith(b, code, { devGroup: '群B' }), 403, 'GROUP_ONLY');
    expect(writes).toBe(0);
    // Dev users have no session key: WeChat group data cannot be verified for them.
    expectError(
      await claimWith(
        b,
        code,
        wxGroupData({ sessionKey: newSessionKey(), appid: APPID, timestamp: Math.floor(clock.t / 1000) }),
      ),
      400,
      'VALIDATION_FAILED',
    );
  });

  test('logs never hold the session key, the group id or the encrypted group data', async () => {
    const logs = captureLogs();
    let secrets: string[] = [];
    try {
      const sender = await login(api);
      await topup(api, sender, 1_000);
      const u = await wxLogin();
      const sent = await sendPacket(api, sender, { total: 200, count: 2, mode: 'equal', groupOnly: true });
      const g1 = groupOf(u, G1);
      await openWith(u, sent.shareCode.code, g1);
      const g2 = groupOf(u, G1);
      expect((await claimWith(u, sent.shareCode.code, g2)).status).toBe(200);
      const stale = groupOf(u, G2, { timestamp: 1 });
      expectError(await claimWith(u, sent.shareCode.code, stale), 400, 'VALIDATION_FAILED');
      const key = issued.get(u.openid)!;
      secrets = [
        key,
        Buffer.from(key, 'base64').toString('hex'),
        G1,
        G2,
        g1.encryptedData.slice(0, 24),
        g2.encryptedData.slice(0, 24),
        stale.encryptedData.slice(0, 24),
        g1.iv,
      ];
    } finally {
      logs.restore();
    }
    expect(logs.lines.length).toBeGreaterThan(0);
    for (const s of secrets) expect(logs.lines.filter((l) => l.includes(s))).toEqual([]);
  });

  /**
   * What a first claim of a plain packet writes, partition kind by partition kind: in the
   * recorded layout the take on the account's home counter (the gate, the take and the record
   * in one) and the credit; in the slots layout of packets stored before, the marker, the take
   * on the packet item, the slot and the credit.
   */
  const CLAIM_WRITES = { recorded: ['CNTR', 'LEDGER'], slots: ['CLAIM', 'PKT', 'SLOTS', 'LEDGER'] } as const;
  test.each(['recorded', 'slots'] as const)(
    'an ordinary packet ignores group context: its claim reads nothing more (%s layout)',
    async (layout) => {
      const dl = { ...d, cfg: { ...d.cfg, shareLayout: layout } };
      const api = makeApi(dl);
      const claimWith = (u: TestUser, code: string, group?: unknown) =>
        api('POST', '/v1/claims', { token: u.token, body: group === undefined ? { code } : { code, group } });
      const sender = await login(api);
      const [warm, a, b] = [await wxLogin(), await wxLogin(), await wxLogin()];
      await topup(api, sender, 10_000);
      const sent = await sendPacket(api, sender, { total: 400, count: 4, mode: 'equal' });
      expect((await d.packets.get(sent.packet.id))?.layout).toBe(layout === 'recorded' ? 'recorded' : undefined);
      // A first claim warms this process's view of the packet and its shares; neither claim
      // measured below takes the last share (which reads the claim list for 手气最佳).
      expect((await claimWith(warm, sent.shareCode.code)).status).toBe(200);
      reads.length = 0;
      written.length = 0;
      expect((await claimWith(a, sent.shareCode.code)).status).toBe(200);
      const plainReads = reads.splice(0).map((pk) => pk.split('#')[0]);
      const plainWrites = written.splice(0).map((pk) => pk.split('#')[0]);
      expect((await claimWith(b, sent.shareCode.code, groupOf(b, G1))).status).toBe(200);
      // The same reads, partition for partition kind: no account read, no packet re-read.
      expect(reads.map((pk) => pk.split('#')[0])).toEqual(plainReads);
      expect(plainReads).not.toContain('ACCT');

      // A group-only packet's claim, once this function has seen the binding: the same reads plus
      // one, the account's sealed session key; the same writes.
      const only = await sendPacket(api, sender, { total: 400, count: 4, mode: 'equal', groupOnly: true });
      const [w2, c] = [await wxLogin(), await wxLogin()];
      expect((await claimWith(w2, only.shareCode.code, groupOf(w2, G1))).status).toBe(200);
      reads.length = 0;
      written.length = 0;
      expect((await claimWith(warm, only.shareCode.code)).status).toBe(403);
      expect(written).toEqual([]);
      reads.length = 0;
      expect((await claimWith(c, only.shareCode.code, groupOf(c, G1))).status).toBe(200);
      const kinds = reads.map((pk) => pk.split('#')[0]);
      expect([...kinds].sort()).toEqual([...plainReads, 'ACCT'].sort());
      expect(written.map((pk) => pk.split('#')[0]).sort()).toEqual([...plainWrites].sort());
      expect(plainWrites).toEqual(CLAIM_WRITES[layout]);
    },
  );
});
