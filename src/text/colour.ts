// Terminal colours for human output: SGR codes, on a terminal only, never with NO_COLOR or TERM=dumb.

export type Colour = 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'cyan';
const SGR: Record<Colour, string> = { bold: '1', dim: '2', red: '31', green: '32', yellow: '33', cyan: '36' };

export type Paint = (text: string, c: Colour | undefined) => string;

/** Where output goes: whether it is a terminal, and the environment that may switch colour off. */
export interface OutputTarget {
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
}

/** Colour only on a terminal, and never when NO_COLOR is set. */
export function painter(out: OutputTarget): Paint {
  const on = out.isTTY && !out.env.NO_COLOR && out.env.TERM !== 'dumb';
  return (text, c) => (on && c ? `\x1b[${SGR[c]}m${text}\x1b[0m` : text);
}

/** No colour (files, pipes, JSON callers). */
export const plain: Paint = (text) => text;
