/**
 * Response shapes of the HTTP contract, shared by the functions (their views are typed
 * with these) and the client (its API module imports them, type-only). Request shapes are the
 * zod schemas in `schemas.ts`. No runtime code here.
 */
export type Fen = number;
export type TierName = 'personal' | 'enterprise' | 'provider';
export type PacketStatus = 'awaiting_payment' | 'active' | 'finished' | 'expired' | 'refunded' | 'canceled';
export type CodeKindName = 'live' | 'share' | 'receive';

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown>; correlationId?: string };
}

export interface SessionResponse {
  token: string;
  userId: string;
  name: string;
  /** The account's avatar, when it has one (see {@link PersonView}). */
  avatar?: string;
  /**
   * True on the first WeChat login of a new account (its name is a default 微信用户…): the app
   * offers the avatar chooser and nickname input once.
   */
  newAccount?: boolean;
  tier: TierName;
  roles: string[];
  expiresAt: string;
  /**
   * Subscribe-message template ids the app asks consent for (Taro.requestSubscribeMessage):
   * `packet` after sending a packet (all claimed, refund arrived), `withdrawal` when starting a
   * withdrawal. Absent when no message is configured.
   */
  subscribe?: SubscribeTemplates;
}

/** Template ids per moment of asking (see SessionResponse.subscribe). */
export interface SubscribeTemplates {
  packet: string[];
  withdrawal: string[];
}

export interface WalletResponse {
  balance: Fen;
  currency: 'CNY';
  tier: TierName;
  perPacketLimit: Fen;
  dailyLimit: Fen;
  sentToday: Fen;
  feeBps: number;
  maxShares: number;
}

export interface TopupResponse {
  topupId: string;
  amount: Fen;
  balance: Fen;
}

/** `POST /v1/wallet/topups` with WeChat Pay → 202: credited once WeChat Pay confirms. */
export interface PendingTopupResponse {
  topupId: string;
  amount: Fen;
  state: PaymentState;
  payment: Payment;
}

export type LedgerType =
  | 'topup'
  | 'packet_debit'
  | 'fee'
  | 'claim_credit'
  | 'refund_credit'
  | 'transfer_debit'
  | 'transfer_credit'
  | 'withdrawal_debit'
  | 'withdrawal_return';
export interface LedgerLine {
  id: string;
  type: LedgerType;
  amount: Fen;
  balanceAfter: Fen;
  ref: string;
  at: string;
}
export interface LedgerResponse {
  entries: LedgerLine[];
  cursor: string | null;
}

export interface CodeView {
  code: string;
  /** `<PUBLIC_BASE_URL>/o/<code>`: what the QR code and the share link carry. */
  link: string;
  kind: CodeKindName;
  issuedAt: string;
  expiresAt: string;
  refreshAfter?: string;
}

/**
 * `POST /v1/packets/{id}/codes` → 201: the new code; a share code minted by a forwarder (or
 * through another code, `via`) also names the forward it records.
 */
export interface NewCodeResponse extends CodeView {
  forwardId?: string;
}

/**
 * An account as others see it: its current name, and its avatar when it has one — an https URL,
 * or an uploaded image's reference `/v1/avatars/<account>/<sha256>.<ext>`, a path on the API.
 */
export interface PersonView {
  id: string;
  name: string;
  avatar?: string;
}

export interface PacketSummary {
  id: string;
  sender: PersonView;
  total: Fen;
  count: number;
  mode: 'lucky' | 'equal';
  greeting: string;
  scene: string;
  status: PacketStatus;
  claimedCount: number;
  refundedAmount: Fen;
  /** Where the refund went, once the packet is settled with money left: back to the balance, or to the WeChat Pay payment. */
  refundedTo?: 'balance' | 'wechatpay';
  createdAt: string;
  expiresAt: string;
  /** How the sender paid: from the balance, or directly through WeChat Pay (the API always sends it). */
  funding?: 'balance' | 'wechatpay';
  /** 专属红包: only this account may claim. */
  recipient?: PersonView;
  /** 仅限本群: only the group the packet was first opened from may claim (the API always sends it). */
  groupOnly?: boolean;
}

export interface ClaimView {
  userId: string;
  /** The claimer's current name (resolved when the view is built). */
  name: string;
  /** The claimer's current avatar, when they have one (see {@link PersonView}). */
  avatar?: string;
  amount: Fen;
  claimedAt: string;
  best: boolean;
}

/** One forward of a packet: who minted a share code, through whose code, and what came of it. */
export interface ForwardView {
  id: string;
  by: PersonView;
  /** The forward whose code this one was made from; absent: from the sender's own code. */
  parent?: string;
  at: string;
  /** Claims made through this forward's code. */
  claims: number;
}

export interface PacketView extends PacketSummary {
  claimedAmount: Fen;
  claims?: ClaimView[];
  /**
   * The forwarding tree (flat, with parent links), for the sender and claimers: one page of it,
   * in no particular order (a forward's parent may be on another page).
   */
  forwards?: ForwardView[];
  /** With `forwards`: `?forwardsCursor=` for the next page, null on the last. */
  forwardsCursor?: string | null;
}

export interface CreatePacketResponse {
  packet: PacketView;
  code: CodeView;
  shareCode: CodeView;
  fee: Fen;
}

/** `POST /v1/packets` with `"funding": "wechatpay"` → 202: no code until the payment is confirmed. */
export interface AwaitingPaymentPacketResponse {
  packet: PacketView;
  payment: Payment;
  fee: Fen;
}

export type OpenCodeResponse =
  | {
      target: 'packet';
      packet: PacketSummary;
      claimable: boolean;
      reason?: 'PACKET_FINISHED' | 'PACKET_EXPIRED' | 'PACKET_NOT_READY' | 'ALREADY_CLAIMED' | 'GROUP_ONLY';
      myClaim?: { amount: Fen; claimedAt: string };
      /** Group-only packets: from its group, another group, or none (the open's group context). */
      group?: 'member' | 'other' | 'none';
    }
  | { target: 'receive'; payee: PersonView };

export interface ClaimResponse {
  packetId: string;
  amount: Fen;
  claimedAt: string;
  repeat: boolean;
  best?: boolean;
}

export interface MyPacketItem extends PacketSummary {
  myAmount?: Fen;
  claimedAt?: string;
}
export interface MyPacketsResponse {
  items: MyPacketItem[];
  cursor: string | null;
}

/** `PATCH /v1/me` → 200. `token`: a session carrying the new name (same expiry and device). */
export interface ProfileResponse {
  userId: string;
  name: string;
  avatar: string | null;
  token: string;
  expiresAt: string;
}

/** `POST /v1/me/avatar` → 201: the uploaded image's reference, for `PATCH /v1/me {"avatar"}`. */
export interface AvatarUploadResponse {
  avatar: string;
  contentType: string;
  bytes: number;
}

export interface TransferResponse {
  transferId: string;
  amount: Fen;
  to: { id: string; name: string };
}

// ---- Operator view, campaigns and API keys ----

/** One UTC clock minute of the operator figures (GET /v1/admin/ops). */
export interface OpsMinute {
  /** Start of the UTC minute (ISO). */
  minute: string;
  packets: number;
  /** First claims that succeeded (repeats excluded). */
  claims: number;
  /** Claim latency quantiles as the upper bound of their histogram bucket (ms); null: no claims. */
  claimP50Ms: number | null;
  claimP99Ms: number | null;
  conditionalWrites: number;
  conditionalFailures: number;
  /** Packets refunded by the sweeper. */
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
    /** Refused ÷ conditional writes in integer basis points, 0..10000 (0 when none). */
    contentionBps: number;
    refunds: number;
  };
  sweep: { oldestDueAgeSeconds: number };
  reconciliation: OpsReconciliation | null;
}

// ---- Audit, risk and admin (operations) ----

/** One line of an account's audit trail: a security record (audit chain) or a money movement (ledger chain). */
export interface AuditLine {
  source: 'audit' | 'ledger';
  /** Masked (first 3 + last 2 characters) when support reads another account's trail. */
  accountId: string;
  seq: number;
  at: string;
  type: string;
  details: Record<string, string | number | boolean | null>;
  prevHash: string;
  hash: string;
}

/** `GET /v1/audit?userId=&from=&to=&cursor=`: newest first; `cursor` null on the last page. */
export interface AuditResponse {
  accountId: string;
  /** Support reading another account's trail: ids are masked. */
  masked: boolean;
  from: string;
  to: string;
  items: AuditLine[];
  cursor: string | null;
}

/** One firing of a risk rule (`rule`: breaker, device_binding, night_velocity, large_transaction, …). */
export interface RiskEventView {
  id: string;
  rule: string;
  action: 'freeze' | 'refuse' | 'report';
  at: string;
  tier?: TierName;
  accountId?: string;
  deviceId?: string;
  /** A receive code: its payee's account id. */
  codeId?: string;
  amount?: Fen;
  details: Record<string, string | number | boolean>;
}

/** `GET /v1/risk/events?from=&to=&cursor=` (risk officer): oldest first; `cursor` null on the last page. */
export interface RiskEventsResponse {
  from: string;
  to: string;
  items: RiskEventView[];
  cursor: string | null;
}

/** One large-transaction report. */
export interface RiskReportView {
  opId: string;
  accountId: string;
  kind: 'transfer' | 'packet' | 'claim' | 'topup';
  amount: Fen;
  at: string;
  tier?: TierName;
}

/** `GET /v1/risk/reports?from=&to=` (risk officer): oldest first. */
export interface RiskReportsResponse {
  from: string;
  to: string;
  items: RiskReportView[];
}

export type BlacklistKindName = 'account' | 'device';

/** `GET /v1/admin/blacklist`: the active entries. */
export interface BlacklistResponse {
  items: Array<{ kind: BlacklistKindName; id: string }>;
}

/** `POST /v1/admin/blacklist` → 201 (`active: true`) · `DELETE /v1/admin/blacklist/{kind}/{id}` → 200 (`active: false`). */
export interface BlacklistChangeResponse {
  kind: BlacklistKindName;
  id: string;
  active: boolean;
  at: string;
}

/** An account's own settings (what an admin set; absent: the tier's default). */
export interface AccountSettingsView {
  feeBps?: number;
  perPacketLimit?: Fen;
  dailyLimit?: Fen;
  codeValiditySeconds?: number;
}

/** The rules in force for an account: its tier's table with its settings applied. */
export interface AccountPolicyView {
  tier: TierName;
  perPacketLimit: Fen;
  dailyLimit: Fen;
  feeBps: number;
  codeValiditySeconds: number;
  maxShares: number;
  /** Cap on the standard deviation of lucky shares, or null for none. */
  sigmaCap: Fen | null;
  withdrawal: { min: Fen; max: Fen; dailyLimit: Fen; feeBps: number };
}

/** `GET /v1/admin/accounts/{userId}` · `POST /v1/admin/accounts/{userId}/tier` (admin). */
export interface AdminAccountResponse {
  userId: string;
  name: string;
  tier: TierName;
  roles: string[];
  settings: AccountSettingsView;
  policy: AccountPolicyView;
  createdAt: string;
}

/** `POST /v1/admin/sweep` (admin; the schedule runs the same sweep): what one run did. */
export interface SweepReport {
  now: string;
  examined: number;
  packetsSettled: number;
  /** Settled packets with money left to refund (a fully claimed packet settles with none). */
  packetsRefunded: number;
  refunded: Fen;
  packetsActivated: number;
  packetsCanceled: number;
  transfersCompleted: number;
  topupsCompleted: number;
  campaignsCompleted: number;
  campaignsCanceled: number;
  /** Withdrawals that reached their end here (paid out, or their hold returned). */
  withdrawalsFinished?: number;
  /** WeChat Pay payments in that reached their end here (credited, or closed unpaid). */
  paymentsFinished?: number;
  /** Refunds to WeChat Pay that reached their end here (paid back, or returned to the balance). */
  refundsFinished?: number;
  /** Subscribe messages sent here, dropped (no subscription), given up, or failed again (still due). */
  notificationsSent?: number;
  notificationsDropped?: number;
  notificationsGivenUp?: number;
  notificationsRetried?: number;
  errors: number;
  /** This run's budget (ms by its clock), if it had one. */
  budgetMs?: number;
  /** How long the run took by the budget's clock. */
  elapsedMs: number;
  /** Whether the budget ran out with work left (then `left` > 0). */
  outOfBudget: boolean;
  /** Due items this run did not finish: they stay due and the next run picks them up. */
  left: number;
  /** Packets of those left part-way through settlement: counters verified so far of all. */
  settling: Array<{ packetId: string; verified: number; of: number }>;
}

/** A campaign's state (functions/src/store/campaigns.ts). */
export type CampaignState = 'funding' | 'active' | 'canceled';

/** POST /v1/campaigns (201): one debit, `quantity` packets with their share codes. Amounts in fen. */
export interface CreateCampaignResponse {
  campaignId: string;
  name: string;
  quantity: number;
  /** Everything debited: quantity × (total + fee per packet). */
  debit: number;
  /** All fees: quantity × fee per packet. */
  fee: number;
  expiresAt: string;
  /** Each packet's share code and its link (`<PUBLIC_BASE_URL>/o/<code>`). */
  packets: Array<{ id: string; code: string; link: string }>;
}

/** One item of GET /v1/campaigns (newest first). `total` is per packet, in fen. */
export interface CampaignSummary {
  campaignId: string;
  name: string;
  state: CampaignState;
  quantity: number;
  total: number;
  count: number;
  createdAt: string;
  expiresAt: string;
}

export interface CampaignsResponse {
  items: CampaignSummary[];
}

/** GET /v1/campaigns/{id}: the campaign's figures (amounts in fen). */
export interface CampaignStats {
  campaignId: string;
  name: string;
  state: CampaignState;
  createdAt: string;
  expiresAt: string;
  /** Packets ordered (the campaign's quantity). */
  packets: number;
  packetsCreated: number;
  packetsFinished: number;
  /** Shares of all packets (quantity × count). */
  shares: number;
  claimedShares: number;
  claimedAmount: number;
  refundedAmount: number;
  /** All packets' totals. */
  total: number;
  fee: number;
  /** Claimed shares ÷ shares in basis points (integer, 0–10000). */
  claimRateBps: number;
  /** Claims per clock hour in Beijing time ("YYYY-MM-DDTHH"), oldest first; idle hours absent. */
  claimsPerHour: Array<{ hour: string; claims: number }>;
}

export type ApiScope = 'basic' | 'full';

/** One key of GET /v1/api-keys (never its secret). */
export interface ApiKeyView {
  keyId: string;
  name: string;
  scopes: ApiScope[];
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface ApiKeysResponse {
  items: ApiKeyView[];
}

/** POST /v1/api-keys (201): the key itself, shown this once. */
export interface CreateApiKeyResponse {
  keyId: string;
  apiKey: string;
  scopes: ApiScope[];
}

export interface RevokeApiKeyResponse {
  keyId: string;
  revokedAt: string;
}

// ---- Payments and withdrawals (WeChat Pay) ------------------------------------------------

/** What the app passes to `wx.requestPayment`. */
export interface PaymentRequest {
  timeStamp: string;
  nonceStr: string;
  /** `prepay_id=<id>`. */
  package: string;
  signType: 'RSA';
  paySign: string;
}

export type PaymentState = 'pending' | 'paid' | 'closed';

/** `GET /v1/payments/{paymentId}`. */
export interface Payment {
  paymentId: string;
  amount: Fen;
  state: PaymentState;
  /**
   * What the app passes to `wx.requestPayment`, signed afresh. Absent only when there is nothing
   * to pay with it: an order paid or closed before its prepay id reached us, or a stage without
   * WeChat Pay.
   */
  request?: PaymentRequest;
}

export type WithdrawalState = 'wait_user_confirm' | 'processing' | 'success' | 'failed' | 'canceled';

/** What the app passes to `wx.requestMerchantTransfer`. */
export interface WithdrawalConfirm {
  mchId: string;
  appId: string;
  package: string;
}

/**
 * `POST /v1/withdrawals` → 201. A new withdrawal answers `wait_user_confirm` with `confirm`, what
 * the app passes to `wx.requestMerchantTransfer`. A retry that finds the withdrawal past that step
 * (paid out, failed, given up, or still being created at WeChat), or a bill WeChat answered
 * without a package to confirm, answers the withdrawal's current state and `returned` instead,
 * without `confirm`: the app then follows it with `GET /v1/withdrawals/{id}`.
 */
export interface CreateWithdrawalResponse {
  withdrawalId: string;
  amount: Fen;
  state: WithdrawalState;
  /** Present when the user has a transfer to confirm in WeChat. */
  confirm?: WithdrawalConfirm;
  /** Present when `confirm` is not: the held amount went back to the balance. */
  returned?: boolean;
}

/** `GET /v1/withdrawals/{id}`; `returned`: the held amount went back to the balance. */
export interface WithdrawalView {
  withdrawalId: string;
  amount: Fen;
  state: WithdrawalState;
  returned: boolean;
}

/** `GET /v1/withdrawals?cursor=`: the caller's, newest first. */
export interface WithdrawalsResponse {
  withdrawals: WithdrawalView[];
  cursor: string | null;
}

// ---- Answers that are not JSON, and the standalone routes ----

/**
 * `GET /v1/campaigns/{id}/codes.csv` → 200 `text/csv; charset=utf-8`: the header
 * `index,packet_id,code,expires_at,link`, then one line per packet with its share code.
 */
export type CampaignCodesCsv = string;

/** `GET /v1/avatars/{userId}/{file}` → 200 the image (png, jpeg or webp; immutable), or 304. */
export type AvatarImage = Uint8Array;

/**
 * `GET /o/{proxy+}` · `GET /{file}` → the page behind a code link (HTML that opens the app, or a
 * redirect to it), or WeChat's check file (plain text).
 */
export type LinkPage = string;

/** `GET /v1/health` → 200 once the store answers (else 503 with an error body). */
export interface HealthResponse {
  ok: true;
  stage: string;
}

/**
 * `POST /v1/pay/wechat/notify` → 204 with no body (a repeat too); a notification that does not
 * verify → 401 in WeChat Pay's own shape, not ours.
 */
export type WeChatPayNotifyAnswer = undefined | { code: 'FAIL'; message: string };
