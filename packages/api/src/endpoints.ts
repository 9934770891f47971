/**
 * The provider's endpoints: for each, its method, its path (Fastify's form, `:name` for a path
 * parameter) and the schemas of its input and of its success reply. The provider registers its
 * routes from this table and the wallet's client types its requests from it, so that a path, a
 * body or a reply is written once.
 */
import type { Static, TSchema } from "typebox";
import { Account, type AuditLog, AuditVerification } from "./account.js";
import { AccountChange, AccountChangeCancelToken, AccountChangeList } from "./account-changes.js";
import { Backup, BackupRequest } from "./backups.js";
import { KeyConfirmation, SessionReply, TotpBody, UuidParams } from "./common.js";
import {
  ApprovedDevice,
  Device,
  DeviceApproval,
  DeviceIdParams,
  DeviceRegistration,
  DeviceRevocation,
  DeviceVerification,
  RevokedDevice,
} from "./devices.js";
import { KeyChangeConfirmed, KeyChangeParams, KeyChangeRequest, KeyChangeStarted } from "./key-changes.js";
import {
  AllowListAdded,
  AllowListEntry,
  AllowListRemoved,
  PolicyChangeAccepted,
  PolicyChangeCancelled,
  PolicyChangeRequest,
  PolicyTemplateList,
  TotpConfirmed,
  TotpSecret,
  TotpStart,
  WalletRules,
} from "./policies.js";
import {
  ClaimedRecovery,
  Enrollment,
  EnrollmentCompletion,
  EnrollmentList,
  EnrollmentStart,
  EnrollmentStarted,
  FaceRecoveryTicket,
  FaceRecoveryTicketRequest,
  RecoverableEnrollments,
  Recovery,
  RecoveryBoxesSealed,
  RecoveryBoxesUpdate,
  RecoveryClaim,
  RecoveryList,
  RecoveryOperators,
} from "./recovery.js";
import {
  EnvelopeList,
  EnvelopePost,
  EnvelopeQuery,
  EnvelopesStored,
  RelaySession,
  RelaySessionList,
  RelaySessionRequest,
} from "./relay.js";
import { ApprovalBody, SignRequest, SignRequestCreate, SignRequestList, SignRequestQuery } from "./sign-requests.js";
import {
  SessionRound,
  WalletCreate,
  WalletCreated,
  WalletDeleted,
  type WalletDetail,
  type WalletList,
  WalletState,
} from "./wallets.js";

/**
 * A reply the provider sends as its service builds it, without a schema (so neither checked at
 * serialization nor described in the OpenAPI document): the contract holds its type only.
 */
export interface Unchecked<T> {
  readonly "~unchecked": T;
}
const unchecked = <T>() => ({}) as Unchecked<T>;

export interface Endpoint {
  readonly method: "GET" | "POST" | "PUT" | "DELETE";
  readonly path: string;
  readonly params?: TSchema;
  readonly querystring?: TSchema;
  readonly body?: TSchema;
  /** The status of a successful reply. */
  readonly status: 200 | 201 | 202;
  readonly reply?: TSchema;
  readonly uncheckedReply?: Unchecked<unknown>;
}

const endpoint = <const E extends Endpoint>(e: E): E => e;

/** The path parameters of an endpoint, or `undefined` when its path has none. */
export type ParamsOf<E extends Endpoint> = E extends { params: infer S extends TSchema } ? Static<S> : undefined;
export type QueryOf<E extends Endpoint> = E extends { querystring: infer S extends TSchema } ? Static<S> : undefined;
export type BodyOf<E extends Endpoint> = E extends { body: infer S extends TSchema } ? Static<S> : undefined;
export type ReplyOf<E extends Endpoint> = E extends { uncheckedReply: Unchecked<infer T> }
  ? T
  : E extends { reply: infer S extends TSchema }
    ? Static<S>
    : unknown;

export const endpoints = {
  // ── devices ─────────────────────────────────────────────────────────────────────────────────
  registerDevice: endpoint({
    method: "POST",
    path: "/v1/devices",
    body: DeviceRegistration,
    status: 201,
    reply: Device,
  }),
  deviceSelf: endpoint({ method: "GET", path: "/v1/devices/self", status: 200, reply: Device }),
  resendDeviceCode: endpoint({ method: "POST", path: "/v1/devices/code", status: 200, reply: Device }),
  verifyDevice: endpoint({
    method: "POST",
    path: "/v1/devices/verify",
    body: DeviceVerification,
    status: 200,
    reply: Device,
  }),
  approveDevice: endpoint({
    method: "POST",
    path: "/v1/devices/:id/approve",
    params: DeviceIdParams,
    body: DeviceApproval,
    status: 200,
    reply: ApprovedDevice,
  }),
  revokeDevice: endpoint({
    method: "POST",
    path: "/v1/devices/:id/revoke",
    params: DeviceIdParams,
    body: DeviceRevocation,
    status: 200,
    reply: RevokedDevice,
  }),

  // ── the account ─────────────────────────────────────────────────────────────────────────────
  account: endpoint({ method: "GET", path: "/v1/account", status: 200, reply: Account }),
  audit: endpoint({ method: "GET", path: "/v1/audit", status: 200, uncheckedReply: unchecked<AuditLog>() }),
  verifyAudit: endpoint({ method: "GET", path: "/v1/audit/verify", status: 200, reply: AuditVerification }),
  accountChanges: endpoint({ method: "GET", path: "/v1/account-changes", status: 200, reply: AccountChangeList }),
  cancelAccountChange: endpoint({
    method: "POST",
    path: "/v1/account-changes/:id/cancel",
    params: UuidParams,
    status: 200,
    reply: AccountChange,
  }),
  cancelAccountChangeByToken: endpoint({
    method: "POST",
    path: "/v1/account-changes/cancel",
    body: AccountChangeCancelToken,
    status: 200,
    reply: AccountChange,
  }),

  // ── wallets and two-party sessions ──────────────────────────────────────────────────────────
  createWallet: endpoint({
    method: "POST",
    path: "/v1/wallets",
    body: WalletCreate,
    status: 201,
    reply: WalletCreated,
  }),
  confirmWalletKey: endpoint({
    method: "POST",
    path: "/v1/wallets/:id/confirm",
    params: UuidParams,
    body: KeyConfirmation,
    status: 200,
    reply: WalletState,
  }),
  wallets: endpoint({ method: "GET", path: "/v1/wallets", status: 200, uncheckedReply: unchecked<WalletList>() }),
  wallet: endpoint({
    method: "GET",
    path: "/v1/wallets/:id",
    params: UuidParams,
    status: 200,
    uncheckedReply: unchecked<WalletDetail>(),
  }),
  deleteWallet: endpoint({
    method: "DELETE",
    path: "/v1/wallets/:id",
    params: UuidParams,
    status: 200,
    reply: WalletDeleted,
  }),
  sessionRound: endpoint({
    method: "POST",
    path: "/v1/sessions/:id/round",
    params: UuidParams,
    body: SessionRound,
    status: 200,
    reply: SessionReply,
  }),

  // ── key changes ─────────────────────────────────────────────────────────────────────────────
  startKeyChange: endpoint({
    method: "POST",
    path: "/v1/wallets/:id/key-changes",
    params: UuidParams,
    body: KeyChangeRequest,
    status: 201,
    reply: KeyChangeStarted,
  }),
  confirmKeyChange: endpoint({
    method: "POST",
    path: "/v1/wallets/:id/key-changes/:epoch/confirm",
    params: KeyChangeParams,
    body: KeyConfirmation,
    status: 200,
    reply: KeyChangeConfirmed,
  }),

  // ── backup by request ───────────────────────────────────────────────────────────────────────
  requestBackup: endpoint({
    method: "POST",
    path: "/v1/wallets/:id/backup",
    params: UuidParams,
    body: BackupRequest,
    status: 201,
    reply: Backup,
  }),
  backupStatus: endpoint({
    method: "GET",
    path: "/v1/wallets/:id/backup",
    params: UuidParams,
    status: 200,
    reply: Backup,
  }),
  cancelBackup: endpoint({
    method: "POST",
    path: "/v1/wallets/:id/backup/cancel",
    params: UuidParams,
    status: 200,
    reply: Backup,
  }),
  downloadBackup: endpoint({
    method: "POST",
    path: "/v1/wallets/:id/backup/download",
    params: UuidParams,
    status: 200,
    reply: Backup,
  }),

  // ── face recovery and heirs ─────────────────────────────────────────────────────────────────
  faceRecoveryOperators: endpoint({
    method: "GET",
    path: "/v1/recovery/operators",
    status: 200,
    reply: RecoveryOperators,
  }),
  startEnrollment: endpoint({
    method: "POST",
    path: "/v1/recovery/enrollments",
    body: EnrollmentStart,
    status: 201,
    reply: EnrollmentStarted,
  }),
  completeEnrollment: endpoint({
    method: "PUT",
    path: "/v1/recovery/enrollments/:id",
    params: UuidParams,
    body: EnrollmentCompletion,
    status: 200,
    reply: Enrollment,
  }),
  recoveryKeys: endpoint({ method: "GET", path: "/v1/recovery/keys", status: 200, reply: EnrollmentList }),
  resealRecoveryBoxes: endpoint({
    method: "PUT",
    path: "/v1/wallets/:id/recovery-boxes",
    params: UuidParams,
    body: RecoveryBoxesUpdate,
    status: 200,
    reply: RecoveryBoxesSealed,
  }),
  vetoHeir: endpoint({
    method: "POST",
    path: "/v1/recovery/enrollments/:id/veto",
    params: UuidParams,
    status: 200,
    reply: Enrollment,
  }),
  recoverableEnrollments: endpoint({
    method: "GET",
    path: "/v1/recovery/enrollments",
    status: 200,
    reply: RecoverableEnrollments,
  }),
  faceRecoveryTicket: endpoint({
    method: "POST",
    path: "/v1/recovery/enrollments/:id/tickets",
    params: UuidParams,
    body: FaceRecoveryTicketRequest,
    status: 200,
    reply: FaceRecoveryTicket,
  }),
  claimRecovery: endpoint({
    method: "POST",
    path: "/v1/recovery/enrollments/:id/claim",
    params: UuidParams,
    body: RecoveryClaim,
    status: 200,
    reply: ClaimedRecovery,
  }),
  recoveries: endpoint({ method: "GET", path: "/v1/recovery/recoveries", status: 200, reply: RecoveryList }),
  confirmRecovery: endpoint({
    method: "POST",
    path: "/v1/recovery/recoveries/:id/confirm",
    params: UuidParams,
    status: 200,
    reply: Recovery,
  }),
  rejectRecovery: endpoint({
    method: "POST",
    path: "/v1/recovery/recoveries/:id/reject",
    params: UuidParams,
    status: 200,
    reply: Recovery,
  }),

  // ── sign requests ───────────────────────────────────────────────────────────────────────────
  createSignRequest: endpoint({
    method: "POST",
    path: "/v1/wallets/:id/sign-requests",
    params: UuidParams,
    body: SignRequestCreate,
    status: 201,
    reply: SignRequest,
  }),
  signRequests: endpoint({
    method: "GET",
    path: "/v1/sign-requests",
    querystring: SignRequestQuery,
    status: 200,
    reply: SignRequestList,
  }),
  signRequest: endpoint({
    method: "GET",
    path: "/v1/sign-requests/:id",
    params: UuidParams,
    status: 200,
    reply: SignRequest,
  }),
  approveSignRequest: endpoint({
    method: "POST",
    path: "/v1/sign-requests/:id/approve",
    params: UuidParams,
    body: ApprovalBody,
    status: 200,
    reply: SignRequest,
  }),
  cancelSignRequest: endpoint({
    method: "POST",
    path: "/v1/sign-requests/:id/cancel",
    params: UuidParams,
    status: 200,
    reply: SignRequest,
  }),
  giveSignRequestTotp: endpoint({
    method: "POST",
    path: "/v1/sign-requests/:id/totp",
    params: UuidParams,
    body: TotpBody,
    status: 200,
    reply: SignRequest,
  }),
  startSigning: endpoint({
    method: "POST",
    path: "/v1/sign-requests/:id/sign",
    params: UuidParams,
    status: 200,
    reply: SignRequest,
  }),

  // ── the account's TOTP and wallets' rules ───────────────────────────────────────────────────
  startTotp: endpoint({ method: "POST", path: "/v1/totp", body: TotpStart, status: 200, reply: TotpSecret }),
  confirmTotp: endpoint({
    method: "POST",
    path: "/v1/totp/confirm",
    body: TotpBody,
    status: 200,
    reply: TotpConfirmed,
  }),
  walletRules: endpoint({
    method: "GET",
    path: "/v1/wallets/:id/policy",
    params: UuidParams,
    status: 200,
    reply: WalletRules,
  }),
  policyTemplates: endpoint({
    method: "GET",
    path: "/v1/policy-templates",
    status: 200,
    reply: PolicyTemplateList,
  }),
  changePolicy: endpoint({
    method: "POST",
    path: "/v1/wallets/:id/policy",
    params: UuidParams,
    body: PolicyChangeRequest,
    status: 202,
    reply: PolicyChangeAccepted,
  }),
  cancelPolicyChange: endpoint({
    method: "POST",
    path: "/v1/policy-changes/:id/cancel",
    params: UuidParams,
    status: 200,
    reply: PolicyChangeCancelled,
  }),
  addToAllowList: endpoint({
    method: "POST",
    path: "/v1/wallets/:id/allow-list",
    params: UuidParams,
    body: AllowListEntry,
    status: 201,
    reply: AllowListAdded,
  }),
  removeFromAllowList: endpoint({
    method: "POST",
    path: "/v1/wallets/:id/allow-list/remove",
    params: UuidParams,
    body: AllowListEntry,
    status: 200,
    reply: AllowListRemoved,
  }),

  // ── the relay (its WebSocket, /v1/relay/ws, speaks frames, not this contract) ───────────────
  openRelaySession: endpoint({
    method: "POST",
    path: "/v1/relay",
    body: RelaySessionRequest,
    status: 201,
    reply: RelaySession,
  }),
  relaySessions: endpoint({ method: "GET", path: "/v1/relay", status: 200, reply: RelaySessionList }),
  relaySession: endpoint({
    method: "GET",
    path: "/v1/relay/:id",
    params: UuidParams,
    status: 200,
    reply: RelaySession,
  }),
  postEnvelopes: endpoint({
    method: "POST",
    path: "/v1/relay/:id/envelopes",
    params: UuidParams,
    body: EnvelopePost,
    status: 200,
    reply: EnvelopesStored,
  }),
  envelopes: endpoint({
    method: "GET",
    path: "/v1/relay/:id/envelopes",
    params: UuidParams,
    querystring: EnvelopeQuery,
    status: 200,
    reply: EnvelopeList,
  }),
};
