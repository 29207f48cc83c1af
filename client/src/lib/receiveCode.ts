import { extractCode } from './links';

/**
 * A friend's 收款码 (receive code), read for a 专属红包: the account id it names. The wire format
 * (functions/src/domain/codes.ts) is `1.<kid>.<kind><target>.<iat>[.<ref>].<sig>` with kind `r`
 * for a receive code, whose target is the payee's account id. Only the shape is checked here —
 * the signature is the server's business, and it refuses an unknown account (404) or a bad
 * recipient (400) when the packet is sent.
 */
export type ReceiveCodeParse = { ok: true; accountId: string; code: string } | { ok: false; error: string };

const KID = /^[a-z0-9]{1,4}$/;
const KIND_TARGET = /^([lsr])([A-Za-z0-9_-]{1,32})$/;
const IAT = /^(?:0|[1-9a-z][0-9a-z]{0,10})$/;
const REF = /^[A-Za-z0-9_-]{1,24}$/;
const SIG = /^[A-Za-z0-9_-]{22}$/;

export const RECEIVE_CODE_ERRORS = {
  empty: '请粘贴或扫描好友的收款码',
  packet: '这是红包码，不是收款码。请让好友打开「我的收款码」，复制后发给你',
  malformed: '收款码格式不正确，请让好友重新复制「我的收款码」',
  self: '这是你自己的收款码，专属红包不能发给自己',
} as const;

/** The account id in a pasted or scanned receive code (a bare code or a link with `c=`). */
export function parseReceiveCode(text: string, me?: string): ReceiveCodeParse {
  const code = extractCode(text ?? '');
  if (!code) return { ok: false, error: RECEIVE_CODE_ERRORS.empty };
  const parts = code.split('.');
  if (parts.length !== 5 && parts.length !== 6) return { ok: false, error: RECEIVE_CODE_ERRORS.malformed };
  const [version, kid, kindTarget, iat] = parts as [string, string, string, string];
  const ref = parts.length === 6 ? parts[4]! : undefined;
  const sig = parts[parts.length - 1]!;
  const m = KIND_TARGET.exec(kindTarget);
  if (
    version !== '1' ||
    !KID.test(kid) ||
    !m ||
    !IAT.test(iat) ||
    (ref !== undefined && !REF.test(ref)) ||
    !SIG.test(sig)
  ) {
    return { ok: false, error: RECEIVE_CODE_ERRORS.malformed };
  }
  if (m[1] !== 'r') return { ok: false, error: RECEIVE_CODE_ERRORS.packet };
  const accountId = m[2]!;
  if (me && accountId === me) return { ok: false, error: RECEIVE_CODE_ERRORS.self };
  return { ok: true, accountId, code };
}
