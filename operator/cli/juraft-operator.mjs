#!/usr/bin/env node
// The `juraft-operator` command: loads the TypeScript sources through tsx (no build step), then runs.
import { register } from "tsx/esm/api";

register();
await import("../main.ts");
