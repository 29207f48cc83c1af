import fc from 'fast-check';
import {
  amountText,
  messageData,
  MessageFields,
  messagePage,
  messageValues,
  NotificationKinds,
  notificationIdOf,
  parseTemplateSetting,
  thingText,
  timeText,
  valueProblem,
  keywordKindOf,
  type NotificationFacts,
} from '../../functions/src/domain/notifications';
import { loadConfig } from '../../functions/src/config';

describe('amountText: fen to WeChat amount values, integer arithmetic', () => {
  it.each([
    [0, '0.00元'],
    [1, '0.01元'],
    [10, '0.10元'],
    [888, '8.88元'],
    [100_00, '100.00元'],
    [200_000_00, '200000.00元'],
    [9_999_999_999, '99999999.99元'],
  ])('%d fen → %s', (fen, text) => {
    expect(amountText(fen)).toBe(text);
    expect(valueProblem('amount', text)).toBeUndefined();
  });

  it('round-trips every fen amount exactly and stays within the 10-digit limit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9_999_999_999 }), (fen) => {
        const text = amountText(fen);
        const [yuan, cents] = text.replace('元', '').split('.');
        expect(Number(yuan) * 100 + Number(cents)).toBe(fen);
        expect(valueProblem('amount', text)).toBeUndefined();
      }),
    );
  });

  it('refuses what is not fen', () => {
    expect(() => amountText(1.5)).toThrow(RangeError);
    expect(() => amountText(-1)).toThrow(RangeError);
    expect(valueProblem('amount', '12345678901.00元')).toBe('more than 10 digits');
    expect(valueProblem('amount', '8.8.8元')).toBe('not an amount');
  });
});

describe('timeText: UTC+8, the shape WeChat takes', () => {
  it('formats in China time', () => {
    expect(timeText(Date.parse('2026-12-05T14:49:30Z'))).toBe('2026年12月5日 22:49');
    expect(timeText(Date.parse('2026-12-31T16:05:00Z'))).toBe('2027年1月1日 00:05');
    expect(valueProblem('time', timeText(Date.now()))).toBeUndefined();
    expect(valueProblem('time', '2026-12-05 22:49')).toBe('not a time');
  });
});

describe('thingText: at most 20 characters, no emoji', () => {
  it('keeps short text, cuts long text with an ellipsis, drops emoji and controls', () => {
    expect(thingText('新年快乐')).toBe('新年快乐');
    expect(thingText('  新年\n快乐  ')).toBe('新年 快乐');
    const long = '一二三四五六七八九十一二三四五六七八九十一二';
    expect(thingText(long)).toBe(`${[...long].slice(0, 19).join('')}…`);
    expect([...thingText(long)]).toHaveLength(20);
    expect(thingText('😀恭喜发财😀')).toBe('恭喜发财');
    expect(thingText('😀😀')).toBe('红包');
    expect(thingText('a\u0000b\u200bc')).toBe('abc');
    expect(valueProblem('thing', long)).toBe('longer than 20 characters');
    expect(valueProblem('thing', '😀')).toBe('emoji');
  });

  it('anything in gives a valid thing out', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), (s) =>
        expect(valueProblem('thing', thingText(s))).toBeUndefined(),
      ),
    );
  });
});

describe('messages', () => {
  const at = Date.parse('2026-02-17T02:03:00Z');
  const facts: NotificationFacts[] = [
    {
      kind: 'packet_finished',
      packetId: 'p1',
      greeting: '恭喜发财，大吉大利，新春快乐，万事如意！！',
      total: 20_000,
      count: 100,
      atMs: at,
    },
    { kind: 'refund_arrived', packetId: 'p2', greeting: '', amount: 5, to: 'balance', atMs: at },
    { kind: 'refund_arrived', packetId: 'p3', greeting: '周末', amount: 1_234, to: 'wechatpay', atMs: at },
    { kind: 'withdrawal_arrived', withdrawalId: 'wd1', amount: 100, atMs: at },
  ];

  it('fill every field of their template within its kind’s limit', () => {
    for (const f of facts) {
      const values = messageValues(f);
      const fields = MessageFields[f.kind];
      expect(values).toHaveLength(fields.length);
      values.forEach((v, i) => void expect(valueProblem(fields[i]!.kind, v)).toBeUndefined());
    }
    expect(messageValues(facts[0]!)).toEqual([
      '恭喜发财，大吉大利，新春快乐，万事如意…',
      '200.00元',
      '100个红包已全部领完',
      '2026年2月17日 10:03',
    ]);
    expect(messageValues(facts[1]!)).toEqual(['0.05元', '红包', '已退回零钱余额', '2026年2月17日 10:03']);
    expect(messageValues(facts[2]!)).toEqual(['12.34元', '周末', '已原路退回微信支付', '2026年2月17日 10:03']);
    expect(messageValues(facts[3]!)).toEqual(['1.00元', '已到账微信零钱', '2026年2月17日 10:03']);
  });

  it('have one id per event and open the right page', () => {
    expect(facts.map(notificationIdOf)).toEqual(['fin-p1', 'rfd-p2', 'rfd-p3', 'wd-wd1']);
    expect(messagePage(facts[0]!)).toBe('pages/packet/index?id=p1');
    expect(messagePage(facts[3]!)).toBe('pages/wallet/index');
    expect(messageData(['amount1', 'thing2', 'time3'], messageValues(facts[3]!))).toEqual({
      amount1: { value: '1.00元' },
      thing2: { value: '已到账微信零钱' },
      time3: { value: '2026年2月17日 10:03' },
    });
    expect(() => messageData(['amount1'], ['1', '2'])).toThrow();
  });
});

describe('template settings', () => {
  it('an id alone takes the recommended keywords; a mapping must match each field’s kind', () => {
    expect(parseTemplateSetting('withdrawal_arrived', 'abcDEF_123-x')).toEqual({
      id: 'abcDEF_123-x',
      keys: ['amount1', 'thing2', 'time3'],
    });
    expect(parseTemplateSetting('withdrawal_arrived', 'abc:amount3,thing7,time1')).toEqual({
      id: 'abc',
      keys: ['amount3', 'thing7', 'time1'],
    });
    for (const off of [undefined, '', '  ', 'off'])
      expect(parseTemplateSetting('packet_finished', off)).toBeUndefined();
    expect(() => parseTemplateSetting('withdrawal_arrived', 'abc:thing1,amount2,time3')).toThrow(/amount keyword/);
    expect(() => parseTemplateSetting('withdrawal_arrived', 'abc:amount1,thing2')).toThrow(/3 keyword ids/);
    expect(() => parseTemplateSetting('refund_arrived', 'abc:amount1,thing2,thing2,time4')).toThrow(/differ/);
    expect(() => parseTemplateSetting('refund_arrived', 'a b')).toThrow();
    expect(() => parseTemplateSetting('refund_arrived', 'a:b:c')).toThrow();
    expect(keywordKindOf('character_string12')).toBe('character_string');
    for (const kind of NotificationKinds)
      expect(MessageFields[kind].every((f) => keywordKindOf(f.key) === f.kind)).toBe(true);
  });

  const base = {
    STAGE: 'test',
    TABLE_NAME: 't',
    CODE_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
    SESSION_SECRET: Buffer.alloc(32, 2).toString('base64'),
  };

  it('config reads WX_TMPL_* once; off without them; refused without the mini-program’s appid and secret or when malformed', () => {
    expect(loadConfig(base).notify).toEqual({ templates: {}, miniprogramState: 'developer' });
    const on = loadConfig({
      ...base,
      WX_APPID: 'wxa',
      WX_SECRET: 's',
      WX_TMPL_PACKET_FINISHED: 'T1',
      WX_TMPL_WITHDRAWAL_ARRIVED: 'T3:amount2,thing1,time5',
    });
    expect(on.notify.templates).toEqual({
      packet_finished: { id: 'T1', keys: ['thing1', 'amount2', 'thing3', 'time4'] },
      withdrawal_arrived: { id: 'T3', keys: ['amount2', 'thing1', 'time5'] },
    });
    expect(() => loadConfig({ ...base, WX_TMPL_REFUND_ARRIVED: 'T2' })).toThrow(/need WX_APPID and WX_SECRET/);
    expect(() => loadConfig({ ...base, WX_APPID: 'wxa', WX_SECRET: 's', WX_TMPL_REFUND_ARRIVED: 'T2:thing1' })).toThrow(
      /WX_TMPL_REFUND_ARRIVED/,
    );
    expect(
      loadConfig({ ...base, STAGE: 'sandbox', PUBLIC_BASE_URL: 'https://hb.example.cn' }).notify.miniprogramState,
    ).toBe('trial');
  });
});
