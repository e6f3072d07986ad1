#!/usr/bin/env node
import { fileURLToPath } from "node:url";
import { execute } from "@oclif/core";
import { ensureManifest } from "../dist/lib/manifest.js";

// A current manifest spares oclif importing every command to list them (see dist/lib/manifest.js).
await ensureManifest(fileURLToPath(new URL("..", import.meta.url)));
await execute({ dir: import.meta.url });
