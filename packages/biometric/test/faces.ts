/** Where the tests' face pictures are: a copy of part of the shared set, kept with the tests. */
export const FACES = new URL("./fixtures/faces", import.meta.url).pathname;
export const PEOPLE = `${FACES}/people`;
