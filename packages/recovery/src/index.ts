/** @keyshard/recovery — placeholder. */
export {};
