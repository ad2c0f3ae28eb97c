#!/usr/bin/env node
// The `keycrate-worker` command. A committed shim, so that npm links the bin at install time, before the build.
import '../dist/cli.js';
