/**
 * A keystore storage in memory, its lock a queue, as a browser's or a folder's would behave: all
 * the keystore format asks of a storage, for tests of the format and of the SDK around it. `text`
 * is the stored record, for a test to read or to tamper with.
 */
import { type KeystoreStorage, keystoreExists } from "../src/keystore.js";

export function memoryStorage(): KeystoreStorage & { text: string | undefined } {
  let queue = Promise.resolve();
  const storage = {
    where: "memory",
    text: undefined as string | undefined,
    async read() {
      return storage.text;
    },
    async create(text: string) {
      if (storage.text !== undefined) throw keystoreExists("memory");
      storage.text = text;
    },
    async write(text: string) {
      storage.text = text;
    },
    lock() {
      const previous = queue;
      let release = () => {};
      queue = new Promise<void>((r) => {
        release = r;
      });
      return previous.then(() => release);
    },
  };
  return storage;
}
