/** @keyshard/api — placeholder, filled by the contract. */
export {};
