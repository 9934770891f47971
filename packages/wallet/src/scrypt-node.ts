/**
 * The keystore's scrypt in Node: the runtime's own (OpenSSL), run on libuv's thread pool, a third
 * faster than JavaScript's and off the event loop. Browsers get `scrypt-browser.ts` instead (the
 * package's `#scrypt` under the "browser" condition); both compute RFC 7914 scrypt, so a keystore
 * made by one opens with the other.
 */
import { scrypt as nodeScrypt } from "node:crypto";

export function scrypt(
  password: Uint8Array,
  salt: Uint8Array,
  cost: { N: number; r: number; p: number; dkLen: number },
): Promise<Uint8Array> {
  // OpenSSL refuses more than `maxmem` bytes: 128·N·r·p is what scrypt needs, plus its own slack.
  const maxmem = 128 * cost.N * cost.r * cost.p + 1024 * 1024;
  return new Promise((resolve, reject) =>
    nodeScrypt(password, salt, cost.dkLen, { N: cost.N, r: cost.r, p: cost.p, maxmem }, (error, key) =>
      error === null ? resolve(new Uint8Array(key.buffer, key.byteOffset, key.length)) : reject(error),
    ),
  );
}
