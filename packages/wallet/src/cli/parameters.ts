/**
 * The command line's words for the SDK's parameters: an SDK error names an input by the parameter
 * that gives it, in backticks (`rpc`), and the command line says the option that gives it instead.
 */

/** The options that give the parameters SDK errors name, with the part of it when one gives several. */
const OPTION_OF: ReadonlyMap<string, { option: string; part?: string }> = new Map([
  ["rpc", { option: "--rpc" }],
  ["chainId", { option: "--chain-id" }],
  ["nonce", { option: "--nonce" }],
  ["gas", { option: "--gas" }],
  ["token", { option: "--token" }],
  ["blockhash", { option: "--blockhash" }],
  ["coins", { option: "--coins" }],
  ["feeRate", { option: "--fee-rate" }],
  ["finalize", { option: "--partial" }],
  ["devices", { option: "--with" }],
  ["status", { option: "--status" }],
  ["path", { option: "--path" }],
  ["network", { option: "--network" }],
  ["operators", { option: "--operators" }],
  ["policyTemplate", { option: "--policy-template" }],
  // --quorum T/N gives both the threshold and the number of parties.
  ["n", { option: "--quorum", part: "the N of" }],
]);

/** The option that gives `parameter`, if the command line has one. */
export const optionOf = (parameter: string): string | undefined => OPTION_OF.get(parameter)?.option;

/** `message` with each parameter it names said as the option that gives it. */
export const inOptions = (message: string): string =>
  message.replace(/`(\w+)`/g, (named, parameter: string) => {
    const given = OPTION_OF.get(parameter);
    if (given === undefined) return named;
    return given.part === undefined ? given.option : `${given.part} ${given.option}`;
  });
