/**
 * The API, typed from the server's own definitions: request bodies from the zod schemas
 * (functions/src/http/schemas.ts), responses from functions/src/http/contract.ts — types only,
 * nothing of the server is bundled.
 */
import type * as z from 'zod/mini';
import type {
  AvatarUploadRequest,
  CreateApiKeyBody,
  CreateCampaignBody,
  CreatePacketRequest,
  GroupContextRequest,
  ProfileRequest,
  SessionRequest,
  TransferRequest,
} from '../../../functions/src/http/schemas';
import type {
  AvatarUploadResponse,
  AwaitingPaymentPacketResponse,
  ApiKeysResponse,
  CampaignsResponse,
  CampaignStats,
  ClaimResponse,
  CodeView,
  CreateApiKeyResponse,
  CreateCampaignResponse,
  CreatePacketResponse,
  CreateWithdrawalResponse,
  LedgerResponse,
  MyPacketsResponse,
  OpenCodeResponse,
  OpsResponse,
  PacketView,
  Payment,
  PendingTopupResponse,
  ProfileResponse,
  RevokeApiKeyResponse,
  SessionResponse,
  TopupResponse,
  TransferResponse,
  WalletResponse,
  WithdrawalsResponse,
  WithdrawalView,
} from '../../../functions/src/http/contract';
import { request } from './client';

export type * from '../../../functions/src/http/contract';
export type { AvatarUploadRequest, CreatePacketRequest, ProfileRequest, SessionRequest, TransferRequest };
export type CreateCampaignRequest = z.infer<typeof CreateCampaignBody>;
export type CreateApiKeyRequest = z.infer<typeof CreateApiKeyBody>;
export { ApiError, ERROR_MESSAGES, errorText, messageFor } from './errors';

/** How a packet is paid for: from the balance (the default) or in WeChat Pay's own sheet. */
export type Funding = 'balance' | 'wechatpay';
/** `POST /v1/packets`: the schema's body plus the funding choice of the contract. */
export type SendBody = CreatePacketRequest & { funding?: Funding };
/** `202` to a packet paid by WeChat Pay: no code until the payment is confirmed. */
export type PendingPacketResponse = AwaitingPaymentPacketResponse;
export type CreatePacketResult = CreatePacketResponse | PendingPacketResponse;

export type TopupMethod = 'wechatpay' | 'sandbox';
export type TopupResult = TopupResponse | PendingTopupResponse;

const seg = encodeURIComponent;

export const api = {
  login: (body: SessionRequest) => request<SessionResponse>('POST', '/v1/session', { body, auth: false }),
  wallet: () => request<WalletResponse>('GET', '/v1/wallet'),
  topup: (amount: number, idempotencyKey: string, method?: TopupMethod) =>
    request<TopupResult>('POST', '/v1/wallet/topups', {
      body: method ? { amount, method } : { amount },
      idempotencyKey,
    }),
  ledger: (cursor?: string) => request<LedgerResponse>('GET', '/v1/wallet/ledger', { query: { cursor, limit: 20 } }),
  createPacket: (body: SendBody, idempotencyKey: string) =>
    request<CreatePacketResult>('POST', '/v1/packets', { body, idempotencyKey }),
  /** A WeChat Pay order of the caller's (polled after the payment sheet). */
  payment: (paymentId: string) => request<Payment>('GET', `/v1/payments/${seg(paymentId)}`),
  createWithdrawal: (amount: number, idempotencyKey: string) =>
    request<CreateWithdrawalResponse>('POST', '/v1/withdrawals', { body: { amount }, idempotencyKey }),
  withdrawal: (id: string) => request<WithdrawalView>('GET', `/v1/withdrawals/${seg(id)}`),
  withdrawals: (cursor?: string) => request<WithdrawalsResponse>('GET', '/v1/withdrawals', { query: { cursor } }),
  /** The packet view; `forwardsCursor` asks for a later page of its forwarding tree. */
  packet: (id: string, forwardsCursor?: string) =>
    request<PacketView>('GET', `/v1/packets/${seg(id)}`, forwardsCursor ? { query: { forwardsCursor } } : {}),
  newCode: (id: string, kind: 'live' | 'share' = 'live', via?: string) =>
    request<CodeView>('POST', `/v1/packets/${seg(id)}/codes`, { body: via ? { kind, via } : { kind } }),
  /** The open view; `group`: the 仅限本群 context (encryptedData + iv, or devGroup) as query parameters. */
  openCode: (code: string, group?: GroupContextRequest) =>
    request<OpenCodeResponse>('GET', `/v1/codes/${seg(code)}`, group ? { query: { ...group } } : {}),
  claim: (code: string, group?: GroupContextRequest) =>
    request<ClaimResponse>('POST', '/v1/claims', { body: group ? { code, group } : { code } }),
  myPackets: (role: 'sent' | 'received', cursor?: string) =>
    request<MyPacketsResponse>('GET', '/v1/me/packets', { query: { role, cursor, limit: 20 } }),
  receiveCode: () => request<CodeView>('GET', '/v1/receive-code'),
  ops: (minutes = 30) => request<OpsResponse>('GET', '/v1/admin/ops', { query: { minutes } }),
  transfer: (body: TransferRequest, idempotencyKey: string) =>
    request<TransferResponse>('POST', '/v1/transfers', { body, idempotencyKey }),
  // Enterprise and provider accounts (the server answers 403 to others).
  createCampaign: (body: CreateCampaignRequest, idempotencyKey: string) =>
    request<CreateCampaignResponse>('POST', '/v1/campaigns', { body, idempotencyKey, timeoutMs: 60_000 }),
  campaigns: () => request<CampaignsResponse>('GET', '/v1/campaigns'),
  campaign: (id: string) => request<CampaignStats>('GET', `/v1/campaigns/${seg(id)}`, { timeoutMs: 30_000 }),
  /** The campaign's share codes as CSV text (index,packet_id,code,expires_at). */
  campaignCodesCsv: (id: string) =>
    request<string>('GET', `/v1/campaigns/${seg(id)}/codes.csv`, { text: true, timeoutMs: 30_000 }),
  apiKeys: () => request<ApiKeysResponse>('GET', '/v1/api-keys'),
  createApiKey: (body: CreateApiKeyRequest) => request<CreateApiKeyResponse>('POST', '/v1/api-keys', { body }),
  revokeApiKey: (keyId: string) => request<RevokeApiKeyResponse>('DELETE', `/v1/api-keys/${seg(keyId)}`),
  // Names and faces.
  updateMe: (body: ProfileRequest) => request<ProfileResponse>('PATCH', '/v1/me', { body }),
  /** An avatar image as base64 → its reference, then set with updateMe({ avatar }). */
  uploadAvatar: (body: AvatarUploadRequest) =>
    request<AvatarUploadResponse>('POST', '/v1/me/avatar', { body, timeoutMs: 30_000 }),
};
