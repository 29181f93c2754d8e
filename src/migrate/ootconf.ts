// Parser for the out-of-tree package's device configs (/etc/<family>_dev<N>.conf): INI sections, strict errors.

import fs from 'node:fs';
import path from 'node:path';
import { QatmgrError, ErrorCodes, describeSysError } from '../errors.js';

export interface OotEntry {
  key: string;
  value: string;
  line: number;
}

export interface OotSection {
  name: string;
  line: number;
  entries: Map<string, OotEntry>;
}

export interface OotFile {
  /** The path as given (reports and errors show it). */
  path: string;
  /** Family prefix of the file name (`4xxx`, `c6xx`, ...), undefined when the name does not follow `<family>_dev<N>.conf`. */
  family: string | undefined;
  /** `<N>` of the file name. */
  device: number | undefined;
  /** A VF config (`4xxxvf_dev0.conf`). */
  isVf: boolean;
  sections: OotSection[];
}

export const SERVICE_TOKENS = ['cy', 'dc', 'sym', 'asym', 'decomp', 'dcc'] as const;

const NAME_RE = /^([0-9a-z]+?)(vf)?_dev([0-9]+)\.conf$/i;
const SECTION_RE = /^\[([^\]]*)\]$/;
const KEY_RE = /^[A-Za-z][A-Za-z0-9_]*$/;
const COUNT_KEYS = /^(Number\w*Instances|NumProcesses|ConfigVersion|NumberAdis|Cy\w*NumConcurrent\w*Requests|Dc\w*NumConcurrent\w*Requests)$/;
const POLLED_RE = /^(Cy|Dc)[0-9]+IsPolled$/;
const AFFINITY_RE = /^(Cy|Dc)[0-9]+CoreAffinity$/;

function fail(file: string, line: number, msg: string): never {
  throw new QatmgrError(ErrorCodes.QATMGR_E_OOT_CONFIG, `${file}:${line}: ${msg}`, { path: file, line });
}

/** 1-based line of a byte offset. */
function lineAt(buf: Buffer, offset: number): number {
  let n = 1;
  for (let i = 0; i < offset && i < buf.length; i++) if (buf[i] === 0x0a) n++;
  return n;
}

function checkValue(file: string, e: OotEntry): void {
  const v = e.value;
  const num = /^[0-9]+$/.test(v);
  if (COUNT_KEYS.test(e.key) && !num) fail(file, e.line, `${e.key} = ${v}: not a whole number`);
  if (e.key === 'LimitDevAccess' && v !== '0' && v !== '1') fail(file, e.line, `LimitDevAccess = ${v}: must be 0 or 1`);
  if (POLLED_RE.test(e.key) && !['0', '1', '2'].includes(v)) fail(file, e.line, `${e.key} = ${v}: must be 0 (interrupt), 1 (polled) or 2 (epoll)`);
  if (AFFINITY_RE.test(e.key) && !/^[0-9]+(-[0-9]+)?([ ,]+[0-9]+(-[0-9]+)?)*$/.test(v)) fail(file, e.line, `${e.key} = ${v}: not a core number or list (e.g. 0 or 0,2-3)`);
  if (e.key === 'ServicesEnabled') {
    const toks = v.split(';').map((t) => t.trim().toLowerCase());
    const bad = toks.find((t) => !(SERVICE_TOKENS as readonly string[]).includes(t));
    if (bad !== undefined) fail(file, e.line, `ServicesEnabled = ${v}: unknown service "${bad}" (one of ${SERVICE_TOKENS.join(', ')})`);
  }
}

/** Parse the text of one OOT config; `file` names it in errors. */
export function parseOotText(buf: Buffer, file: string): OotFile {
  const nul = buf.indexOf(0);
  if (nul >= 0) fail(file, lineAt(buf, nul), 'binary data (NUL byte): not an OOT config file');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    const lossy = buf.toString('utf8');
    const at = lossy.indexOf('\uFFFD');
    fail(file, lossy.slice(0, Math.max(0, at)).split('\n').length, 'binary data (invalid UTF-8): not an OOT config file');
  }
  const sections: OotSection[] = [];
  let cur: OotSection | undefined;
  text.replace(/\r\n/g, '\n').split('\n').forEach((raw, i) => {
    const line = i + 1;
    const t = raw.trim();
    if (!t || t.startsWith('#')) return;
    const sm = SECTION_RE.exec(t);
    if (sm) {
      const name = sm[1].trim();
      if (!/^[A-Za-z0-9_]+$/.test(name)) fail(file, line, `section name "[${sm[1]}]" must be letters, digits or _`);
      const prev = sections.find((s) => s.name === name);
      if (prev) fail(file, line, `duplicate section [${name}] (first at line ${prev.line})`);
      cur = { name, line, entries: new Map() };
      sections.push(cur);
      return;
    }
    const eq = t.indexOf('=');
    if (eq < 0) fail(file, line, `expected "Key = value" or "[Section]", found "${t.slice(0, 60)}"`);
    const key = t.slice(0, eq).trim();
    let value = t.slice(eq + 1).trim();
    if (!KEY_RE.test(key)) fail(file, line, `"${key}" is not a key name`);
    if (!cur) fail(file, line, `${key} is outside any section (the file must start with a [GENERAL] section)`);
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    const prev = cur.entries.get(key);
    if (prev) fail(file, line, `duplicate key ${key} in [${cur.name}] (first at line ${prev.line})`);
    const entry = { key, value, line };
    checkValue(file, entry);
    cur.entries.set(key, entry);
  });
  if (sections.length === 0) fail(file, 1, 'no sections ([GENERAL], [KERNEL], [SSL] ...): not an OOT config file');
  if (!sections.some((s) => s.name === 'GENERAL')) fail(file, sections[0].line, 'no [GENERAL] section (it holds ServicesEnabled)');
  const m = NAME_RE.exec(path.basename(file));
  return { path: file, family: m?.[1].toLowerCase(), device: m ? Number(m[3]) : undefined, isVf: m?.[2] !== undefined, sections };
}

/** Read and parse one file; unreadable files are an error naming the file. */
export function readOotFile(file: string, display: string = file): OotFile {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new QatmgrError(ErrorCodes.QATMGR_E_OOT_CONFIG, `${display}: cannot read: ${describeSysError(e)}`, { path: display });
  }
  return parseOotText(buf, display);
}
