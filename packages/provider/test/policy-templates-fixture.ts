/**
 * A policy templates file as an operator writes one, with one template beside the built-in
 * default: what the provider's, the SDK's and the web wallet's tests start a provider with.
 */
import { fileURLToPath } from "node:url";

/** The file's path, for `policyTemplatesFile` (`KEYSHARD_POLICY_TEMPLATES`). */
export const TEMPLATES_FILE = fileURLToPath(new URL("./fixtures/policy-templates.json", import.meta.url));

/** Its one template, as the provider lists it. */
export const SMALL_ETH = {
  id: "small-eth",
  name: "Small ETH transfers",
  description: "ETH transfers on Ethereum up to 0.01 ETH each are signed; anything else is refused.",
  rules: [
    {
      name: "small ETH",
      when: { chain: ["ethereum"], action: ["transfer"], asset: ["ETH"], maxAmount: "10000000000000000" },
      decision: "allow",
    },
  ],
};
