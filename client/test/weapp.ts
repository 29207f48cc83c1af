import { act } from '@testing-library/react';
import jsQR from 'jsqr';
import type { CodeView, PacketView } from '../../functions/src/http/contract';

/**
 * The mini-program under test: what only the weapp path does, without WeChat.
 *
 *   jest.mock('@tarojs/taro', () => require('./weapp').weappTaro());
 *   inWeappMode();                       // TARO_ENV=weapp, a fresh recorder, the `wx` global
 *   weapp.server.on('GET /v1/wallet', () => ({ status: 200, body: wallet }));
 *   … render a page, act …
 *   expect(weapp.callsTo('requestPayment')).toEqual([request]);
 *
 * - Taro's WeChat-only APIs (login, requestPayment, requestMerchantTransfer, getGroupEnterInfo,
 *   showShareMenu, updateShareMenu, createCanvasContext…) are recorded in call order, answered by
 *   `weapp.answer(api, fn)` (default: a WeChat-like ok), promise and success/fail callbacks both.
 * - `wx.requestMerchantTransfer` (no Taro wrapper in Taro 4.2) is the same recorded double on the
 *   global `wx`.
 * - The HTTP layer (Taro.request) is a small fake server: the app's own API client runs, so a
 *   test proves the value travels from the server's JSON to the WeChat API unchanged. A request
 *   no route answers is recorded in `weapp.server.unrouted` and fails the test (inWeappMode checks).
 * - useShareAppMessage keeps the page's latest handler: `weapp.share()` calls it as WeChat does.
 * - Entering the mini-program: `weapp.enterFromGroup(chat)` opens the page as from a share card
 *   in a group chat (enter options with a shareTicket, scene 1044); `getGroupEnterInfo` then
 *   answers with that chat's encrypted group data, a fresh sealing per call (as WeChat's carries
 *   a timestamp); entered any other way it fails as WeChat does outside a group.
 * - `getFileSystemManager().readFile` reads the files in `weapp.files` (temp files such as the
 *   avatar chooser's), recorded as `readFile`.
 * - `weapp.order()`: WeChat calls and API requests in one sequence (what came before what).
 * - createCanvasContext gives a recording context; `weapp.canvas.bitmap(id, w, h)` replays what
 *   was drawn (draw(false) clears first, as in WeChat) into RGBA pixels for jsQR.
 *
 * The recorder is a module singleton: the jest.mock factory and the test file get the same one.
 */

/** The APIs recorded (and answered) by name. */
export const RECORDED_APIS = [
  'login',
  'requestPayment',
  'requestMerchantTransfer',
  'getGroupEnterInfo',
  'showShareMenu',
  'updateShareMenu',
  'hideShareMenu',
  'requestSubscribeMessage',
  'setClipboardData',
  'reLaunch',
  'redirectTo',
  'navigateTo',
  'showToast',
  'showModal',
] as const;
export type RecordedApi = (typeof RECORDED_APIS)[number];

export interface RecordedCall {
  api: RecordedApi | 'createCanvasContext' | 'readFile' | 'request';
  /** The options object as the app passed it, callbacks removed (a request: `METHOD /path`). */
  args: unknown;
}

/** What WeChat says by default: `<api>:ok`, plus what each API returns. */
const DEFAULT_ANSWERS: Partial<Record<RecordedApi, (o: Record<string, unknown>) => unknown>> = {
  login: () => ({ code: 'wx-login-code-0001', errMsg: 'login:ok' }),
  requestPayment: () => ({ errMsg: 'requestPayment:ok' }),
  requestMerchantTransfer: () => ({ errMsg: 'requestMerchantTransfer:ok' }),
  requestSubscribeMessage: () => ({ errMsg: 'requestSubscribeMessage:ok' }),
  showModal: () => ({ confirm: true, cancel: false, errMsg: 'showModal:ok' }),
};

/** A failure as WeChat reports it (`fail` callback / rejected promise with errMsg). */
export class WxFail extends Error {
  constructor(public errMsg: string) {
    super(errMsg);
  }
}

function withoutCallbacks(o: unknown): unknown {
  if (!o || typeof o !== 'object') return o;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o as Record<string, unknown>)) if (typeof v !== 'function') out[k] = v;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Canvas: a recording CanvasContext and a rasteriser.

/** One operation on a context, in order (`set:<prop>` for a property assignment). */
export interface CanvasOp {
  canvasId: string;
  /** Which createCanvasContext call made the context (each has its own queue until draw). */
  context: number;
  op: string;
  args: unknown[];
}

/** The ops the rasteriser understands; anything else fails the replay (a draw we cannot check). */
const DRAWING_OPS = new Set(['setFillStyle', 'set:fillStyle', 'fillRect', 'draw']);

export interface Bitmap {
  width: number;
  height: number;
  /** RGBA, row-major. */
  data: Uint8ClampedArray;
}

function parseColor(c: unknown): [number, number, number, number] {
  const s = String(c).trim().toLowerCase();
  const named: Record<string, string> = { white: '#ffffff', black: '#000000' };
  const hex = named[s] ?? s;
  let m = /^#([0-9a-f]{6})$/.exec(hex);
  if (m) {
    const n = parseInt(m[1]!, 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255, 255];
  }
  m = /^#([0-9a-f]{3})$/.exec(hex);
  if (m) return [...m[1]!].map((d) => parseInt(d + d, 16)).concat(255) as [number, number, number, number];
  throw new Error(`canvas: unsupported colour ${JSON.stringify(c)}`);
}

/** Records every call and property write on the contexts it hands out. */
export class CanvasRecorder {
  ops: CanvasOp[] = [];
  private contexts = 0;

  /** A stand-in for `Taro.createCanvasContext(canvasId)`. */
  context(canvasId: string): unknown {
    const context = ++this.contexts;
    const ops = this.ops;
    const target: Record<string, unknown> = { canvasId };
    return new Proxy(target, {
      get: (t, key) => {
        if (typeof key !== 'string' || key === 'canvasId') return t[key as string];
        if (key === 'then') return undefined; // not a thenable
        return (...args: unknown[]) => {
          ops.push({ canvasId, context, op: key, args });
          const cb = key === 'draw' ? args.find((a) => typeof a === 'function') : undefined;
          if (typeof cb === 'function') setTimeout(() => (cb as () => void)(), 0);
        };
      },
      set: (_t, key, value) => {
        ops.push({ canvasId, context, op: `set:${String(key)}`, args: [value] });
        return true;
      },
    });
  }

  /** How many times a canvas was committed (`draw`). */
  draws(canvasId: string): number {
    return this.ops.filter((o) => o.canvasId === canvasId && o.op === 'draw').length;
  }

  /**
   * The canvas as WeChat would show it after everything drawn so far: each context queues its
   * operations; `draw(false)` (or no argument) clears the canvas to transparent and runs the
   * queue, `draw(true)` runs it on top. A rectangle covers the pixels whose centres it contains.
   * Throws on an operation the replay does not model or a rectangle outside the canvas.
   */
  bitmap(canvasId: string, width: number, height: number): Bitmap {
    const data = new Uint8ClampedArray(width * height * 4);
    const queues = new Map<number, CanvasOp[]>();
    const fill = new Map<number, [number, number, number, number]>();
    for (const o of this.ops.filter((x) => x.canvasId === canvasId)) {
      if (!DRAWING_OPS.has(o.op)) throw new Error(`canvas ${canvasId}: ${o.op} is not modelled by the replay`);
      if (o.op !== 'draw') {
        queues.set(o.context, [...(queues.get(o.context) ?? []), o]);
        continue;
      }
      if (o.args[0] !== true) data.fill(0);
      for (const q of queues.get(o.context) ?? []) {
        if (q.op === 'setFillStyle' || q.op === 'set:fillStyle') fill.set(o.context, parseColor(q.args[0]));
        else if (q.op === 'fillRect') {
          const [x, y, w, h] = q.args as number[];
          if (![x, y, w, h].every((n) => Number.isFinite(n)))
            throw new Error(`canvas ${canvasId}: fillRect(${q.args.join(', ')})`);
          if (x! < 0 || y! < 0 || x! + w! > width + 1 || y! + h! > height + 1)
            throw new Error(`canvas ${canvasId}: fillRect(${q.args.join(', ')}) outside ${width}×${height}`);
          const rgba = fill.get(o.context) ?? [0, 0, 0, 255];
          const x0 = Math.max(0, Math.ceil(x! - 0.5));
          const y0 = Math.max(0, Math.ceil(y! - 0.5));
          const x1 = Math.min(width, Math.ceil(x! + w! - 0.5));
          const y1 = Math.min(height, Math.ceil(y! + h! - 0.5));
          for (let py = y0; py < y1; py++) for (let px = x0; px < x1; px++) data.set(rgba, (py * width + px) * 4);
        }
      }
      queues.set(o.context, []);
    }
    return { width, height, data };
  }
}

/** The text jsQR reads from a bitmap (undefined: no QR found). */
export function decodeQr(b: Bitmap): string | undefined {
  return jsQR(b.data, b.width, b.height, { inversionAttempts: 'dontInvert' })?.data;
}

/**
 * What a scanner needs besides the data: the whole canvas opaque, the code's dark modules inside
 * a light quiet zone, the module size (from the top-left finder pattern: 7 modules wide).
 */
export interface QrGeometry {
  /** Pixels that are not fully opaque (a background missing somewhere). */
  transparent: number;
  /** Bounding box of the dark pixels. */
  left: number;
  top: number;
  right: number;
  bottom: number;
  /** One module in pixels. */
  module: number;
  /** The light margin around the code on its narrowest side, in modules. */
  quietModules: number;
}

export function qrGeometry(b: Bitmap): QrGeometry {
  const dark = (x: number, y: number) => {
    const i = (y * b.width + x) * 4;
    return b.data[i + 3]! === 255 && b.data[i]! + b.data[i + 1]! + b.data[i + 2]! < 3 * 128;
  };
  let transparent = 0;
  let left = b.width;
  let top = b.height;
  let right = -1;
  let bottom = -1;
  for (let y = 0; y < b.height; y++)
    for (let x = 0; x < b.width; x++) {
      if (b.data[(y * b.width + x) * 4 + 3]! !== 255) transparent++;
      if (dark(x, y)) {
        left = Math.min(left, x);
        top = Math.min(top, y);
        right = Math.max(right, x);
        bottom = Math.max(bottom, y);
      }
    }
  if (right < 0) return { transparent, left: 0, top: 0, right: 0, bottom: 0, module: 0, quietModules: 0 };
  // The finder's outer ring: a dark run 7 modules long along its top row.
  let run = 0;
  while (left + run < b.width && dark(left + run, top)) run++;
  const module = run / 7;
  const quiet = Math.min(left, top, b.width - 1 - right, b.height - 1 - bottom);
  return { transparent, left, top, right, bottom, module, quietModules: module ? quiet / module : 0 };
}

// ---------------------------------------------------------------------------------------------
// HTTP: a fake API behind Taro.request.

export interface FakeRequest {
  method: string;
  /** Path without the query, e.g. /v1/session. */
  path: string;
  query: Record<string, string>;
  header: Record<string, string>;
  body: unknown;
}
export interface FakeResponse {
  status: number;
  body?: unknown;
  header?: Record<string, string>;
}
type Route = (req: FakeRequest) => FakeResponse | Promise<FakeResponse>;

export class FakeServer {
  routes = new Map<string, Route>();
  requests: FakeRequest[] = [];
  unrouted: string[] = [];

  /** `on('POST /v1/session', req => ({ status: 201, body }))`; a later route replaces an earlier one. */
  on(key: string, route: Route): this {
    this.routes.set(key, route);
    return this;
  }

  /** The requests to one route, in order. */
  to(key: string): FakeRequest[] {
    return this.requests.filter((r) => `${r.method} ${r.path}` === key);
  }

  async handle(o: {
    url: string;
    method?: string;
    header?: Record<string, string>;
    data?: unknown;
  }): Promise<{ statusCode: number; data: unknown; header: Record<string, string>; errMsg: string }> {
    const u = new URL(o.url);
    const req: FakeRequest = {
      method: o.method ?? 'GET',
      path: u.pathname,
      query: Object.fromEntries(u.searchParams),
      header: o.header ?? {},
      body: o.data,
    };
    this.requests.push(req);
    const key = `${req.method} ${req.path}`;
    const route =
      this.routes.get(key) ??
      [...this.routes.entries()].find(([k]) => k.endsWith('*') && key.startsWith(k.slice(0, -1)))?.[1];
    if (!route) {
      this.unrouted.push(key);
      return {
        statusCode: 500,
        data: { error: { code: 'INTERNAL', message: `no route ${key}` } },
        header: {},
        errMsg: 'request:ok',
      };
    }
    const r = await route(req);
    return { statusCode: r.status, data: r.body ?? {}, header: r.header ?? {}, errMsg: 'request:ok' };
  }
}

// ---------------------------------------------------------------------------------------------
// The recorder and the Taro stand-in.

/** WeChat's share handler's argument (a tap on an open-type="share" button, or the ··· menu). */
export interface ShareFrom {
  from: 'button' | 'menu';
  target?: unknown;
}
export interface SharePayload {
  title?: string;
  path?: string;
  imageUrl?: string;
}

/** How the mini-program was entered, as `wx.getEnterOptionsSync()` reports it. */
export interface EnterOptions {
  path: string;
  query: Record<string, string>;
  /** 1001: the 发现 list (the default here); 1044: a share card with a share ticket (a group chat). */
  scene: number;
  /** Present when entered from a share card in a group chat. */
  shareTicket?: string;
  referrerInfo: Record<string, unknown>;
}

/** A group chat the mini-program was entered from. */
export interface GroupChat {
  /** The ticket of the share card tapped in the chat (WeChat's, opaque to the app). */
  shareTicket: string;
  /** The group's id for this mini-program, what the server reads from the decrypted data. */
  opengid: string;
}

/** Group data as `getGroupEnterInfo` hands it out: sealed for the server, opaque to the app. */
export interface SealedGroupData {
  encryptedData: string;
  iv: string;
}

/**
 * The n-th sealing of a chat's group data: standard base64 with `+`, `/` and `=` in both fields
 * (so a transport that does not encode a query parameter loses it), different on every call.
 * Not real AES (the server's tests seal real payloads): the client only carries it.
 */
export function sealedGroupData(opengid: string, n: number): SealedGroupData {
  let payload = JSON.stringify({ opengid, n });
  while (payload.length % 3 !== 1) payload += ' '; // base64 of it ends in ==
  const iv = Buffer.alloc(16);
  Buffer.from([0xfb, 0xef, 0xbe, 0xff, 0xff, 0xff]).copy(iv); // ++++////
  iv.writeUInt32BE(n, 6);
  return { encryptedData: `q+/Z${Buffer.from(payload).toString('base64')}`, iv: iv.toString('base64') };
}

class WeappRecorder {
  calls: RecordedCall[] = [];
  canvas = new CanvasRecorder();
  server = new FakeServer();
  router: { params: Record<string, string | undefined>; path?: string } = { params: {} };
  /** How the mini-program was entered (see {@link enterFromGroup}). */
  enterOptions: EnterOptions = { path: 'pages/home/index', query: {}, scene: 1001, referrerInfo: {} };
  /** What each default getGroupEnterInfo answer handed out, in order. */
  sealed: SealedGroupData[] = [];
  /** Files on the device (temp files), base64, by path: what getFileSystemManager reads. */
  files = new Map<string, string>();
  private answers = new Map<RecordedApi, (o: Record<string, unknown>) => unknown>();
  private shareHandler: ((o: ShareFrom) => SharePayload | Promise<SharePayload>) | undefined;

  reset(): void {
    this.calls = [];
    this.canvas = new CanvasRecorder();
    this.server = new FakeServer();
    this.router = { params: {} };
    this.enterOptions = { path: 'pages/home/index', query: {}, scene: 1001, referrerInfo: {} };
    this.sealed = [];
    this.files = new Map();
    this.answers.clear();
    this.shareHandler = undefined;
  }

  /**
   * The page at `weapp.router` is entered from a share card tapped in a group chat: the enter
   * options carry the card's share ticket (scene 1044), and getGroupEnterInfo answers with this
   * chat's group data from now on.
   */
  enterFromGroup(opengid: string): GroupChat {
    const chat = { shareTicket: `share-ticket-of-${opengid}`, opengid };
    this.enterOptions = {
      path: this.router.path ?? 'pages/open/index',
      query: Object.fromEntries(
        Object.entries(this.router.params).filter((e): e is [string, string] => typeof e[1] === 'string'),
      ),
      scene: 1044,
      shareTicket: chat.shareTicket,
      referrerInfo: {},
    };
    return chat;
  }

  /**
   * WeChat's getGroupEnterInfo: the entering chat's group data, sealed afresh (its timestamp
   * changes); entered other than from a group chat, it fails.
   */
  private groupEnterInfo(): unknown {
    const ticket = this.enterOptions.shareTicket;
    if (!ticket) throw new WxFail('getGroupEnterInfo:fail not in group chat scene');
    const sealed = sealedGroupData(ticket.replace(/^share-ticket-of-/, ''), this.sealed.length + 1);
    this.sealed.push(sealed);
    return { ...sealed, errMsg: 'getGroupEnterInfo:ok' };
  }

  /**
   * WeChat calls and API requests in the order they happened: the API's name, or `METHOD
   * /path` for a request (canvas contexts and file reads included as `createCanvasContext`,
   * `readFile`).
   */
  order(): string[] {
    return this.calls.map((c) => (c.api === 'request' ? String(c.args) : c.api));
  }

  /** `getFileSystemManager().readFile` (callbacks), recorded as `readFile`. */
  readFile(o: {
    filePath: string;
    encoding?: string;
    success?: (r: { data: unknown }) => void;
    fail?: (e: { errMsg: string }) => void;
    complete?: (r: unknown) => void;
  }): void {
    this.calls.push({ api: 'readFile', args: withoutCallbacks(o) });
    setTimeout(() => {
      const b64 = this.files.get(o.filePath);
      if (b64 === undefined) {
        const e = { errMsg: `readFile:fail no such file or directory, open ${o.filePath}` };
        o.fail?.(e);
        o.complete?.(e);
        return;
      }
      const bytes = Buffer.from(b64, 'base64');
      const r = {
        data: o.encoding === 'base64' ? b64 : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
        errMsg: 'readFile:ok',
      };
      o.success?.(r);
      o.complete?.(r);
    }, 0);
  }

  /** How WeChat answers `api` from now on: return a value (ok) or throw a {@link WxFail}. */
  answer(api: RecordedApi, fn: (o: Record<string, unknown>) => unknown): void {
    this.answers.set(api, fn);
  }

  /** The options each call to `api` was given, in order. */
  callsTo(api: RecordedCall['api']): unknown[] {
    return this.calls.filter((c) => c.api === api).map((c) => c.args);
  }

  /** Calls one of the recorded APIs as WeChat would (promise and callbacks). */
  invoke(api: RecordedApi, options: unknown): Promise<unknown> {
    const o = (options ?? {}) as Record<string, unknown> & {
      success?: (r: unknown) => void;
      fail?: (e: unknown) => void;
      complete?: (r: unknown) => void;
    };
    this.calls.push({ api, args: withoutCallbacks(options) });
    const fn =
      this.answers.get(api) ??
      (api === 'getGroupEnterInfo' ? () => this.groupEnterInfo() : undefined) ??
      DEFAULT_ANSWERS[api] ??
      (() => ({ errMsg: `${api}:ok` }));
    return new Promise((resolve, reject) => {
      // Asynchronous like WeChat: the answer arrives after the call returns.
      setTimeout(() => {
        try {
          const res = fn(o);
          o.success?.(res);
          o.complete?.(res);
          resolve(res);
        } catch (err) {
          const e =
            err instanceof WxFail ? { errMsg: err.errMsg } : { errMsg: `${api}:fail ${(err as Error).message}` };
          o.fail?.(e);
          o.complete?.(e);
          // Only a caller using the promise sees the rejection (callback callers are done).
          if (!o.fail) reject(e);
          else resolve(undefined);
        }
      }, 0);
    });
  }

  /** The page's share card as WeChat asks for it (the latest useShareAppMessage handler). */
  async share(from: ShareFrom = { from: 'button' }): Promise<SharePayload> {
    if (!this.shareHandler) throw new Error('the page registered no useShareAppMessage handler');
    return this.shareHandler(from);
  }

  /** Whether a share handler is registered (a page that does not share has none). */
  get shares(): boolean {
    return !!this.shareHandler;
  }

  setShareHandler(fn: (o: ShareFrom) => SharePayload | Promise<SharePayload>): void {
    this.shareHandler = fn;
  }
}

export const weapp = new WeappRecorder();

/** The mini-program's `wx` global as far as the app uses it directly. */
const wxGlobal = {
  requestMerchantTransfer: (o: unknown) => void weapp.invoke('requestMerchantTransfer', o),
  canIUse: () => true,
};

/**
 * `@tarojs/taro` for a weapp test: the H5 module (components still render in jsdom) with the
 * WeChat APIs, the page hooks, the router and request replaced by the recorder. `extra` wins.
 */
export function weappTaro(extra: Record<string, unknown> = {}): unknown {
  const apis = Object.fromEntries(RECORDED_APIS.map((api) => [api, (o: unknown) => weapp.invoke(api, o)]));
  return require('./taroMock').taroWith({
    ...apis,
    createCanvasContext: (id: string) => {
      weapp.calls.push({ api: 'createCanvasContext', args: id });
      return weapp.canvas.context(id);
    },
    request: (o: { url: string; method?: string; header?: Record<string, string>; data?: unknown }) => {
      weapp.calls.push({ api: 'request', args: `${o.method ?? 'GET'} ${new URL(o.url).pathname}` });
      return weapp.server.handle(o);
    },
    getEnterOptionsSync: () => weapp.enterOptions,
    getLaunchOptionsSync: () => weapp.enterOptions,
    getFileSystemManager: () => ({ readFile: (o: Parameters<WeappRecorder['readFile']>[0]) => weapp.readFile(o) }),
    useRouter: () => weapp.router,
    useShareAppMessage: (fn: (o: ShareFrom) => SharePayload) => weapp.setShareHandler(fn),
    useDidShow: () => undefined,
    useDidHide: () => undefined,
    usePullDownRefresh: () => undefined,
    useReachBottom: () => undefined,
    stopPullDownRefresh: () => undefined,
    ...extra,
  });
}

/**
 * The current describe block runs as the mini-program: TARO_ENV=weapp (the app reads it at run
 * time in tests; the weapp build inlines it), a fresh recorder, the `wx` global. After each test
 * the environment is H5 again, and a request no route answered fails the test.
 */
export function inWeappMode(): void {
  const g = globalThis as { wx?: unknown };
  beforeEach(() => {
    process.env.TARO_ENV = 'weapp';
    process.env.TARO_PLATFORM = 'mini';
    weapp.reset();
    g.wx = wxGlobal;
  });
  afterEach(() => {
    process.env.TARO_ENV = 'h5';
    process.env.TARO_PLATFORM = 'web';
    delete g.wx;
    const unrouted = weapp.server.unrouted;
    if (unrouted.length) throw new Error(`requests no route answered: ${unrouted.join(', ')}`);
  });
}

// ---------------------------------------------------------------------------------------------
// What the pages are expected to put in a QR and a share card.

/**
 * The text a page's QR encodes for a code the server returned: its link, which a phone's camera
 * or WeChat's scanner opens.
 */
export const qrTextOf = (c: Pick<CodeView, 'link'>): string => c.link;

/**
 * A Code as the server returns it, issued at `now`: it lives two minutes, and a code that rotates
 * (live, receive) asks for a fresh one after one minute.
 */
export function codeFixture(code: string, kind: CodeView['kind'], now: number): CodeView {
  const at = (ms: number) => new Date(now + ms).toISOString();
  return {
    code,
    link: linkOf(code),
    kind,
    issuedAt: at(0),
    expiresAt: at(120_000),
    ...(kind === 'share' ? {} : { refreshAfter: at(60_000) }),
  };
}

/** Alice's active packet `p1` as the server returns it: 10 yuan in 5 lucky shares, none claimed yet. */
export function packetFixture(now: number): PacketView {
  const at = (ms: number) => new Date(now + ms).toISOString();
  return {
    id: 'p1',
    sender: { id: 'u-alice', name: 'Alice' },
    total: 1_000,
    count: 5,
    mode: 'lucky',
    greeting: '新年快乐',
    scene: 'none',
    status: 'active',
    claimedCount: 0,
    claimedAmount: 0,
    refundedAmount: 0,
    createdAt: at(0),
    expiresAt: at(86_400_000),
    claims: [],
  };
}

/** The link the server gives a code in these tests (`<PUBLIC_BASE_URL>/o/<code>`). */
export const linkOf = (code: string): string => `https://hb.example.cn/o/${encodeURIComponent(code)}`;

/** What a page's share card is expected to carry. */
export interface ExpectedShare {
  title: string;
  /** The share code the server returned (the card's path is the open page with it). */
  code: string;
  imageUrl?: string;
}

/**
 * The share menu each kind of packet asks for (Taro.showShareMenu/updateShareMenu): a
 * group-only packet's card carries a share ticket, so the chat it lands in can be verified, and
 * the 朋友圈 share (which has no ticket) is left out — `showShareItems`, which Taro's weapp
 * runtime turns into WeChat's `menus` (weappSimulate checks what reaches `wx`); an ordinary
 * packet keeps WeChat's default menu, so no call may ask for a ticket.
 */
export const SHARE_MENU = {
  ordinary: undefined,
  groupOnly: { withShareTicket: true, showShareItems: ['shareAppMessage'] },
} as const;
export type PacketKind = keyof typeof SHARE_MENU;

/** A packet's kind as the share menu sees it. */
export const packetKindOf = (p: { groupOnly?: boolean | undefined }): PacketKind =>
  p.groupOnly ? 'groupOnly' : 'ordinary';

/** The open page's deep link for a code: `/pages/open/index?c=<code>`. */
export const openPathOf = (code: string): string => `/pages/open/index?c=${encodeURIComponent(code)}`;

/** The share card, checked field by field (and nothing else in it). */
export function expectSharePayload(payload: SharePayload, want: ExpectedShare): void {
  expect(payload).toEqual({
    title: want.title,
    path: openPathOf(want.code),
    ...(want.imageUrl ? { imageUrl: want.imageUrl } : {}),
  });
}

/**
 * The share menu calls made so far are the ones {@link SHARE_MENU} gives the packet's kind: for
 * a group-only packet at least one, each asking for the ticket; for an ordinary one none asking.
 */
export function expectShareMenu(kind: PacketKind): void {
  const menu = [...weapp.callsTo('showShareMenu'), ...weapp.callsTo('updateShareMenu')] as {
    withShareTicket?: boolean;
  }[];
  const want = SHARE_MENU[kind];
  if (want) {
    expect(menu.length).toBeGreaterThan(0);
    for (const m of menu) expect(m).toMatchObject(want);
  } else expect(menu.filter((m) => m.withShareTicket === true)).toEqual([]);
}

/**
 * Types into a Field on weapp, where the label is the Input's aria-label (H5 puts it on
 * data-label; see helpers.type): the Taro Input reports typing as an `input` event with the value.
 */
export function typeWeapp(label: string, value: string): void {
  const el = [...document.querySelectorAll<HTMLElement>(`[aria-label="${label}"]`)].find((e) =>
    /input/i.test(e.tagName),
  );
  if (!el) throw new Error(`no weapp input labelled ${label}`);
  act(() => {
    el.dispatchEvent(new CustomEvent('input', { detail: { value } }));
  });
}
