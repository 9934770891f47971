/** What every route needs: storage, the master key, the notifier and the clock (injectable for tests). */
import type { Notifier } from "../notify/notifier.js";
import type { Database } from "../store/database.js";
import type { MasterKey } from "../store/master-key.js";

export interface ProviderContext {
  db: Database;
  masterKey: MasterKey;
  notifier: Notifier;
  /** Milliseconds since the epoch. */
  now: () => number;
  /** Requests per client and minute on the routes that send or check codes. */
  authRateLimit: number;
}
