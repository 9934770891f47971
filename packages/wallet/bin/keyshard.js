#!/usr/bin/env node
// The keyshard command line: the TypeScript sources run through tsx's loader.
import { register } from "tsx/esm/api";

register();
await import("../src/cli/main.ts");
