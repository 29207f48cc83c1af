import { render, screen } from '@testing-library/react';
import { SendForm } from '../src/components/SendForm';
import { loadDraft } from '../src/lib/draft';
import type { Limits } from '../src/lib/sendRules';
import { click, type, fieldValue } from './helpers';

const limits: Limits = {
  balance: 100_000,
  perPacketLimit: 20_000,
  dailyLimit: 100_000,
  sentToday: 0,
  feeBps: 0,
  maxShares: 100,
};
const props = () => ({ limits, submit: jest.fn(), onCreated: jest.fn(), onTopUp: jest.fn() });

describe('send draft', () => {
  test('saved as typed, offered back after a reload, restored on 继续编辑', () => {
    const first = render(<SendForm {...props()} />);
    expect(screen.queryByText('继续编辑上次的红包？')).toBeNull();
    type('总金额（元）', '12.34');
    type('红包个数', '4');
    click('普通红包');
    type('祝福语', '草稿还在');
    expect(loadDraft()?.values).toEqual({
      totalYuan: '12.34',
      count: '4',
      mode: 'equal',
      greeting: '草稿还在',
      scene: 'none',
      exclusive: false,
      recipientCode: '',
    });
    first.unmount(); // the page is gone: a reload, a crash

    render(<SendForm {...props()} />);
    expect(screen.getByText('继续编辑上次的红包？')).toBeTruthy();
    expect(fieldValue('总金额（元）')).toBe(''); // nothing filled in until the person says so
    // While offered, the stored draft is not overwritten by the empty form.
    expect(loadDraft()?.values.totalYuan).toBe('12.34');
    click('继续编辑');
    expect(screen.queryByText('继续编辑上次的红包？')).toBeNull();
    expect(fieldValue('总金额（元）')).toBe('12.34');
    expect(fieldValue('红包个数')).toBe('4');
    expect(fieldValue('祝福语')).toBe('草稿还在');
    expect(screen.getByLabelText('普通红包').getAttribute('aria-pressed')).toBe('true');
  });

  test('放弃 clears it', () => {
    const first = render(<SendForm {...props()} />);
    type('总金额（元）', '8');
    first.unmount();
    render(<SendForm {...props()} />);
    click('放弃');
    expect(screen.queryByText('继续编辑上次的红包？')).toBeNull();
    expect(loadDraft()).toBeUndefined();
    expect(fieldValue('总金额（元）')).toBe('');
  });

  test('an empty form leaves no draft; a broken or stale one is ignored', () => {
    const first = render(<SendForm {...props()} />);
    type('总金额（元）', '5');
    type('总金额（元）', '');
    expect(loadDraft()).toBeUndefined();
    first.unmount();
    window.localStorage.setItem('hb.sendDraft', '{not json');
    expect(loadDraft()).toBeUndefined();
    window.localStorage.setItem(
      'hb.sendDraft',
      JSON.stringify({
        v: 1,
        savedAt: Date.now() - 8 * 24 * 3600_000,
        values: { totalYuan: '1', count: '1', mode: 'lucky', greeting: '', scene: 'none' },
      }),
    );
    expect(loadDraft()).toBeUndefined();
  });

  test('a submitted draft keeps its idempotency key across a crash', async () => {
    const keys: string[] = [];
    const submit = jest.fn((_b: unknown, key: string) => {
      keys.push(key);
      return new Promise<never>(() => undefined); // the answer never arrives: the app is closed
    });
    const first = render(<SendForm {...props()} submit={submit} />);
    type('总金额（元）', '3');
    type('红包个数', '1');
    click('塞钱进红包');
    click('确认支付');
    first.unmount();

    const again = jest.fn((_b: unknown, key: string) => {
      keys.push(key);
      return new Promise<never>(() => undefined);
    });
    render(<SendForm {...props()} submit={again} />);
    click('继续编辑');
    click('塞钱进红包');
    click('确认支付');
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]); // paying again cannot create a second packet
  });
});
