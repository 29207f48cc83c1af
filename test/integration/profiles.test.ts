/**
 * Names and faces against the real store (dynalite) and the S3-protocol stand-in (started by the
 * jest global setup, checking the adapter's SigV4 signatures and payload hashes):
 * PATCH /v1/me, avatar upload and serving, default names (unique under concurrent first logins,
 * bare legacy names upgraded at login), refusals that write nothing, and views that show the
 * current name and avatar.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { handler as avatarsHandler } from '../../functions/handlers/avatars';
import { defaultNameCandidates, DEFAULT_NAME_PREFIX, MAX_AVATAR_BYTES } from '../../functions/src/domain/profile';
import { forgetName } from '../../functions/src/app/names';
import { reserveDefaultName } from '../../functions/src/app/session';
import { derivedId } from '../../functions/src/domain/ids';
import type { Code2Session } from '../../functions/src/app/ports';
import {
  Clock,
  idem,
  inBatches,
  login,
  makeApi,
  sendPacket,
  testDeps,
  topup,
  uniq,
  withAvatars,
  type Api,
  type TestDeps,
  type TestUser,
} from '../helpers/app';

/** WeChat's login exchange as a stand-in: the login code is the openid. */
const wechat: Code2Session = { exchange: async (code) => ({ ok: true, openId: `o_${code}` }) };

const clock = new Clock(Date.parse('2026-12-01T04:00:00Z'));
let d: TestDeps;
let api: Api;

beforeAll(() => {
  d = withAvatars({ ...testDeps({ clock }), code2session: wechat });
  api = makeApi(d);
});
beforeEach(() => {
  clock.advance(61_000);
  forgetName();
});

/** A minimal valid PNG (1×1, red). */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==',
  'base64',
);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function wxLogin(openCode: string) {
  return api('POST', '/v1/session', { body: { code: openCode }, headers: { 'x-device-id': `dev-${openCode}` } });
}

async function getAvatar(ref: string, headers: Record<string, string> = {}) {
  const event = {
    rawPath: ref,
    headers,
    requestContext: { http: { method: 'GET', path: ref } },
  } as unknown as APIGatewayProxyEventV2;
  const r = await avatarsHandler(event);
  return {
    status: r.statusCode!,
    headers: (r.headers ?? {}) as Record<string, string>,
    body: r.body ?? '',
    isBase64Encoded: r.isBase64Encoded,
  };
}

async function upload(u: TestUser, image: Buffer | string, contentType = 'image/png') {
  return api('POST', '/v1/me/avatar', {
    token: u.token,
    body: { image: typeof image === 'string' ? image : image.toString('base64'), contentType },
  });
}

describe('PATCH /v1/me', () => {
  test('sets the name: 200 {userId, name, avatar}, a token carrying the new name, the profile written', async () => {
    const u = await login(api, { name: 'Alice' });
    const r = await api('PATCH', '/v1/me', { token: u.token, body: { name: '  小红 🧧 ' } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ userId: u.userId, name: '小红 🧧', avatar: null });
    expect((await d.accounts.get(u.userId))?.name).toBe('小红 🧧');
    // The fresh token works and carries the new name: what a new claim or forward records.
    const sent = await api('POST', '/v1/packets', {
      token: r.body.token,
      idem: idem(),
      body: { total: 100, count: 1, mode: 'equal' },
    });
    expect(sent.status).toBe(402); // no money, but authenticated with the new token
    expect(Date.parse(r.body.expiresAt)).toBeGreaterThan(clock.t);
  });

  test.each(
    [
      ['21 characters', { name: '红'.repeat(21) }, 400, 'VALIDATION_FAILED'],
      ['21 emoji', { name: '😀'.repeat(21) }, 400, 'VALIDATION_FAILED'],
      ['a control character', { name: '小\u0007红' }, 400, 'VALIDATION_FAILED'],
      ['a newline', { name: '小\n红' }, 400, 'VALIDATION_FAILED'],
      ['a right-to-left override', { name: 'ab\u202ecd' }, 400, 'VALIDATION_FAILED'],
      ['blank', { name: '   ' }, 400, 'VALIDATION_FAILED'],
      ['a default name', { name: '微信用户ABCD' }, 400, 'VALIDATION_FAILED'],
      ['a default name in traditional characters', { name: '微信用戶' }, 400, 'VALIDATION_FAILED'],
      ['a marketing word (greeting rules)', { name: '免单小王' }, 422, 'GREETING_REJECTED'],
      ['a marketing word, traditional and spaced', { name: '全 額 返 現' }, 422, 'GREETING_REJECTED'],
      ['an http avatar', { avatar: 'http://x.example/a.png' }, 400, 'VALIDATION_FAILED'],
      ['a javascript: avatar', { avatar: 'javascript:alert(1)' }, 400, 'VALIDATION_FAILED'],
      [
        'an avatar reference never uploaded',
        { avatar: `/v1/avatars/SELF/${'a'.repeat(64)}.png` },
        400,
        'VALIDATION_FAILED',
      ],
      ['a malformed reference', { avatar: '/v1/avatars/../../etc/passwd' }, 400, 'VALIDATION_FAILED'],
      ['nothing to change', {}, 400, 'VALIDATION_FAILED'],
      ['an unknown field', { nickname: 'x' }, 400, 'VALIDATION_FAILED'],
      [
        'a valid name with an invalid avatar',
        { name: '好名字', avatar: 'ftp://x.example/a.png' },
        400,
        'VALIDATION_FAILED',
      ],
    ].map(([label, raw, status, code]) => ({ label, raw, status, code })),
  )('refused: $label → $status $code, nothing written', async ({ raw, status, code }) => {
    const u = await login(api, { name: 'Before' });
    const body = JSON.parse(JSON.stringify(raw).replace('SELF', u.userId));
    const before = await d.db.get({ pk: `ACCT#${u.userId}`, sk: 'PROFILE' });
    const r = await api('PATCH', '/v1/me', { token: u.token, body });
    expect({ status: r.status, code: r.body.error?.code }).toEqual({ status, code });
    expect(await d.db.get({ pk: `ACCT#${u.userId}`, sk: 'PROFILE' })).toEqual(before);
  });

  test('an over-long body is refused before anything is read', async () => {
    const u = await login(api);
    const r = await api('PATCH', '/v1/me', { token: u.token, rawBody: JSON.stringify({ name: 'x'.repeat(20_000) }) });
    expect({ status: r.status, code: r.body.error?.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
  });

  test('needs a session', async () => {
    const r = await api('PATCH', '/v1/me', { body: { name: '谁' } });
    expect(r.status).toBe(401);
  });
});

describe('avatars: upload, reference, serving', () => {
  test('upload → reference; set it; served immutable by the avatars function; ETag revalidation', async () => {
    const u = await login(api);
    const up = await upload(u, PNG);
    expect(up.status).toBe(201);
    expect(up.body).toEqual({
      avatar: `/v1/avatars/${u.userId}/${sha(PNG)}.png`,
      contentType: 'image/png',
      bytes: PNG.length,
    });
    // The same image again: the same reference (content-addressed), no error.
    expect((await upload(u, `data:image/png;base64,${PNG.toString('base64')}`)).body.avatar).toBe(up.body.avatar);

    const set = await api('PATCH', '/v1/me', { token: u.token, body: { avatar: up.body.avatar } });
    expect(set.status).toBe(200);
    expect(set.body.avatar).toBe(up.body.avatar);

    const got = await getAvatar(up.body.avatar);
    expect(got.status).toBe(200);
    expect(got.isBase64Encoded).toBe(true);
    expect(Buffer.from(got.body, 'base64').equals(PNG)).toBe(true);
    expect(got.headers['content-type']).toBe('image/png');
    expect(got.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(got.headers['x-content-type-options']).toBe('nosniff');
    const again = await getAvatar(up.body.avatar, { 'If-None-Match': got.headers.etag! });
    expect(again.status).toBe(304);
    expect((await getAvatar(`/v1/avatars/${u.userId}/${'b'.repeat(64)}.png`)).status).toBe(404);
    expect((await getAvatar('/v1/avatars/x/..%2F..%2Fsecret')).status).toBe(404);
  });

  test('an upload above the 16 KB JSON limit of other routes is accepted (up to 256 KB decoded)', async () => {
    const u = await login(api);
    const big = Buffer.concat([PNG, randomBytes(200 * 1024)]);
    const up = await upload(u, big);
    expect(up.status).toBe(201);
    expect(Buffer.from((await getAvatar(up.body.avatar)).body, 'base64').equals(big)).toBe(true);
  });

  test.each([
    ['a GIF', Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1'), 'image/png'],
    ['HTML declared as PNG', Buffer.from('<html><script>alert(1)</script></html>'), 'image/png'],
    ['a PNG declared as JPEG', PNG, 'image/jpeg'],
    ['more than 256 KB', Buffer.concat([PNG, Buffer.alloc(MAX_AVATAR_BYTES)]), 'image/png'],
  ])('refused: %s → 400, nothing stored', async (_label, bytes, contentType) => {
    const u = await login(api);
    const r = await upload(u, bytes, contentType);
    expect({ status: r.status, code: r.body.error?.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    for (const ext of ['png', 'jpg', 'webp'])
      expect(await d.avatars!.exists(`avatars/${u.userId}/${sha(bytes)}.${ext}`)).toBe(false);
  });

  test("refused: not base64, an unknown type, someone else's reference", async () => {
    const u = await login(api);
    const other = await login(api);
    expect((await upload(u, '!!!not base64!!!')).status).toBe(400);
    expect((await upload(u, PNG, 'image/gif')).status).toBe(400);
    const theirs = (await upload(other, PNG)).body.avatar as string;
    const r = await api('PATCH', '/v1/me', { token: u.token, body: { avatar: theirs } });
    expect({ status: r.status, code: r.body.error?.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    expect((await d.accounts.get(u.userId))?.avatar).toBeUndefined();
  });

  test('uploads are bounded per account and minute: the 11th → 429 RATE_LIMITED, nothing stored; the next minute is fresh', async () => {
    const u = await login(api);
    for (let i = 0; i < 10; i++) expect((await upload(u, Buffer.concat([PNG, Buffer.from([i])]))).status).toBe(201);
    const extra = Buffer.concat([PNG, Buffer.from('eleventh')]);
    const r = await upload(u, extra);
    expect({ status: r.status, code: r.body.error?.code }).toEqual({ status: 429, code: 'RATE_LIMITED' });
    expect(await d.avatars!.exists(`avatars/${u.userId}/${sha(extra)}.png`)).toBe(false);
    // Another account is not affected; the same account again in the next minute.
    expect((await upload(await login(api), extra)).status).toBe(201);
    clock.advance(60_000);
    expect((await upload(u, extra)).status).toBe(201);
  });

  test('an https URL avatar (WeChat CDN) is kept as given', async () => {
    const u = await login(api);
    const url = 'https://thirdwx.qlogo.cn/mmopen/vi_32/abc/132';
    const r = await api('PATCH', '/v1/me', { token: u.token, body: { avatar: url } });
    expect(r.body.avatar).toBe(url);
    // The next login answers it too (the app shows it on the home page).
    // (`login` uses the dev user id as the name when none is given.)
    const again = await api('POST', '/v1/session', { body: { devUser: u.name, name: u.name } });
    expect({ userId: again.body.userId, avatar: again.body.avatar }).toEqual({ userId: u.userId, avatar: url });
  });
});

describe('default names: 微信用户 + a suffix nobody else has', () => {
  test('40 concurrent first WeChat logins: all names distinct and suffixed; a second login keeps the name', async () => {
    const codes = Array.from({ length: 40 }, () => uniq('wx'));
    const first = await inBatches(codes.length, 40, (i) => wxLogin(codes[i]!));
    for (const r of first) expect(r.status).toBe(200);
    const names = first.map((r) => r.body.name as string);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^微信用户[2-9A-HJ-NP-Z]{4,8}$/);
    for (const r of first) expect(r.body.newAccount).toBe(true);
    const again = await wxLogin(codes[0]!);
    expect(again.body.name).toBe(names[0]);
    expect(again.body.newAccount).toBeUndefined();
  });

  test('a taken suffix: the next candidate; the same account logging in twice at once gets one name', async () => {
    const code = uniq('wx');
    const userId = derivedId('u', 'wx', `o_${code}`);
    const [c0, c1, c2] = [...defaultNameCandidates(userId)];
    // Another account holds the first two names this one would try.
    expect(await d.accounts.reserveName(c0!, 'uSomeoneElse')).toBe(true);
    expect(await d.accounts.reserveName(c1!, 'uSomeoneElse')).toBe(true);
    const [a, b] = await Promise.all([wxLogin(code), wxLogin(code)]);
    expect(a.body.name).toBe(c2);
    expect(b.body.name).toBe(c2);
    expect((await d.accounts.get(userId))?.name).toBe(c2);
  });

  test('many accounts racing for the same names: each name goes to one account', async () => {
    const shared = Array.from(
      { length: 3 },
      (_, i) => `${DEFAULT_NAME_PREFIX}RACE${i}${randomBytes(2).toString('hex')}`,
    );
    const accounts = Array.from({ length: 12 }, () => uniq('uRace'));
    const got = await Promise.all(
      accounts.map((u) =>
        reserveDefaultName(d, u, [...shared, ...defaultNameCandidates(u)]).catch((e: Error) => e.message),
      ),
    );
    expect(new Set(got).size).toBe(accounts.length);
    for (const n of shared) expect(got.filter((g) => g === n)).toHaveLength(1);
  });

  test('an account still named plain 微信用户 gets a suffixed name at its next login', async () => {
    const code = uniq('wx');
    const userId = derivedId('u', 'wx', `o_${code}`);
    await d.accounts.upsert(
      {
        userId,
        name: DEFAULT_NAME_PREFIX,
        tier: 'personal',
        roles: ['user'],
        settings: {},
        createdAt: new Date(clock.t).toISOString(),
      },
      false,
    );
    const r = await wxLogin(code);
    expect(r.body.name).toMatch(/^微信用户[2-9A-HJ-NP-Z]{4,8}$/);
    expect((await d.accounts.get(userId))?.name).toBe(r.body.name);
    expect(r.body.newAccount).toBeUndefined();
  });
});

describe('views show current names and avatars', () => {
  test('claim list, packet page, open view and received list follow a rename; old tokens too', async () => {
    const sender = await login(api, { name: 'Sender' });
    const claimer = await login(api, { name: 'OldName' });
    await topup(api, sender, 10_000);
    const sent = await sendPacket(api, sender, { total: 1_000, count: 3, mode: 'lucky' });
    expect(
      (await api('POST', '/v1/claims', { token: claimer.token, body: { code: sent.shareCode.code } })).status,
    ).toBe(200);

    const avatar = (await upload(claimer, PNG)).body.avatar;
    const renamed = await api('PATCH', '/v1/me', { token: claimer.token, body: { name: '新名字', avatar } });
    expect(renamed.status).toBe(200);
    const senderAvatar = 'https://thirdwx.qlogo.cn/mmopen/sender/132';
    await api('PATCH', '/v1/me', { token: sender.token, body: { name: '发红包的人', avatar: senderAvatar } });

    // The claim recorded "OldName"; the sender's page shows the current name and avatar.
    const view = await api('GET', `/v1/packets/${sent.packet.id}`, { token: sender.token });
    expect(view.body.claims).toEqual([expect.objectContaining({ userId: claimer.userId, name: '新名字', avatar })]);
    expect(view.body.sender).toEqual({ id: sender.userId, name: '发红包的人', avatar: senderAvatar });

    // The open view (another account, before claiming) shows the sender's current name and face.
    const stranger = await login(api);
    const open = await api('GET', `/v1/codes/${encodeURIComponent(sent.shareCode.code)}`, { token: stranger.token });
    expect(open.body.packet.sender).toEqual({ id: sender.userId, name: '发红包的人', avatar: senderAvatar });

    // A claim made with a token issued before the rename still lists the current name.
    const late = await login(api, { name: 'Late' });
    const lateRenamed = await api('PATCH', '/v1/me', { token: late.token, body: { name: '后来者' } });
    expect((await api('POST', '/v1/claims', { token: late.token, body: { code: sent.shareCode.code } })).status).toBe(
      200,
    );
    const after = await api('GET', `/v1/packets/${sent.packet.id}`, { token: lateRenamed.body.token });
    expect(after.body.claims.map((c: { name: string }) => c.name).sort()).toEqual(['后来者', '新名字'].sort());

    // The claimer's received list shows the sender as they are called now.
    const received = await api('GET', '/v1/me/packets', { token: claimer.token, query: { role: 'received' } });
    expect(received.body.items[0].sender.name).toBe('发红包的人');
  });

  test('the claim path reads no profile (names are resolved by views only)', async () => {
    const sender = await login(api);
    const claimer = await login(api);
    await topup(api, sender, 1_000);
    const sent = await sendPacket(api, sender, { total: 100, count: 1, mode: 'equal' });
    const reads: string[] = [];
    const spy = jest.spyOn(d.accounts, 'publicProfiles').mockImplementation(async (ids) => {
      reads.push(...ids);
      return new Map();
    });
    const get = jest.spyOn(d.accounts, 'get');
    try {
      expect(
        (await api('POST', '/v1/claims', { token: claimer.token, body: { code: sent.shareCode.code } })).status,
      ).toBe(200);
      expect(reads).toEqual([]);
      expect(get.mock.calls.filter(([id]) => id === sender.userId || id === claimer.userId)).toEqual([]);
    } finally {
      spy.mockRestore();
      get.mockRestore();
    }
  });
});
