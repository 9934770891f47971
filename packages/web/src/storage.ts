/**
 * This device's share of each wallet lives in the browser's IndexedDB, which a browser may clear
 * when space runs low unless the origin's storage is persistent. The app asks for persistence once
 * the keystore is made or opened, and says so when the browser refuses.
 */

let asked: Promise<boolean> | undefined;

/** Asks the browser to keep this origin's storage (when it does not already); whether it will. */
export function keepStorage(): Promise<boolean> {
  const storage = navigator.storage as StorageManager | undefined;
  if (storage?.persist === undefined) return Promise.resolve(false);
  asked = (async () => {
    try {
      return (await storage.persisted()) || (await storage.persist());
    } catch {
      return false;
    }
  })();
  return asked;
}

/** Whether the browser keeps this origin's storage, after the last request's answer. */
export async function storageKept(): Promise<boolean> {
  if (asked !== undefined) return asked;
  try {
    return (await navigator.storage?.persisted?.()) === true;
  } catch {
    return false;
  }
}
