import { EMPTY_FORM, isEmptyForm, type Mode, type Scene, type SendFormValues } from './sendRules';
import { KEYS, load, remove, save } from './storage';

/**
 * The send form's draft, saved locally as it is typed and offered back after a
 * reload, a crash or a lost connection. It also keeps the pending idempotency key of a
 * submitted-but-unanswered packet, so paying again after a crash cannot create a second packet.
 */
export interface Draft {
  v: 1;
  values: SendFormValues;
  savedAt: number;
  pending?: { key: string; body: string } | undefined;
}

/** Drafts older than this are not offered back. */
const MAX_AGE_MS = 7 * 24 * 3600_000;

const MODES: Mode[] = ['lucky', 'equal'];
const SCENES: Scene[] = ['none', 'birthday', 'wedding', 'new_year', 'thanks'];

export function loadDraft(now = Date.now()): Draft | undefined {
  const d = load<Draft>(KEYS.draft);
  if (d?.v !== 1 || typeof d.values !== 'object' || d.values === null) return undefined;
  if (typeof d.savedAt !== 'number' || now - d.savedAt > MAX_AGE_MS) return undefined;
  const v = d.values;
  const values: SendFormValues = {
    totalYuan: typeof v.totalYuan === 'string' ? v.totalYuan.slice(0, 20) : '',
    count: typeof v.count === 'string' ? v.count.slice(0, 6) : '',
    mode: MODES.includes(v.mode) ? v.mode : EMPTY_FORM.mode,
    greeting: typeof v.greeting === 'string' ? v.greeting.slice(0, 60) : '',
    scene: SCENES.includes(v.scene) ? v.scene : 'none',
    exclusive: v.exclusive === true,
    recipientCode: typeof v.recipientCode === 'string' ? v.recipientCode.slice(0, 300) : '',
    ...(v.groupOnly === true ? { groupOnly: true } : {}),
  };
  if (isEmptyForm(values)) return undefined;
  const pending =
    d.pending && typeof d.pending.key === 'string' && typeof d.pending.body === 'string' ? d.pending : undefined;
  return { v: 1, values, savedAt: d.savedAt, pending };
}

export function saveDraft(values: SendFormValues, pending?: { key: string; body: string }, now = Date.now()): void {
  if (isEmptyForm(values) && !pending) {
    remove(KEYS.draft);
    return;
  }
  const d: Draft = { v: 1, values, savedAt: now, pending };
  save(KEYS.draft, d);
}

export function clearDraft(): void {
  remove(KEYS.draft);
}
