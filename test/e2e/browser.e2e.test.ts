import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CHROMIUM_SOURCES,
  DEBIAN_CHROMIUM,
  chooseChromium,
  launchChromium,
  type ChromiumChoice,
} from '../helpers/browser';

/**
 * The browser the end-to-end tests get (test/helpers/browser.ts): the choice rule, and that each
 * browser it can pick on this machine starts headless, draws on a canvas and keeps the same-origin
 * policy on — the app and the API live on different origins, so a browser without it would let
 * a CORS mistake through.
 */
describe('choosing the browser', () => {
  test('CHROMIUM_PATH wins over everything', () => {
    expect(chooseChromium({ CHROMIUM_PATH: '/opt/my/chrome' }, () => true)).toEqual({
      source: CHROMIUM_SOURCES.env,
      executablePath: '/opt/my/chrome',
    });
  });

  test("Debian's chromium when it is installed", () => {
    expect(chooseChromium({}, (p) => p === DEBIAN_CHROMIUM)).toEqual({
      source: CHROMIUM_SOURCES.debian,
      executablePath: DEBIAN_CHROMIUM,
    });
  });

  test('the npm package @sparticuz/chromium when no system browser is installed', () => {
    expect(chooseChromium({ CHROMIUM_PATH: ' ' }, () => false)).toEqual({ source: CHROMIUM_SOURCES.npm });
  });
});

// The default choice here, and always the npm one: CI (with Debian's browser) checks both.
const defaultChoice = chooseChromium(process.env, existsSync);
const choices: ChromiumChoice[] =
  defaultChoice.source === CHROMIUM_SOURCES.npm ? [defaultChoice] : [defaultChoice, { source: CHROMIUM_SOURCES.npm }];

describe.each(choices.map((c) => [c.source, c] as const))('%s', (_name, choice) => {
  let api: Server;
  let apiOrigin = '';
  let hits = 0;

  beforeAll(async () => {
    // A stand-in API on another origin that sends no CORS headers.
    api = createServer((_req, res) => {
      hits++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"secret":1}');
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    apiOrigin = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((r) => api.close(r));
  });

  test('starts headless, draws on a canvas, and blocks a cross-origin read without CORS headers', async () => {
    const { browser, chromium } = await launchChromium(choice);
    try {
      expect(chromium.source).toBe(choice.source);
      const page = await browser.newPage();
      // An http page (not about:blank) so that the fetch below is a real cross-origin request.
      const app = createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end('<canvas id="c" width="40" height="40"></canvas>');
      });
      await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
      try {
        await page.goto(`http://localhost:${(app.address() as AddressInfo).port}/`);
        // A string: this project type-checks without the DOM library.
        const pixel = await page.evaluate(`(() => {
          const ctx = document.getElementById('c').getContext('2d');
          ctx.fillStyle = '#c8102e';
          ctx.fillRect(0, 0, 40, 40);
          return Array.from(ctx.getImageData(20, 20, 1, 1).data);
        })()`);
        expect(pixel).toEqual([0xc8, 0x10, 0x2e, 255]);

        const before = hits;
        const outcome = await page.evaluate(async (url) => {
          try {
            const res = await fetch(url);
            return `read ${await res.text()}`;
          } catch (err) {
            return `blocked: ${(err as Error).name}`;
          }
        }, `${apiOrigin}/v1/health`);
        expect(hits).toBe(before + 1); // the request did go out…
        expect(outcome).toBe('blocked: TypeError'); // …and the page could not read the answer
      } finally {
        await new Promise((r) => app.close(r));
      }
    } finally {
      await browser.close();
    }
  });
});
