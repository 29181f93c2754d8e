// The shape every qatctl subcommand has, and the I/O it is given (so tests can run commands in-process).

export interface CliIo {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** stdout is a terminal: colour and progress bars allowed. */
  isTTY: boolean;
  /** Terminal width: tables are narrowed to it on a terminal (unless -o wide). */
  columns?: number;
  /** -o wide: every column whole, extra columns where the command has them. */
  wide?: boolean;
  /** --no-headers: tables without their header line. */
  noHeaders?: boolean;
}

export interface Command {
  name: string;
  /** One line for `qatctl --help`. */
  summary: string;
  /** Full help text for `qatctl NAME --help`. */
  usage: string;
  /** Returns the exit status. Throwing a QatmgrError prints its message and exits with its status. */
  run(argv: string[], io: CliIo): Promise<number>;
}

export function processIo(): CliIo {
  return {
    out: process.stdout,
    err: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    isTTY: process.stdout.isTTY === true,
    columns: process.stdout.isTTY ? process.stdout.columns : undefined,
  };
}
