import type { CodeView, CreatePacketResponse } from '../../../functions/src/http/contract';
import type { HeldCode } from './useRotatingCode';
import { KEYS, load, remove, save } from './storage';

/**
 * The codes of a packet just created, handed from the send page to the packet page through
 * storage (the URL carries only the packet id). The live code is used until its refresh time;
 * the share code for as long as the packet lives.
 */
interface Stored {
  live?: HeldCode;
  share?: CodeView;
}

export function storeCreatedCodes(res: CreatePacketResponse, now = Date.now()): void {
  save(KEYS.packetCodes(res.packet.id), {
    live: { view: res.code, receivedAt: now },
    share: res.shareCode,
  } satisfies Stored);
}

export function loadCodes(id: string): Stored {
  return load<Stored>(KEYS.packetCodes(id)) ?? {};
}

export function saveLive(id: string, live: HeldCode): void {
  save(KEYS.packetCodes(id), { ...loadCodes(id), live });
}

export function saveShare(id: string, share: CodeView): void {
  save(KEYS.packetCodes(id), { ...loadCodes(id), share });
}

export function forgetCodes(id: string): void {
  remove(KEYS.packetCodes(id));
}
