/**
 * The provider's own device identity, for the sessions in which it is a party among devices: an
 * Ed25519 key made once, sealed in the database, the same for every replica.
 */
import { type DeviceIdentity, newDeviceIdentity } from "@keyshard/transport";
import { ed25519 } from "@noble/curves/ed25519.js";
import type { MasterKey } from "./master-key.js";
import type { Database } from "./queryable.js";

const CONTEXT = "meta:provider-identity";

export async function loadProviderIdentity(db: Database, masterKey: MasterKey): Promise<DeviceIdentity> {
  const fresh = newDeviceIdentity();
  // Replicas starting together: the first insert wins and everyone reads it back.
  await db.query("INSERT INTO meta (key, value) VALUES ('provider-identity', $1) ON CONFLICT DO NOTHING", [
    masterKey.seal(fresh.secretKey, CONTEXT),
  ]);
  const [row] = await db.query<{ value: Uint8Array }>("SELECT value FROM meta WHERE key = 'provider-identity'");
  const secretKey = masterKey.open(new Uint8Array((row as { value: Uint8Array }).value), CONTEXT);
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}
