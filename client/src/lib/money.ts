/**
 * Money is integer fen everywhere. The UI shows yuan with two decimals and reads typed
 * yuan strings with string arithmetic only: "12.3" → "12" and "30" → 1230. No float ever touches
 * an amount (no `* 100`, no parseFloat).
 */
export type Fen = number;

export type YuanParse = { ok: true; fen: Fen } | { ok: false; error: string };

/** Integer part digits accepted: 11 digits of yuan keeps fen far inside Number.MAX_SAFE_INTEGER. */
const MAX_INT_DIGITS = 11;

/**
 * Reads an amount typed in yuan: "12", "12.", "12.3", "12.30", "0.05", ".5", " 1,000.5 " (spaces
 * and thousands commas are ignored, a full-width point or digits are accepted). More than two
 * decimals is an error, never a rounding.
 */
export function parseYuan(input: string): YuanParse {
  const s = normalizeDigits(input).replace(/[\s,]/g, '');
  if (s === '') return { ok: false, error: '请输入金额' };
  const m = /^(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m || (m[1] === '' && (m[2] ?? '') === '')) return { ok: false, error: '金额格式不正确' };
  const intPart = (m[1] ?? '').replace(/^0+(?=\d)/, '');
  const frac = m[2] ?? '';
  if (frac.length > 2) return { ok: false, error: '金额最多两位小数' };
  if (intPart.length > MAX_INT_DIGITS) return { ok: false, error: '金额太大' };
  const digits = `${intPart === '' ? '0' : intPart}${frac.padEnd(2, '0')}`;
  // A string of at most 13 decimal digits: an exact integer.
  return { ok: true, fen: Number.parseInt(digits, 10) };
}

/** Full-width digits and point (from Chinese IMEs) to ASCII. */
function normalizeDigits(s: string): string {
  return s.replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0)).replace(/[．。]/g, '.');
}

/** 1230 → "12.30"; -5 → "-0.05". Integer arithmetic only. */
export function formatFen(fen: Fen): string {
  if (!Number.isSafeInteger(fen)) return '--';
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  const yuan = Math.floor(abs / 100);
  const cents = abs % 100;
  return `${sign}${yuan}.${String(cents).padStart(2, '0')}`;
}

/** 1230 → "¥12.30". */
export function formatYuan(fen: Fen): string {
  const s = formatFen(fen);
  return s.startsWith('-') ? `-¥${s.slice(1)}` : `¥${s}`;
}

/** A signed ledger amount: "+¥1.00" / "-¥1.00". */
export function formatSigned(fen: Fen): string {
  return fen > 0 ? `+${formatYuan(fen)}` : formatYuan(fen);
}

/** Fen as a plain yuan string for an input field ("1230" → "12.30", 2000 → "20.00"). */
export function fenToInput(fen: Fen): string {
  return formatFen(fen);
}

/**
 * The fee the sender pays on top, rounded up to the whole fen: ceil(total × bps / 10000) — the
 * server's formula (functions/src/domain/money.ts feeFor). Split as total = q × 10000 + r so that
 * no intermediate leaves the exact integer range, even for a large provider amount (no BigInt:
 * older mini-program engines lack it).
 */
export function feeFor(total: Fen, feeBps: number): Fen {
  if (feeBps <= 0 || total <= 0) return 0;
  const q = Math.floor(total / 10000);
  const r = total % 10000;
  return q * feeBps + Math.floor((r * feeBps + 9999) / 10000);
}

/** A fee rate in basis points as a percentage: 60 → "0.6%", 35 → "0.35%", 100 → "1%". */
export function formatBps(bps: number): string {
  const b = Math.max(0, Math.round(bps));
  const frac = String(b % 100)
    .padStart(2, '0')
    .replace(/0+$/, '');
  return `${Math.floor(b / 100)}${frac ? `.${frac}` : ''}%`;
}

/** How an amount is read aloud: 1230 → "12元3角", 5 → "5分", 100 → "1元". */
export function spokenYuan(fen: Fen): string {
  const yuan = Math.floor(Math.abs(fen) / 100);
  const jiao = Math.floor((Math.abs(fen) % 100) / 10);
  const fenPart = Math.abs(fen) % 10;
  let out = yuan > 0 ? `${yuan}元` : '';
  if (jiao > 0) out += `${jiao}角`;
  if (fenPart > 0) out += `${jiao === 0 && yuan > 0 ? '零' : ''}${fenPart}分`;
  return out || '0元';
}
