// The part of bitcore-lib (an independent Bitcoin implementation) the tests use to check spends.
declare module "bitcore-lib" {
  interface Script {
    toBuffer(): Buffer;
  }
  interface Output {
    script: Script;
    satoshis: number;
  }
  interface Input {
    script: Script;
    output?: Output;
    getWitnesses(): Buffer[];
  }
  interface Transaction {
    inputs: Input[];
  }
  interface Interpreter {
    errstr: string;
    verify(
      scriptSig: Script,
      scriptPubkey: Script,
      tx: Transaction,
      nin: number,
      flags: number,
      witness: Buffer[],
      satoshis: number,
    ): boolean;
  }
  interface Address {
    network: { name: string };
  }
  const bitcore: {
    Transaction: { new (hex: string): Transaction; Output: new (o: { script: Script; satoshis: number }) => Output };
    Script: {
      fromBuffer(b: Buffer): Script;
      fromAddress(a: Address): Script;
      Interpreter: { new (): Interpreter } & Record<string, number>;
    };
    Address: new (address: string) => Address;
  };
  export default bitcore;
}
