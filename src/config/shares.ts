// Shares per service: "SUBJECT: min N, max M" rules from /etc/sysconfig/qat (Shares=) and /etc/qat/shares.d/*.conf.

import fs from 'node:fs';
import path from 'node:path';
import { QatmgrError, ErrorCodes, describeSysError } from '../errors.js';
import type { EnvFile } from './envfile.js';
import { under } from './roots.js';

/** Who a share is for: a systemd unit (or every instance of a template), a uid, a group, or the name sent in SECTION_GET. */
export type ShareSubject =
  | { kind: 'unit'; unit: string; template: boolean }
  | { kind: 'uid'; uid: number }
  | { kind: 'gid'; gid: number }
  | { kind: 'name'; name: string };

export interface ShareRule {
  subject: ShareSubject;
  /** The subject as the operator wrote it (`nginx.service`, `user:www-data`, `uid:1000`, `name:SSL`). */
  label: string;
  /** Sections kept free for this subject while it holds fewer (0 = none). */
  min: number;
  /** Sections it may hold at most; undefined = no cap. */
  max: number | undefined;
  /** `file:line` of the rule, for errors and `qatctl sections`. */
  where: string;
}

/** Largest min or max accepted (the most sections a plan can have). */
export const MAX_SHARE = 4096;
/** The drop-in directory under the etc root. */
export const SHARES_DIR = 'qat/shares.d';

/** Unit types that hold processes; a slice matches everything below it. */
const UNIT_RE = /^[A-Za-z0-9:_.\\-]+(@[A-Za-z0-9:_.\\-]*)?\.(service|scope|slice)$/;
const SUBJECT_HELP = 'a unit (nginx.service, worker@.service, app.scope, web.slice), uid:N, user:NAME, gid:N, group:NAME or name:PROCESS';

/** Names -> ids from passwd/group files (resolved when the rules are read, so a typo is an error, not a silent no-match). */
export interface IdLookup {
  user(name: string): number | undefined;
  group(name: string): number | undefined;
}

function fail(where: string, msg: string): never {
  throw new QatmgrError(ErrorCodes.QATMGR_E_CONFIG_VALUE, `${where}: ${msg}`);
}

function parseSubject(text: string, where: string, ids: IdLookup): ShareSubject {
  const m = /^(uid|gid|user|group|name):(.*)$/.exec(text);
  if (m) {
    const [, kind, arg] = m;
    if (arg === '') fail(where, `"${text}" names no ${kind}; expected ${SUBJECT_HELP}`);
    if (kind === 'name') {
      if (Buffer.byteLength(arg) > 255) fail(where, `process name "${arg.slice(0, 40)}…" is longer than the 255 bytes SECTION_GET can carry`);
      return { kind: 'name', name: arg };
    }
    if (kind === 'uid' || kind === 'gid') {
      if (!/^\d{1,10}$/.test(arg) || Number(arg) > 0xfffffffe) fail(where, `"${arg}" is not a numeric ${kind}`);
      return kind === 'uid' ? { kind: 'uid', uid: Number(arg) } : { kind: 'gid', gid: Number(arg) };
    }
    const id = kind === 'user' ? ids.user(arg) : ids.group(arg);
    if (id === undefined) fail(where, `${kind} "${arg}" is not in the ${kind === 'user' ? 'passwd' : 'group'} file`);
    return kind === 'user' ? { kind: 'uid', uid: id } : { kind: 'gid', gid: id };
  }
  if (text.length > 255 || !UNIT_RE.test(text)) fail(where, `"${text}" is not ${SUBJECT_HELP}`);
  const at = text.indexOf('@');
  // "worker@.service" is the template: it stands for every instance
  return { kind: 'unit', unit: text, template: at >= 0 && text[at + 1] === '.' };
}

/** One rule `SUBJECT: min N, max M` (either limit may be left out, in any order). */
export function parseShareRule(text: string, where: string, ids: IdLookup): ShareRule {
  // the subject may contain ':' (uid:1000); the limits start after the last ': min|max'
  const m = /^(.+?):\s*((?:min|max)\b.*)$/.exec(text);
  if (!m) fail(where, `"${text}" is not "SUBJECT: min N, max M" (e.g. "nginx.service: min 4, max 8")`);
  const label = m[1].trim();
  const subject = parseSubject(label, where, ids);
  let min: number | undefined;
  let max: number | undefined;
  for (const part of m[2].split(/\s*,\s*/)) {
    const p = /^(min|max)\s+(\S+)$/.exec(part.trim());
    if (!p) fail(where, `"${part.trim()}" is not "min N" or "max N"`);
    const [, key, num] = p;
    if (!/^\d+$/.test(num) || Number(num) > MAX_SHARE) fail(where, `${key} "${num}" is not a number 0..${MAX_SHARE}`);
    if ((key === 'min' ? min : max) !== undefined) fail(where, `${key} is given twice for ${label}`);
    if (key === 'min') min = Number(num);
    else max = Number(num);
  }
  if (min !== undefined && max !== undefined && min > max) fail(where, `${label}: min ${min} is above max ${max}`);
  return { subject, label, min: min ?? 0, max, where };
}

/** Rules of a text with one rule per line (`#` comments, blank lines); `sep` also splits a line (`;` in Shares=). */
export function parseSharesText(text: string, file: string, firstLine: number, ids: IdLookup, sep?: string): ShareRule[] {
  const out: ShareRule[] = [];
  text.split('\n').forEach((line, i) => {
    const body = line.replace(/#.*$/, '');
    for (const piece of sep ? body.split(sep) : [body]) {
      const t = piece.trim();
      if (t !== '') out.push(parseShareRule(t, `${file}:${firstLine + i}`, ids));
    }
  });
  return out;
}

function idFile(file: string): Map<string, number> {
  const map = new Map<string, number>();
  let text = '';
  try { text = fs.readFileSync(file, 'utf8'); } catch { return map; }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && /^\d+$/.test(f[2]) && !map.has(f[0])) map.set(f[0], Number(f[2]));
  }
  return map;
}

/** Names from `<etc>/passwd` and `<etc>/group`, read only when a rule names a user or a group. */
export function idLookup(etcRoot: string): IdLookup {
  let users: Map<string, number> | undefined;
  let groups: Map<string, number> | undefined;
  return {
    user: (n) => (users ??= idFile(path.join(etcRoot, 'passwd'))).get(n),
    group: (n) => (groups ??= idFile(path.join(etcRoot, 'group'))).get(n),
  };
}

const sameSubject = (a: ShareSubject, b: ShareSubject): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * Every share rule: `Shares=` of the settings file first (rules split by `;` or newlines), then the `*.conf` files of
 * `<etc>/qat/shares.d` in name order. A subject given twice is an error naming both places.
 */
export function readShares(etcRoot: string, file: EnvFile): { rules: ShareRule[]; dir: string } {
  const ids = idLookup(etcRoot);
  const rules: ShareRule[] = [];
  const entry = file.values.get('Shares');
  if (entry) rules.push(...parseSharesText(entry.value, file.path, entry.line, ids, ';'));
  const dir = under(etcRoot, SHARES_DIR);
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.conf')).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') fail(dir, `cannot list: ${describeSysError(e)}`);
  }
  for (const n of names) {
    const f = path.join(dir, n);
    let text: string;
    try {
      text = fs.readFileSync(f, 'utf8');
    } catch (e) {
      // a directory or a dangling link named *.conf is not a rules file, but it is not silently skipped either
      fail(f, `cannot read: ${describeSysError(e)}`);
    }
    rules.push(...parseSharesText(text, f, 1, ids));
  }
  for (let i = 0; i < rules.length; i++) {
    const first = rules.findIndex((r) => sameSubject(r.subject, rules[i].subject));
    if (first !== i) fail(rules[i].where, `${rules[i].label} already has a share at ${rules[first].where}`);
  }
  return { rules, dir };
}

/** Reservations must fit the plan: the rule whose min takes the sum above `sections` is named. */
export function checkReservations(rules: ShareRule[], sections: number): void {
  let sum = 0;
  for (const r of rules) {
    sum += r.min;
    if (r.min > 0 && sum > sections) {
      fail(r.where, `${r.label}: min ${r.min} brings the reserved sections to ${sum}, more than the ${sections} sections of the plan`);
    }
  }
}
