// A worker thread starts without the TypeScript loader its parent may run under: register it.
import { register } from "tsx/esm/api";

register();
await import("./precompute-worker.ts");
