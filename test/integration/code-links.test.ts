/**
 * Code links: every Code the API returns carries `link` = `<PUBLIC_BASE_URL>/o/<code>` — packet
 * create (`code`, `shareCode`), new live and share codes (a forward's too), the receive code, a
 * campaign's packets and its CSV — built from the configured base, not a constant. And the
 * deployed `/o/` function (functions/handlers/links.ts) answers a well-formed link with its page,
 * a malformed one with a 400 page.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { buildDeps } from '../../functions/src/app/deps';
import { loadConfig } from '../../functions/src/config';
import { handler as linksHandler } from '../../functions/handlers/links';
import { baseDb, idem, login, makeApi, topup } from '../helpers/app';

/** Not the local default: the links must come from configuration. */
const BASE = 'https://hb.example.cn/r';
const d = buildDeps(loadConfig({ ...process.env, PUBLIC_BASE_URL: BASE }), baseDb());
const api = makeApi(d);

/** The link a code must carry, and a check that the URL really ends in that code. */
function expectLinked(view: { code: string; link: string }) {
  expect(view.link).toBe(`${BASE}/o/${view.code}`);
  const u = new URL(view.link);
  expect(decodeURIComponent(u.pathname.slice('/r/o/'.length))).toBe(view.code);
  expect(u.search + u.hash).toBe('');
}

describe('every Code carries its link', () => {
  test('packet create (code, shareCode), new live and share codes, a forward, the receive code', async () => {
    const alice = await login(api);
    const bob = await login(api);
    await topup(api, alice, 10_000);
    const created = await api('POST', '/v1/packets', {
      token: alice.token,
      idem: idem(),
      body: { total: 300, count: 3, mode: 'lucky', greeting: '新年快乐' },
    });
    expect(created.status).toBe(201);
    expectLinked(created.body.code);
    expectLinked(created.body.shareCode);
    expect(created.body.code.kind).toBe('live');

    const id = created.body.packet.id as string;
    const live = await api('POST', `/v1/packets/${id}/codes`, { token: alice.token, body: { kind: 'live' } });
    expect(live.status).toBe(201);
    expectLinked(live.body);
    const share = await api('POST', `/v1/packets/${id}/codes`, { token: alice.token, body: { kind: 'share' } });
    expect(share.status).toBe(201);
    expectLinked(share.body);

    // A claimer forwards: the share code minted through a code has its link too.
    expect((await api('POST', '/v1/claims', { token: bob.token, body: { code: share.body.code } })).status).toBe(200);
    const fwd = await api('POST', `/v1/packets/${id}/codes`, {
      token: bob.token,
      body: { kind: 'share', via: share.body.code },
    });
    expect(fwd.status).toBe(201);
    expect(fwd.body.forwardId).toEqual(expect.any(String));
    expectLinked(fwd.body);

    const rc = await api('GET', '/v1/receive-code', { token: bob.token });
    expect(rc.status).toBe(200);
    expect(rc.body.kind).toBe('receive');
    expectLinked(rc.body);

    // The code in the link is the code: it opens and claims like the bare one.
    const carol = await login(api);
    const fromLink = decodeURIComponent(new URL(live.body.link).pathname.split('/o/')[1]!);
    expect((await api('GET', `/v1/codes/${encodeURIComponent(fromLink)}`, { token: carol.token })).body).toMatchObject({
      target: 'packet',
      claimable: true,
    });
    expect((await api('POST', '/v1/claims', { token: carol.token, body: { code: fromLink } })).status).toBe(200);
  });

  test('a campaign: each packet has its link, and the CSV for printing ends with a link column', async () => {
    const co = await login(api, { tier: 'enterprise' });
    await topup(api, co, 100_000);
    const r = await api('POST', '/v1/campaigns', {
      token: co.token,
      idem: idem(),
      body: { name: '开业', packet: { total: 300, count: 3, mode: 'lucky', greeting: '感谢支持' }, quantity: 3 },
    });
    expect(r.status).toBe(201);
    expect(r.body.packets).toHaveLength(3);
    for (const p of r.body.packets) expectLinked(p);
    const csv = await api('GET', `/v1/campaigns/${r.body.campaignId}/codes.csv`, { token: co.token });
    expect(csv.status).toBe(200);
    const [head, ...rows] = (csv.body as string).trim().split('\n');
    expect(head).toBe('index,packet_id,code,expires_at,link');
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      const [, , code, , link] = row.split(',');
      expectLinked({ code: code!, link: link! });
    }
  });
});

describe('the /o/ function (deployed answer for a code link)', () => {
  const call = async (rawPath: string, userAgent = 'Mozilla/5.0 (iPhone) Safari') =>
    (await linksHandler({
      rawPath,
      headers: { 'user-agent': userAgent },
      requestContext: { http: { method: 'GET', path: rawPath } },
    } as unknown as APIGatewayProxyEventV2)) as APIGatewayProxyStructuredResultV2 & {
      headers: Record<string, string>;
      body: string;
    };

  test('a well-formed link: the page that says to open it with WeChat', async () => {
    const alice = await login(api);
    const rc = await api('GET', '/v1/receive-code', { token: alice.token });
    const r = await call(new URL(rc.body.link).pathname.replace(/^\/r/, ''));
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    expect(r.body).toContain('请用微信扫一扫打开');
    // The page holds no script and does not echo the code.
    expect(r.body).not.toContain('<script');
    expect(r.body).not.toContain(rc.body.code);
  });

  test.each([
    ['empty', '/o/'],
    ['a character no code has', '/o/1.k1.labc.xyz<script>'],
    ['an encoded space', '/o/1.k1%20abc'],
    ['broken percent-encoding', '/o/%E4%ZZ'],
    ['too long', `/o/${'a'.repeat(107)}`],
    ['more segments', '/o/abc/def'],
  ])('malformed (%s) → 400 page', async (_what, p) => {
    const r = await call(p);
    expect(r.statusCode).toBe(400);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    expect(r.body).toContain('链接无效');
  });

  test('the root answers nothing but the check file (none configured here → 404)', async () => {
    expect((await call('/favicon.ico')).statusCode).toBe(404);
  });
});
