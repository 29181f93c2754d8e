// Parser for /etc/sysconfig/qat with systemd EnvironmentFile= semantics (not an INI parser: `;` inside a value is data).

import { QatmgrError, ErrorCodes, showValue } from '../errors.js';
import { readBounded } from './safe-read.js';

/** Longest settings file read (the real one is a few lines; this is far beyond any honest one). */
export const MAX_ENV_FILE_BYTES = 1024 * 1024;

export interface EnvEntry {
  key: string;
  value: string;
  /** 1-based line where the assignment starts. */
  line: number;
}

export interface EnvFile {
  path: string;
  /** Every assignment in file order (duplicates included, so callers can warn). */
  entries: EnvEntry[];
  /** Last assignment wins, as in systemd. */
  values: Map<string, EnvEntry>;
}

const KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** No key anyone reads is longer; a longer one is a damaged or hostile file, not a setting. */
const MAX_KEY_LENGTH = 128;

/**
 * Parse the text of an environment file.
 * Rules (systemd's load_env_file): blank lines and lines whose first non-blank character is `#` or `;`
 * are comments; `KEY=VALUE` with optional blanks around `=`; unquoted values lose leading/trailing
 * blanks and a trailing backslash joins the next line; `'…'` is literal; `"…"` honours `\"`, `\\`,
 * `\$`, `` \` `` and backslash-newline. A quoted value may span lines. Text after a closing quote
 * up to end of line must be blank.
 */
export function parseEnvText(text: string, path: string): EnvFile {
  const entries: EnvEntry[] = [];
  const values = new Map<string, EnvEntry>();
  const src = text.replace(/\r\n/g, '\n');
  let i = 0;
  let line = 1;
  const n = src.length;
  const fail = (at: number, msg: string): never => {
    throw new QatmgrError(ErrorCodes.QATMGR_E_CONFIG_SYNTAX, `${path}:${at}: ${msg}`, { path, line: at });
  };

  while (i < n) {
    // skip leading blanks
    while (i < n && (src[i] === ' ' || src[i] === '\t')) i++;
    if (i >= n) break;
    const c = src[i];
    if (c === '\n') { i++; line++; continue; }
    if (c === '#' || c === ';') {
      while (i < n && src[i] !== '\n') i++;
      continue;
    }
    const startLine = line;
    const eol = src.indexOf('\n', i);
    const lineEnd = eol < 0 ? n : eol;
    const eq = src.indexOf('=', i);
    if (eq < 0 || eq > lineEnd) {
      fail(startLine, `expected KEY=value, found ${showValue(src.slice(i, lineEnd).trim())}`);
    }
    let key = src.slice(i, eq).trim();
    if (key.startsWith('export ')) key = key.slice(7).trim();
    if (!KEY_RE.test(key)) fail(startLine, `${showValue(key)} is not a valid variable name`);
    if (key.length > MAX_KEY_LENGTH) fail(startLine, `variable name ${showValue(key)} is longer than ${MAX_KEY_LENGTH} characters`);
    i = eq + 1;
    while (i < n && (src[i] === ' ' || src[i] === '\t')) i++;

    let value = '';
    if (src[i] === "'" || src[i] === '"') {
      const q = src[i];
      i++;
      let closed = false;
      while (i < n) {
        const ch = src[i];
        if (ch === q) { closed = true; i++; break; }
        if (q === '"' && ch === '\\' && i + 1 < n) {
          const nx = src[i + 1];
          if (nx === '\n') { i += 2; line++; continue; }
          if (nx === '"' || nx === '\\' || nx === '$' || nx === '`') { value += nx; i += 2; continue; }
          value += ch; i++; continue;
        }
        if (ch === '\n') line++;
        value += ch;
        i++;
      }
      if (!closed) fail(startLine, `unterminated ${q === '"' ? 'double' : 'single'} quote in value of ${key}`);
      // rest of line must be blank
      while (i < n && src[i] !== '\n') {
        if (src[i] !== ' ' && src[i] !== '\t') fail(line, `unexpected text after closing quote in value of ${key}`);
        i++;
      }
    } else {
      // unquoted: to end of line, with backslash-newline continuation
      while (i < n) {
        const ch = src[i];
        if (ch === '\\' && src[i + 1] === '\n') { i += 2; line++; continue; }
        if (ch === '\n') break;
        value += ch;
        i++;
      }
      value = value.replace(/[ \t]+$/, '');
    }
    const entry: EnvEntry = { key, value, line: startLine };
    entries.push(entry);
    values.set(key, entry);
  }
  return { path, entries, values };
}

/**
 * Read and parse a file; `missingOk` returns an empty result for ENOENT (systemd's `-` prefix). At most 1 MiB is read,
 * never blocking: a FIFO or /dev/zero given as --config is an error, never a hang (/dev/null reads as empty).
 */
export function readEnvFile(path: string, missingOk: boolean): EnvFile {
  const r = readBounded(path, { maxBytes: MAX_ENV_FILE_BYTES, allowCharDevice: true });
  if (!r.ok) {
    if (r.code === 'ENOENT' && missingOk) return { path, entries: [], values: new Map() };
    throw new QatmgrError(ErrorCodes.QATMGR_E_CONFIG_SYNTAX, `${path}: ${r.why}`, { path });
  }
  if (r.data.includes(0)) {
    throw new QatmgrError(ErrorCodes.QATMGR_E_CONFIG_SYNTAX, `${path}: contains NUL bytes; not a text file`, { path });
  }
  return parseEnvText(r.data.toString('utf8'), path);
}
