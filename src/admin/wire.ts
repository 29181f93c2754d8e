// The admin API's wire format: one JSON object per line, {"v":1,"id",..,"op",..,"args"} in, {"v":1,"id",..,"ok",..} out.

/** Version of the admin API's request/response shapes (the "v" field). */
export const ADMIN_API_VERSION = 1;

/** Longest request line accepted (bytes, newline excluded). */
export const MAX_ADMIN_LINE = 64 * 1024;

export type AdminId = string | number | null;

export interface AdminRequest {
  v: number;
  id: AdminId;
  op: string;
  args: Record<string, unknown>;
}

export interface AdminErrorBody {
  code: string;
  message: string;
}

export type AdminResponse =
  | { v: number; id: AdminId; ok: true; result: unknown }
  | { v: number; id: AdminId; ok: false; error: AdminErrorBody };

/** An error answer the admin server sends (the code is one of QATMGR_E_ADMIN_*). */
export class AdminError extends Error {
  /** `id` of the request when it could be read (so the error answer carries it). */
  constructor(readonly code: string, message: string, readonly id: AdminId = null) {
    super(message);
    this.name = 'AdminError';
  }
}

/** Parse and check one request line; throws AdminError with the id it could recover (for the answer). */
export function parseRequest(line: string): AdminRequest {
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch (e) {
    throw new AdminError('QATMGR_E_ADMIN_BAD_REQUEST', `request is not JSON: ${(e as Error).message}`);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new AdminError('QATMGR_E_ADMIN_BAD_REQUEST', 'request must be a JSON object like {"v":1,"id":1,"op":"status"}');
  }
  const o = obj as Record<string, unknown>;
  const id = o.id === undefined ? null : o.id;
  if (id !== null && typeof id !== 'string' && typeof id !== 'number') {
    throw new AdminError('QATMGR_E_ADMIN_BAD_REQUEST', '"id" must be a string, a number or null');
  }
  if (o.v !== ADMIN_API_VERSION) {
    throw new AdminError('QATMGR_E_ADMIN_VERSION', `unsupported API version ${JSON.stringify(o.v)}; this daemon speaks "v":${ADMIN_API_VERSION}`, id);
  }
  if (typeof o.op !== 'string' || o.op === '') {
    throw new AdminError('QATMGR_E_ADMIN_BAD_REQUEST', '"op" must be a non-empty string', id);
  }
  const args = o.args === undefined ? {} : o.args;
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    throw new AdminError('QATMGR_E_ADMIN_BAD_REQUEST', '"args" must be a JSON object', id);
  }
  return { v: ADMIN_API_VERSION, id, op: o.op, args: args as Record<string, unknown> };
}

export function okLine(id: AdminId, result: unknown): string {
  return `${JSON.stringify({ v: ADMIN_API_VERSION, id, ok: true, result })}\n`;
}

export function errorLine(id: AdminId, code: string, message: string): string {
  return `${JSON.stringify({ v: ADMIN_API_VERSION, id, ok: false, error: { code, message } })}\n`;
}
