// Command-line parsing errors in our own words (Node's parseArgs texts are long and quote oddly), with "did you mean".

import { QatmgrError, ErrorCodes } from '../errors.js';

/** Edit distance (insert, delete, substitute, swap two neighbours), for suggestions. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The closest candidate when it is close enough to be a typo (or a prefix of exactly one), else undefined. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const prefixed = candidates.filter((c) => c.startsWith(word));
  if (word.length >= 2 && prefixed.length === 1) return prefixed[0];
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestD) { best = c; bestD = d; }
  }
  return bestD <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

/** " (did you mean --state?)" or "". */
export function didYouMean(word: string, candidates: readonly string[], prefix = ''): string {
  const c = closest(word, candidates);
  return c ? `; did you mean ${prefix}${c}?` : '';
}

/**
 * A usage error for an error thrown by util.parseArgs (ERR_PARSE_ARGS_*), else undefined. `options` are the long
 * option names the command knows (for suggestions).
 */
export function usageErrorFromParseArgs(e: unknown, options: readonly string[]): QatmgrError | undefined {
  const err = e as NodeJS.ErrnoException;
  if (!err || typeof err.code !== 'string' || !err.code.startsWith('ERR_PARSE_ARGS')) return undefined;
  const quoted = /'([^']*)'/.exec(err.message)?.[1] ?? '';
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const name = quoted.replace(/^-+/, '').split('=')[0];
    return new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `unknown option ${quoted}${didYouMean(name, options, '--')}`, { option: quoted });
  }
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const opt = quoted.split(/[ =]/)[0];
    const what = /argument missing/.test(err.message) ? 'needs a value' : 'takes no value';
    return new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `option ${opt || quoted} ${what}`, { option: opt });
  }
  if (err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    return new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `unexpected argument "${quoted}" (this command takes only options)`, { argument: quoted });
  }
  return new QatmgrError(ErrorCodes.QATMGR_E_USAGE, err.message);
}
