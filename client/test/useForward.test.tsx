import { act, renderHook } from '@testing-library/react';
import type { PacketSummary } from '../src/api';
import { ApiError } from '../src/api/errors';
import { useForward } from '../src/lib/useForward';
import { PACKET_SUMMARY } from './helpers';

const mockClipboard = jest.fn(async (_o: unknown) => ({ errMsg: 'setClipboardData:ok' }));
jest.mock('@tarojs/taro', () => require('./taroMock').taroWith({ setClipboardData: (o: unknown) => mockClipboard(o) }));

const mockApi = { newCode: jest.fn() };
jest.mock('../src/api', () => ({
  get api() {
    return mockApi;
  },
}));

const packet = { ...PACKET_SUMMARY } as PacketSummary;
const FWD = { code: '1.k1.sp1.abc.FWD_CODE_9', kind: 'share', issuedAt: packet.createdAt, expiresAt: packet.expiresAt };
const LINK = `${window.location.origin}${window.location.pathname}#/pages/open/index?c=${FWD.code}`;

type Props = { packet: PacketSummary | undefined; allowed: boolean };
const mount = (initial: Props = { packet, allowed: true }) =>
  renderHook(
    (p: Props) =>
      useForward({ packet: p.packet, via: 'SHARE-CODE-1', allowed: p.allowed, title: 'Alice的红包：新年快乐' }),
    { initialProps: initial },
  );

beforeEach(() => {
  mockApi.newCode.mockReset();
  mockApi.newCode.mockResolvedValue(FWD);
  mockClipboard.mockClear();
  mockClipboard.mockImplementation(async () => ({ errMsg: 'setClipboardData:ok' }));
});

describe('useForward: 转发 from the open page', () => {
  test('copy mints one share code naming the code the page was opened with, shows its link and copies it; again: the same code, no new request', async () => {
    const { result } = mount();
    await act(() => result.current.copy());
    expect(mockApi.newCode).toHaveBeenCalledTimes(1);
    expect(mockApi.newCode).toHaveBeenCalledWith('p1', 'share', 'SHARE-CODE-1');
    expect(result.current.code).toEqual(FWD);
    expect(result.current.link).toBe(LINK);
    expect(mockClipboard).toHaveBeenCalledWith({ data: LINK });
    await act(() => result.current.copy());
    expect(mockApi.newCode).toHaveBeenCalledTimes(1);
    expect(mockClipboard).toHaveBeenCalledTimes(2);
    expect(result.current.busy).toBe(false);
  });

  test('a double tap sends one request; `busy` while it is out', async () => {
    const answers: Array<(v: typeof FWD) => void> = [];
    mockApi.newCode.mockImplementation(() => new Promise((res) => answers.push(res)));
    const { result } = mount();
    let first!: Promise<void>;
    act(() => {
      first = result.current.copy();
    });
    expect(result.current.busy).toBe(true);
    let second!: Promise<void>;
    act(() => {
      second = result.current.copy();
    });
    expect(mockApi.newCode).toHaveBeenCalledTimes(1);
    await act(async () => {
      for (const answer of answers) answer(FWD);
      await Promise.all([first, second]);
    });
    expect(result.current.busy).toBe(false);
    expect(result.current.link).toBe(LINK);
  });

  test('the forward limit is a refusal (dismissable); retrying asks again', async () => {
    mockApi.newCode.mockRejectedValueOnce(new ApiError('FORBIDDEN', 403, { maxForwards: 3 }));
    const { result } = mount();
    await act(() => result.current.copy());
    expect(result.current.refusal?.title).toBe('转发次数已达上限');
    expect(result.current.error).toBeUndefined();
    expect(result.current.link).toBeUndefined();
    expect(mockClipboard).not.toHaveBeenCalled();
    act(() => result.current.dismissRefusal());
    expect(result.current.refusal).toBeUndefined();
    await act(() => result.current.copy());
    expect(mockApi.newCode).toHaveBeenCalledTimes(2);
    expect(result.current.link).toBe(LINK);
  });

  test('another failure is an error in words, cleared by the next attempt', async () => {
    mockApi.newCode.mockRejectedValueOnce(new ApiError('UNAVAILABLE', 503));
    const { result } = mount();
    await act(() => result.current.copy());
    expect(result.current.error).toBe(new ApiError('UNAVAILABLE', 503).message);
    expect(result.current.refusal).toBeUndefined();
    let p!: Promise<void>;
    act(() => {
      p = result.current.copy();
    });
    expect(result.current.error).toBeUndefined();
    await act(() => p);
    expect(result.current.link).toBe(LINK);
  });

  test('the clipboard refusing: the link stays shown, with a note to copy it by hand', async () => {
    mockClipboard.mockRejectedValueOnce(new Error('denied'));
    const { result } = mount();
    await act(() => result.current.copy());
    expect(result.current.link).toBe(LINK);
    expect(result.current.error).toBe('无法写入剪贴板，请手动复制下面的链接');
  });

  test('before the packet is known nothing is asked', async () => {
    const { result } = mount({ packet: undefined, allowed: false });
    await act(() => result.current.copy());
    expect(mockApi.newCode).not.toHaveBeenCalled();
    expect(result.current.link).toBeUndefined();
  });

  describe('weapp', () => {
    const env = process.env.TARO_ENV;
    beforeEach(() => {
      process.env.TARO_ENV = 'weapp';
    });
    afterEach(() => {
      process.env.TARO_ENV = env;
    });

    test('the code is minted as soon as forwarding is allowed (the share card needs it), once', async () => {
      const { result, rerender } = mount({ packet, allowed: false });
      await act(async () => undefined);
      expect(mockApi.newCode).not.toHaveBeenCalled();
      rerender({ packet, allowed: true });
      await act(async () => undefined);
      expect(mockApi.newCode).toHaveBeenCalledTimes(1);
      expect(mockApi.newCode).toHaveBeenCalledWith('p1', 'share', 'SHARE-CODE-1');
      expect(result.current.code).toEqual(FWD);
      // No link on weapp: the share menu carries the code.
      expect(result.current.link).toBeUndefined();
      rerender({ packet, allowed: false });
      rerender({ packet, allowed: true });
      await act(async () => undefined);
      expect(mockApi.newCode).toHaveBeenCalledTimes(1);
    });
  });

  test('on H5 nothing is minted before the tap', async () => {
    mount();
    await act(async () => undefined);
    expect(mockApi.newCode).not.toHaveBeenCalled();
  });
});
