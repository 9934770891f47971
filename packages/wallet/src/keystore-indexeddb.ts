/**
 * The keystore in a browser: IndexedDB database "keyshard", object store "keystore", one record
 * per device slot (the record is the keystore's text, encrypted like a keystore file). Writes wait
 * for the transaction's strict durability, so a resolved write is on disk. Read-modify-write
 * cycles hold a Web Lock named after the slot, which excludes the other tabs and workers of this
 * origin, as the lock file excludes the other processes on a home.
 */
import { KeystoreError, type KeystoreStorage, keystoreExists } from "./keystore.js";

const DATABASE = "keyshard";
const STORE = "keystore";
const LOCK_WAIT_MS = 15_000;

/** An IndexedDB request's result, or its error as a KeystoreError keeping the cause. */
function settled<R>(request: IDBRequest<R>, doing: string): Promise<R> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () =>
      reject(new KeystoreError("unavailable", `this browser's storage refused to ${doing}`, { cause: request.error }));
  });
}

/** A transaction's completion: its writes are then durable, or it failed as a whole. */
function completed(transaction: IDBTransaction, doing: string): Promise<void> {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    // A failed request's error reaches the transaction as an "error" event whose target is that
    // request; the transaction's own error is set only once it aborts, after.
    const fail = (event: Event) => {
      const failed = event.target as IDBRequest | IDBTransaction | null;
      reject(
        new KeystoreError("unavailable", `this browser's storage refused to ${doing}`, {
          cause: failed?.error ?? transaction.error,
        }),
      );
    };
    transaction.onerror = fail;
    transaction.onabort = fail;
  });
}

/** The database, its store made on first use; `onClosed` is told when the connection ends. */
function openDatabase(onClosed: () => void): Promise<IDBDatabase> {
  const request = indexedDB.open(DATABASE, 1);
  request.onupgradeneeded = () => request.result.createObjectStore(STORE);
  return settled(request, "open its database").then((db) => {
    // A newer version of the page upgrading the database: let it, this connection is done.
    db.onversionchange = () => {
      db.close();
      onClosed();
    };
    // The browser closed it (its data cleared, say): the next call opens it again.
    db.onclose = onClosed;
    return db;
  });
}

/** The keystore of the device slot `slot` in this browser's IndexedDB. */
export function indexedDbKeystore(slot = "default"): KeystoreStorage {
  if (typeof slot !== "string" || slot.length === 0 || slot.length > 100)
    throw new TypeError("a keystore slot is a name of 1 to 100 characters");
  let database: Promise<IDBDatabase> | undefined;
  const forget = () => {
    database = undefined;
  };
  const transaction = async (mode: IDBTransactionMode) => {
    database ??= openDatabase(forget).catch((e) => {
      forget();
      throw e;
    });
    const db = await database;
    try {
      return db.transaction(STORE, mode, { durability: "strict" });
    } catch (e) {
      forget();
      throw new KeystoreError("unavailable", "this browser's storage refused a transaction", { cause: e });
    }
  };

  return {
    where: "this browser",

    async read() {
      const text = await settled((await transaction("readonly")).objectStore(STORE).get(slot), "read the keystore");
      if (text === undefined || typeof text === "string") return text;
      throw new KeystoreError("corrupted", "the keystore in this browser is not a keystore; restore it from a backup");
    },

    async create(text) {
      const tx = await transaction("readwrite");
      const done = completed(tx, "store the keystore");
      // `add`, unlike `put`, fails on a record already there, and its failure aborts the transaction.
      const adding = tx.objectStore(STORE).add(text, slot);
      try {
        await done;
      } catch (e) {
        if (adding.error?.name === "ConstraintError") throw keystoreExists("this browser");
        throw e;
      }
    },

    async write(text) {
      const tx = await transaction("readwrite");
      const done = completed(tx, "store the keystore");
      tx.objectStore(STORE).put(text, slot);
      await done;
    },

    lock() {
      // Web Locks exist only in secure contexts (https, or localhost), as WebAuthn does.
      if (globalThis.navigator?.locks === undefined)
        return Promise.reject(
          new KeystoreError("unavailable", "this page has no Web Locks: open the wallet over https"),
        );
      return new Promise((granted, refused) => {
        navigator.locks
          .request(
            `keyshard keystore ${slot}`,
            // Waits as long as the lock file does; the signal no longer matters once the lock is held.
            { mode: "exclusive", signal: AbortSignal.timeout(LOCK_WAIT_MS) },
            () => new Promise<void>((release) => granted(release)),
          )
          .catch((e: unknown) =>
            refused(
              e instanceof DOMException && (e.name === "TimeoutError" || e.name === "AbortError")
                ? new KeystoreError(
                    "locked",
                    "another tab or window of this wallet is changing its keystore; try again when it is done",
                    { cause: e },
                  )
                : new KeystoreError("unavailable", "this browser refused the keystore's lock", { cause: e }),
            ),
          );
      });
    },
  };
}
