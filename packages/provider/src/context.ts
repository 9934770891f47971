/** What the provider's services share: storage, the master key, the notifier and the clock (injectable for tests). */
import type { PolicyTemplate } from "@keyshard/api";
import type { DeviceIdentity } from "@keyshard/transport";
import type { Notifier } from "./notify/notifier.js";
import type { RecoveryOperator } from "./recovery/operators.js";
import type { LiveParties } from "./sessions/live-parties.js";
import type { ShareCache } from "./sessions/share-cache.js";
import type { MasterKey } from "./store/master-key.js";
import type { Database } from "./store/queryable.js";

export interface ProviderContext {
  /** The provider's own device identity, for relayed sessions it takes part in, and its id. */
  identity: DeviceIdentity;
  identityId: string;
  db: Database;
  masterKey: MasterKey;
  notifier: Notifier;
  /** This start's secret path segment of the development mail viewer (used without SMTP only). */
  devMailToken: string;
  /** Decoded shares and precomputed signing work of this process. */
  shares: ShareCache;
  /** Running sessions' parties of this process (the database holds their states too). */
  parties: LiveParties;
  /** Milliseconds since the epoch. */
  now: () => number;
  /** Trial mode: delays may be below their production minimums, and every response says so. */
  trial: boolean;
  /** How long a policy change waits, and how long a device must be active before it may approve. */
  policyDelayMs: number;
  /** How long a guarded account change waits, cancellable (see `account/guarded-changes.ts`). */
  accountChangeDelayMs: number;
  /** How long a requested backup of the provider's share waits before its release. */
  backupDelayMs: number;
  /** Requests per client and minute on the routes that send or check codes. */
  authRateLimit: number;
  /** How long a face recovery holds the account's outgoing transfers unless an older device confirms. */
  recoveryHoldMs: number;
  /** Face recovery tickets (guesses) per enrollment in any 24 hours. */
  faceAttemptsPerDay: number;
  /** The recovery operators that hold the shares of every new enrollment's OPRF key (none: no face enrollment). */
  recoveryOperators: readonly RecoveryOperator[];
  /** How many of them answer a face guess together. */
  recoveryThreshold: number;
  /** The policies offered to a new wallet: the built-in default first (`policy/templates.ts`). */
  policyTemplates: readonly PolicyTemplate[];
  /** An heir's inactivity threshold when the owner names none. */
  heirInactivityMs: number;
  /** Where liveness challenges take their randomness (tests fix it; otherwise the CSPRNG). */
  challengeRandom: (n: number) => Uint8Array;
  /** The relay WebSocket's limits where they are not its defaults (`http/routes/relay.ts`). */
  relaySockets?: Partial<RelaySocketSettings>;
}

/** The limits on relay WebSockets that have not proved their device yet. */
export interface RelaySocketSettings {
  /** How long a socket may stay open before its first frame has proved which device it is. */
  authenticationWaitMs: number;
  /** Sockets of this process waiting for their authentication at once: upgrades beyond are refused. */
  maxUnauthenticated: number;
  /** Upgrades per client address and minute. */
  upgradesPerMinute: number;
  /** Awaited before a first frame is checked: tests hold the check to send a frame meanwhile. */
  beforeCheck?: () => Promise<void>;
}
