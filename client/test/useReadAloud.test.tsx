import { act, renderHook } from '@testing-library/react';
import type { PacketSummary } from '../src/api';
import { ApiError } from '../src/api/errors';
import { screenOfError, spokenScreen } from '../src/lib/openScreen';
import { KEYS, load, save } from '../src/lib/storage';
import { useReadAloud } from '../src/lib/useReadAloud';

/** The page's hide callbacks, called by `leave()`. */
const mockHide: Array<() => void> = [];
jest.mock('@tarojs/taro', () =>
  require('./taroMock').taroWith({ useDidHide: (f: () => void) => void mockHide.push(f) }),
);
const leave = () =>
  act(() => {
    for (const f of mockHide) f();
  });

/** The Web Speech API as jsdom lacks it: what was read, and how often reading was stopped. */
const spoken: string[] = [];
const cancel = jest.fn();
beforeAll(() => {
  Object.assign(window, {
    speechSynthesis: { speak: (u: { text: string }) => spoken.push(u.text), cancel },
    SpeechSynthesisUtterance: class {
      lang = '';
      rate = 1;
      constructor(readonly text: string) {}
    },
  });
});
beforeEach(() => {
  spoken.length = 0;
  cancel.mockClear();
  mockHide.length = 0;
});

const summary = { sender: { id: 'u-alice', name: 'Alice' }, greeting: '新年快乐' } as PacketSummary;

describe('useReadAloud: 语音播报 on the open page', () => {
  test('off at first; turned on it is remembered and reads what the page shows at once', () => {
    const { result } = renderHook(() => useReadAloud());
    expect(result.current.available).toBe(true);
    expect(result.current.on).toBe(false);
    act(() => result.current.toggle(() => spokenScreen(summary, { kind: 'claimed', amount: 321, fresh: false })));
    expect(result.current.on).toBe(true);
    expect(load(KEYS.speech)).toBe(true);
    expect(spoken).toEqual(['Alice的红包，新年快乐。你领到了3元2角1分']);
  });

  test('the choice of an earlier visit holds; turned off it stops reading and is remembered', () => {
    save(KEYS.speech, true);
    const { result } = renderHook(() => useReadAloud());
    expect(result.current.on).toBe(true);
    cancel.mockClear();
    const current = jest.fn(() => 'x');
    act(() => result.current.toggle(current));
    expect(result.current.on).toBe(false);
    expect(load(KEYS.speech)).toBe(false);
    expect(cancel).toHaveBeenCalled();
    expect(current).not.toHaveBeenCalled();
    expect(spoken).toEqual([]);
  });

  test('say reads only while on', () => {
    const { result } = renderHook(() => useReadAloud());
    act(() => result.current.say('恭喜，你领到了1元'));
    expect(spoken).toEqual([]);
    act(() => result.current.toggle(() => ''));
    act(() => result.current.say('恭喜，你领到了1元'));
    expect(spoken).toEqual(['恭喜，你领到了1元']);
  });

  test('leaving the page stops reading', () => {
    renderHook(() => useReadAloud());
    cancel.mockClear();
    leave();
    expect(cancel).toHaveBeenCalledTimes(1);
  });
});

describe('spokenScreen: what is read when reading is turned on', () => {
  test('a refusal reads its title and body; an end state its message; nothing known yet reads nothing', () => {
    const refused = screenOfError(new ApiError('FORBIDDEN', 403), 'open', 'Bob');
    expect(refused.kind).toBe('refused');
    expect(spokenScreen(summary, refused)).toBe(
      'Alice的红包，新年快乐。这个红包你不能领取。这是发给 Bob 的专属红包，只有 TA 本人可以领取。',
    );
    expect(spokenScreen(summary, { kind: 'finished' })).toBe('Alice的红包，新年快乐。手慢了，红包派完了');
    expect(spokenScreen(undefined, { kind: 'loading' })).toBe('');
  });
});
