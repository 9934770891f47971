import { dkls23, runLocal } from "./packages/mpc/src/index.js";

const sid = () => crypto.getRandomValues(new Uint8Array(32));
const s = sid();
const keys = runLocal([0, 1].map((index) => dkls23.keygen({ sid: s, index, n: 2, t: 2 })));
for (let k = 0; k < 40; k++) {
  const s2 = sid();
  const h = crypto.getRandomValues(new Uint8Array(32));
  runLocal(keys.map((key) => dkls23.sign(key, { sid: s2, messageHash: h, signers: [0, 1] })));
}
