import Taro from '@tarojs/taro';
import { currentSession } from '../api/session';
import { payChannel } from './wxpay';

/**
 * When the app asks for subscribe messages (订阅消息): `packet` after sending one (红包已领完,
 * 退款到账), `withdrawal` when starting one (提现到账). The template ids come with the session.
 */
export type SubscribeMoment = 'packet' | 'withdrawal';

/** What came of asking; the money flow goes on whichever it is. */
export type SubscribeAnswer = 'asked' | 'skipped';

/** The longest the app waits for the user's answer before going on regardless. */
export const ASK_TIMEOUT_MS = 20_000;

/** Actions already asked for (an action's Idempotency-Key): a retry does not ask twice. */
const askedFor = new Set<string>();

/**
 * Asks WeChat for the user's consent to this moment's messages (`Taro.requestSubscribeMessage`
 * with the server's template ids), once per action. Never rejects and never decides anything:
 * whatever the answer (or none within {@link ASK_TIMEOUT_MS}), the caller goes on. Called first
 * in a tap's handler, as WeChat requires (the dialog opens only from a user's tap). On H5 there
 * is no such API: nothing is asked.
 */
export async function askForMessages(moment: SubscribeMoment, actionKey: string): Promise<SubscribeAnswer> {
  if (payChannel() !== 'weapp') return 'skipped';
  const tmplIds = currentSession()?.subscribe?.[moment] ?? [];
  if (tmplIds.length === 0 || askedFor.has(actionKey)) return 'skipped';
  askedFor.add(actionKey);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      Taro.requestSubscribeMessage({ tmplIds } as Parameters<typeof Taro.requestSubscribeMessage>[0]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, ASK_TIMEOUT_MS);
      }),
    ]);
    return 'asked';
  } catch {
    // Declined, or an old client without the API: the messages are simply not sent.
    return 'skipped';
  } finally {
    if (timer) clearTimeout(timer);
  }
}
