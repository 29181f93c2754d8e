#!/usr/bin/env node
// Entry point of the qatmgr daemon (wiring only; the logic lives in src/).
process.stderr.write('qatmgr: not built yet\n');
process.exitCode = 1;
