#!/usr/bin/env node
// The `keyshard` command line. Installed from its package, it runs the modules compiled into
// `dist/`. In the repository, beside the sources and their build script (neither is published),
// it runs what `from-sources.js` builds from the sources, so that no build step comes first.
import { existsSync } from "node:fs";
import module from "node:module";

// Each command is a new process: V8's compiled code, kept on disk across them, spares each one
// recompiling the command line's modules.
module.enableCompileCache?.();

if (existsSync(new URL("../build.mjs", import.meta.url))) await import("./from-sources.js");
else await import("../dist/cli/main.js");
