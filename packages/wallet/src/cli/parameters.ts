/**
 * The command line's words for the SDK's parameters: an SDK error names an input by the parameter
 * that gives it, in backticks (`rpc`), and the command line says the option that gives it instead.
 */

/** The options that give the parameters SDK errors name. */
const OPTION_OF: ReadonlyMap<string, string> = new Map([
  ["rpc", "--rpc"],
  ["chainId", "--chain-id"],
  ["nonce", "--nonce"],
  ["blockhash", "--blockhash"],
  ["coins", "--coins"],
  ["feeRate", "--fee-rate"],
  ["devices", "--with"],
  // --quorum T/N gives both the threshold and the number of parties.
  ["n", "the N of --quorum"],
]);

/** `message` with each parameter it names said as the option that gives it. */
export const inOptions = (message: string): string =>
  message.replace(/`(\w+)`/g, (named, parameter: string) => OPTION_OF.get(parameter) ?? named);
