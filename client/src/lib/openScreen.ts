import type { PacketSummary } from '../api';
import { ApiError, errorText } from '../api/errors';
import { spokenYuan } from './money';
import { refusalOf, type Refusal } from './refusal';

/** What the open page shows. Each end state has its own screen and message. */
export type Screen =
  | { kind: 'loading' }
  | { kind: 'ready' } // claimable: the 開 button
  | { kind: 'claimed'; amount: number; fresh: boolean; best?: boolean | undefined }
  | { kind: 'finished' }
  | { kind: 'expired' }
  | { kind: 'codeExpired' }
  | { kind: 'invalid' }
  | { kind: 'notReady' }
  // A risk or limit refusal (rate limit, blocked account, not for you…), from opening or claiming.
  | { kind: 'refused'; refusal: Refusal; from: 'open' | 'claim' }
  | { kind: 'error'; message: string };

/** The message of each end state that is only a message. */
export const STATE_TEXT: Partial<Record<Screen['kind'], string>> = {
  finished: '手慢了，红包派完了',
  expired: '红包已过期',
  codeExpired: '二维码已过期，请让发红包的人刷新后再扫',
  invalid: '无效的红包码',
  notReady: '红包正在准备中，请稍后再试',
};

/**
 * The screen for an error of opening or claiming: a refusal screen (with the 专属红包's
 * recipient), an end state, or the error in words.
 */
export function screenOfError(err: unknown, from: 'open' | 'claim', recipient: string | undefined): Screen {
  const e = err instanceof ApiError ? err : undefined;
  const refusal = refusalOf(err, { op: 'claim', recipient });
  if (refusal) return { kind: 'refused', refusal, from };
  switch (e?.code) {
    case 'CODE_INVALID':
    case 'NOT_FOUND':
      return { kind: 'invalid' };
    case 'CODE_EXPIRED':
      return { kind: 'codeExpired' };
    case 'PACKET_FINISHED':
      return { kind: 'finished' };
    case 'PACKET_EXPIRED':
      return { kind: 'expired' };
    default:
      return { kind: 'error', message: errorText(err) };
  }
}

/** What 语音播报 reads when turned on: whose packet and its greeting, then what the screen says. */
export function spokenScreen(summary: PacketSummary | undefined, view: Screen): string {
  const parts: string[] = [];
  if (summary) parts.push(`${summary.sender.name}的红包，${summary.greeting}`);
  if (view.kind === 'claimed') parts.push(`你领到了${spokenYuan(view.amount)}`);
  else if (view.kind === 'refused') parts.push(`${view.refusal.title}。${view.refusal.body}`);
  else if (STATE_TEXT[view.kind]) parts.push(STATE_TEXT[view.kind]!);
  return parts.join('。');
}
