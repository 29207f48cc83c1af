/**
 * The API, typed from the server's own definitions: request bodies from the zod schemas
 * (functions/src/http/schemas.ts), responses from functions/src/http/contract.ts — types only,
 * nothing of the server is bundled.
 */
import type { CreatePacketRequest, SessionRequest, TransferRequest } from '../../../functions/src/http/schemas';
import type {
  ClaimResponse,
  CodeView,
  CreatePacketResponse,
  LedgerResponse,
  MyPacketsResponse,
  OpenCodeResponse,
  PacketView,
  SessionResponse,
  TopupResponse,
  TransferResponse,
  WalletResponse,
} from '../../../functions/src/http/contract';
import { request } from './client';

export type * from '../../../functions/src/http/contract';
export type { CreatePacketRequest, SessionRequest, TransferRequest };
export { ApiError, ERROR_MESSAGES, errorText, messageFor } from './errors';

/** One UTC clock minute of the operator figures (GET /v1/admin/ops). */
export interface OpsMinute {
  /** Start of the UTC minute (ISO). */
  minute: string;
  packets: number;
  claims: number;
  claimP50Ms: number | null;
  claimP99Ms: number | null;
  conditionalWrites: number;
  conditionalFailures: number;
  refunds: number;
}

/** The latest reconciliation run as the operator view reports it (amounts in fen). */
export interface OpsReconciliation {
  runId: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  ok: boolean;
  mismatches: number;
  checked: { accounts: number; ledgerEntries: number; packets: number; slots: number };
  /** Open-packet escrow. */
  escrow: number;
  inTransit: number;
  balances: number;
  topups: number;
}

/** GET /v1/admin/ops?minutes=N (admin only). */
export interface OpsResponse {
  now: string;
  /** Oldest first, one per minute (zeros where idle); the last one is the current, partial minute. */
  minutes: OpsMinute[];
  totals: {
    packets: number;
    claims: number;
    claimP50Ms: number | null;
    claimP99Ms: number | null;
    /** Basis points, 0..10000. */
    contentionBps: number;
    refunds: number;
  };
  sweep: { oldestDueAgeSeconds: number };
  reconciliation: OpsReconciliation | null;
}

const seg = encodeURIComponent;

export const api = {
  login: (body: SessionRequest) => request<SessionResponse>('POST', '/v1/session', { body, auth: false }),
  wallet: () => request<WalletResponse>('GET', '/v1/wallet'),
  topup: (amount: number, idempotencyKey: string) => request<TopupResponse>('POST', '/v1/wallet/topups', { body: { amount }, idempotencyKey }),
  ledger: (cursor?: string) => request<LedgerResponse>('GET', '/v1/wallet/ledger', { query: { cursor, limit: 20 } }),
  createPacket: (body: CreatePacketRequest, idempotencyKey: string) => request<CreatePacketResponse>('POST', '/v1/packets', { body, idempotencyKey }),
  packet: (id: string) => request<PacketView>('GET', `/v1/packets/${seg(id)}`),
  newCode: (id: string, kind: 'live' | 'share' = 'live', via?: string) =>
    request<CodeView>('POST', `/v1/packets/${seg(id)}/codes`, { body: via ? { kind, via } : { kind } }),
  openCode: (code: string) => request<OpenCodeResponse>('GET', `/v1/codes/${seg(code)}`),
  claim: (code: string) => request<ClaimResponse>('POST', '/v1/claims', { body: { code } }),
  myPackets: (role: 'sent' | 'received', cursor?: string) => request<MyPacketsResponse>('GET', '/v1/me/packets', { query: { role, cursor, limit: 20 } }),
  receiveCode: () => request<CodeView>('GET', '/v1/receive-code'),
  ops: (minutes = 30) => request<OpsResponse>('GET', '/v1/admin/ops', { query: { minutes } }),
  transfer: (body: TransferRequest, idempotencyKey: string) => request<TransferResponse>('POST', '/v1/transfers', { body, idempotencyKey }),
};
