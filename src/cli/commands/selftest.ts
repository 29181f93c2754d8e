// `qatctl selftest`: drive every QAT instance this process is granted through libqat, verify and measure it.

import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { EXIT } from '../exit-codes.js';
import { runSelftest } from '../../selftest/run.js';
import { renderReport, progressLine } from '../../selftest/report.js';
import { parseSizes, parseDuration, DEFAULT_SIZES } from '../../selftest/options.js';

const usage = `Usage: qatctl selftest [--name NAME] [--duration TIME] [--size SIZES] [--lib PATH] [--socket PATH] [--json]

Starts as a libqat client (icp_sal_userStart NAME: qatmgr grants this process a section), then
for every DC instance compresses and decompresses payloads and compares them byte for byte, and
for every CY instance hashes (SHA-256) and encrypts (AES-256-CBC) and compares with node:crypto.
Prints one row per instance: pass/fail, ops/s, MB/s, latency p50/p99 per request. The section is
always given back (icp_sal_userStop), also on Ctrl-C.

Options:
  --name NAME       process name sent to qatmgr (default SSL)
  --duration TIME   load time per instance: seconds, or with unit 500ms/2s/1m (default 0.25)
  --size SIZES      payload size(s) in bytes, comma list, units k/M (default ${DEFAULT_SIZES.join(',')})
  --lib PATH        directory with libqat.so.4 + libusdm.so.0, or the libqat file
                    (default: QATCTL_LIBQAT / QATCTL_LIBUSDM, else the system's libraries)
  --socket PATH     qatmgr socket, exported as QATMGR_SOCKET (libqat-sim honours it; upstream
                    libqat always uses /run/qat/qatmgr.sock)
  --json            print the report as JSON
  -h, --help        this help

Exit status: 0 every instance passed, 1 bad usage, 2 an instance failed, 3 libqat could not be
loaded or started (no qatmgr, no free section), 130 interrupted ('qatctl help exit-codes').
`;

export const selftestCommand: Command = {
  name: 'selftest',
  summary: 'run verified compression/crypto work on every granted QAT instance through libqat',
  usage,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        name: { type: 'string' },
        duration: { type: 'string' },
        size: { type: 'string' },
        lib: { type: 'string' },
        socket: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) { io.out.write(usage); return 0; }
    const durationMs = values.duration !== undefined ? parseDuration(values.duration) : 250;
    const sizes = values.size !== undefined ? parseSizes(values.size) : DEFAULT_SIZES;
    let interrupt: (() => void) | undefined;
    let signals = 0;
    const onSignal = () => {
      signals++;
      if (signals > 1) process.exit(130); // the daemon frees the section when our socket closes
      io.err.write('\ninterrupted: finishing the current request and releasing the section (Ctrl-C again to quit now)\n');
      interrupt?.();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    let showProgress = false;
    try {
      const report = await runSelftest(
        { name: values.name ?? 'SSL', lib: values.lib, socket: values.socket, durationMs, sizes },
        {
          onStart(dc, cy) {
            showProgress = io.isTTY && !values.json && (dc.length + cy.length) * durationMs > 1000;
          },
          onProgress(fraction, current) {
            if (showProgress) io.err.write(progressLine(fraction, current));
          },
          onInterruptible(fn) {
            interrupt = fn;
            if (signals > 0) fn();
          },
        },
      );
      if (showProgress) io.err.write('\r\x1b[K'); // clear the bar line
      io.out.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report));
      return report.interrupted ? EXIT.INTERRUPTED : report.passed ? EXIT.OK : EXIT.FAILED;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
