/**
 * What a browser bundle has in place of `keystore-file.ts` (the package's `#keystore-home` under
 * the "browser" condition): a browser has no folders, so a keystore located by a home folder is
 * refused, naming the storage a browser has.
 */
import type { KeystoreStorage } from "./keystore.js";

export function fileKeystore(home: string): KeystoreStorage {
  throw new TypeError(
    `a keystore in a folder (${home}) needs Node: in a browser, give the keystore's location as indexedDbKeystore()`,
  );
}
