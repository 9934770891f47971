/**
 * The members of a t-of-n wallet: device ids in party-index order, the provider's own id at its
 * index when it takes part. Devices learn their peers' identity keys from here and check each
 * against its device id (a hash of the key), so the provider cannot slip in a key of its own.
 */
import type { ProviderContext } from "../context.js";
import { invalid } from "../errors.js";
import { identityKeys } from "../store/devices.js";
import type { Queryable } from "../store/queryable.js";

export interface MemberView {
  index: number;
  deviceId: string;
  identityKey: string;
  provider: boolean;
}

export async function memberViews(
  ctx: ProviderContext,
  q: Queryable,
  members: readonly string[],
): Promise<MemberView[]> {
  const keys = new Map(
    (await identityKeys(q, members)).map((r) => [r.id, Buffer.from(r.identity_key).toString("hex")]),
  );
  return members.map((deviceId, index) => {
    const provider = deviceId === ctx.identityId;
    return {
      index,
      deviceId,
      identityKey: provider ? Buffer.from(ctx.identity.publicKey).toString("hex") : (keys.get(deviceId) as string),
      provider,
    };
  });
}

/** Party indices of `signers` (device ids) plus the provider's, checked against the wallet's quorum. */
export function signingParties(
  ctx: ProviderContext,
  members: readonly string[],
  threshold: number,
  signers: readonly string[],
): number[] {
  const indices = new Set<number>();
  for (const id of [...signers, ctx.identityId]) {
    const index = members.indexOf(id);
    if (index < 0) throw invalid(`device ${id} is not a member of this wallet`);
    indices.add(index);
  }
  if (indices.size < threshold) throw invalid(`this wallet needs ${threshold} signers`);
  return [...indices].sort((a, b) => a - b);
}
