import { render, screen, waitFor } from '@testing-library/react';
import type { CodeView, OpenCodeResponse, PacketView } from '../../functions/src/http/contract';
import { saveSession } from '../src/api/session';
import { QrCode } from '../src/components/QrCode';
import OpenPage from '../src/pages/open/index';
import PacketPage from '../src/pages/packet/index';
import ReceivePage from '../src/pages/receive/index';
import { decodeQr, linkOf, qrGeometry, qrTextOf, inWeappMode, weapp, codeFixture, packetFixture } from './weapp';

/**
 * The QR as the mini-program draws it: weapp-qrcode through `Taro.createCanvasContext` onto a
 * recording context; the recorded operations are replayed into pixels and read with jsQR, the
 * way a phone camera would read the screen. A draw that loses the background, the quiet zone or
 * a module fails here.
 */
jest.mock('@tarojs/taro', () => require('./weapp').weappTaro());

inWeappMode();

/** A 1.k1 code as the server issues them (≈ 100 characters). */
const CODE = '1.k1.p8Yt2mQx4Lw9.live.MTc2NDkxMDAwMA.Zk3vQ9pX2c7rT1yB8nL4sW6aD0eF5gH3jK9mN2qR7tU1vX4zA8bC6dE0fG';
/** The same code as a link a camera opens (PUBLIC_BASE_URL + /o/ + code). */
const LINK = `https://hongbao.example.com/o/${CODE}`;

/** The canvas as the app sized it: weapp draws at 1× the CSS size. */
function canvasSize(label: string): number {
  const el = screen.getByLabelText(label) as HTMLElement & { width?: unknown };
  const w = Number(el.getAttribute('width') ?? el.width);
  expect(Number.isFinite(w) && w > 0).toBe(true);
  return w;
}

async function drawn(canvasId: string, times = 1): Promise<void> {
  await waitFor(() => expect(weapp.canvas.draws(canvasId)).toBeGreaterThanOrEqual(times), { timeout: 5000 });
}

/** Decodes what was drawn on a canvas and checks a scanner can use it. */
function scan(canvasId: string, size: number): { text: string | undefined; geometry: ReturnType<typeof qrGeometry> } {
  const bitmap = weapp.canvas.bitmap(canvasId, size, size);
  return { text: decodeQr(bitmap), geometry: qrGeometry(bitmap) };
}

/** Size and quiet-zone sanity: opaque, centred with a ≥ 4-module light margin, modules ≥ 3 px. */
function expectScannable(g: ReturnType<typeof qrGeometry>, size: number): void {
  expect(g.transparent).toBe(0);
  expect(g.module).toBeGreaterThanOrEqual(3);
  expect(g.quietModules).toBeGreaterThanOrEqual(4);
  // The component pads 10 % on each side: the code starts there and is square.
  const pad = Math.round(size * 0.1);
  expect(Math.abs(g.left - pad)).toBeLessThanOrEqual(1);
  expect(Math.abs(g.top - pad)).toBeLessThanOrEqual(1);
  expect(Math.abs(g.right - (size - pad - 1))).toBeLessThanOrEqual(2);
  expect(Math.abs(g.bottom - (size - pad - 1))).toBeLessThanOrEqual(2);
}

describe('QrCode on weapp (weapp-qrcode on the canvas API)', () => {
  test.each([
    ['a bare code', CODE],
    ['a link to the code', LINK],
  ])('%s: decodes to exactly the text given, with a quiet zone', async (_name, text) => {
    render(<QrCode canvasId="t-qr" text={text} size={220} label="测试二维码" />);
    await drawn('t-qr');
    const size = canvasSize('测试二维码');
    expect(size).toBe(220);
    expect(weapp.callsTo('createCanvasContext')).toContain('t-qr');
    const { text: read, geometry } = scan('t-qr', size);
    expect(read).toBe(text);
    expectScannable(geometry, size);
  });

  test('a new text redraws the canvas (the old code is gone); an empty text draws nothing', async () => {
    const { rerender } = render(<QrCode canvasId="t-qr" text={CODE} size={220} label="测试二维码" />);
    await drawn('t-qr');
    const before = weapp.canvas.draws('t-qr');
    const next = CODE.replace('live', 'lix2');
    rerender(<QrCode canvasId="t-qr" text={next} size={220} label="测试二维码" />);
    await drawn('t-qr', before + 1);
    expect(scan('t-qr', 220).text).toBe(next);

    render(<QrCode canvasId="empty-qr" text="" size={220} label="空二维码" />);
    await new Promise((r) => setTimeout(r, 500)); // past both draw timers
    expect(weapp.canvas.draws('empty-qr')).toBe(0);
  });

  test('the replay catches a broken draw: no background → transparent pixels; a tiny size → modules under 3 px', async () => {
    render(<QrCode canvasId="small-qr" text={CODE} size={90} label="小二维码" />);
    await drawn('small-qr');
    expect(qrGeometry(weapp.canvas.bitmap('small-qr', 90, 90)).module).toBeLessThan(3);
    // The same operations without the component's white square: the quiet zone is transparent.
    const ops = weapp.canvas.ops.filter((o) => o.canvasId === 'small-qr');
    const firstFill = ops.findIndex((o) => o.op === 'fillRect');
    weapp.canvas.ops = weapp.canvas.ops.filter((o) => o !== ops[firstFill]);
    expect(qrGeometry(weapp.canvas.bitmap('small-qr', 90, 90)).transparent).toBeGreaterThan(0);
  });
});

const NOW = Date.now();
const code = (c: string, kind: CodeView['kind']): CodeView => codeFixture(c, kind, NOW);
const LIVE = code(CODE, 'live');
const SHARE = code(CODE.replace('live', 'shr1'), 'share');
const packet: PacketView = packetFixture(NOW);

beforeEach(() => {
  saveSession({
    token: 't',
    userId: 'u-alice',
    name: 'Alice',
    tier: 'personal',
    roles: ['user'],
    expiresAt: '2099-01-01T00:00:00Z',
  });
});

describe('the pages draw the code the server returned', () => {
  test('packet page: the live QR decodes to what the page is meant to encode for the live code', async () => {
    weapp.router = { params: { id: 'p1' } };
    weapp.server
      .on('GET /v1/packets/p1', () => ({ status: 200, body: packet }))
      .on('POST /v1/packets/p1/codes', (req) => ({
        status: 201,
        body: (req.body as { kind: string }).kind === 'share' ? SHARE : LIVE,
      }));
    render(<PacketPage />);
    await drawn('packet-qr');
    const size = canvasSize('红包二维码，扫码领取');
    const { text, geometry } = scan('packet-qr', size);
    expect(text).toBe(qrTextOf(LIVE));
    expect(text).not.toBe(qrTextOf(SHARE));
    expectScannable(geometry, size);
  });

  test('receive page: the 收款码 decodes to what the page is meant to encode for the receive code', async () => {
    const receive = code(CODE.replace('live', 'recv'), 'receive' as CodeView['kind']);
    weapp.server.on('GET /v1/receive-code', () => ({ status: 200, body: receive }));
    render(<ReceivePage />);
    await drawn('receive-qr');
    const size = canvasSize('我的收款码，扫码向我付款');
    const { text, geometry } = scan('receive-qr', size);
    expect(text).toBe(qrTextOf(receive));
    expectScannable(geometry, size);
  });
});

describe('scanned with WeChat: the link arrives as `q`', () => {
  /**
   * WeChat's 扫普通链接二维码打开小程序: a scanned link under the registered /o/ prefix opens the
   * open page with the whole URL in `q`, encoded once. The link is the one the packet page's QR
   * was decoded to, so this is the camera's path end to end.
   */
  test("the packet page's QR → its link → the open page with q opens exactly that code", async () => {
    weapp.router = { params: { id: 'p1' } };
    weapp.server
      .on('GET /v1/packets/p1', () => ({ status: 200, body: packet }))
      .on('POST /v1/packets/p1/codes', (req) => ({
        status: 201,
        body: (req.body as { kind: string }).kind === 'share' ? SHARE : LIVE,
      }));
    const { unmount } = render(<PacketPage />);
    await drawn('packet-qr');
    const scanned = scan('packet-qr', canvasSize('红包二维码，扫码领取')).text!;
    expect(scanned).toBe(LIVE.link);
    unmount();

    saveSession({
      token: 't',
      userId: 'u-bob',
      name: 'Bob',
      tier: 'personal',
      roles: ['user'],
      expiresAt: '2099-01-01T00:00:00Z',
    });
    const { claims: _claims, ...summary } = packet;
    weapp.server.on('GET /v1/codes/*', () => ({
      status: 200,
      body: { target: 'packet', packet: summary, claimable: true } satisfies OpenCodeResponse,
    }));
    weapp.router = {
      params: { q: encodeURIComponent(scanned), scancode_time: '1764910000' },
      path: 'pages/open/index',
    };
    render(<OpenPage />);
    await waitFor(() => expect(screen.getByLabelText('开红包')).toBeTruthy());
    expect(weapp.server.requests.filter((r) => r.path.startsWith('/v1/codes/')).map((r) => r.path)).toEqual([
      `/v1/codes/${CODE}`,
    ]);
  });

  test('a 收款码 link in q: the open page hands over to the pay page with that code', async () => {
    const RECV = CODE.replace('live', 'recv');
    weapp.server.on('GET /v1/codes/*', () => ({
      status: 200,
      body: { target: 'receive', payee: { id: 'u-carol', name: 'Carol' } } satisfies OpenCodeResponse,
    }));
    weapp.router = { params: { q: encodeURIComponent(linkOf(RECV)) }, path: 'pages/open/index' };
    render(<OpenPage />);
    await waitFor(() =>
      expect(weapp.callsTo('redirectTo')).toEqual([{ url: `/pages/pay/index?c=${encodeURIComponent(RECV)}` }]),
    );
    expect(weapp.server.requests.map((r) => r.path)).toEqual([`/v1/codes/${RECV}`]);
  });
});
