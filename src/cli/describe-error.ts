/** Errors as the command line prints them: one sentence, no class name, the stack only on request. */

/** Errors whose class says "a bug", not "bad input": their message alone rarely helps a user. */
const INTERNAL = new Set(['TypeError', 'ReferenceError', 'SyntaxError', 'EvalError']);

/**
 * The message without a class-name prefix (node and some libraries repeat one inside the message),
 * ending in a full stop. SPRINTNET_DEBUG=1 in `env` adds the stack.
 */
export function describeError(err: unknown, env: NodeJS.ProcessEnv = process.env): string {
  if (!(err instanceof Error)) return sentence(String(err));
  let text = sentence(err.message.replace(/^([A-Z]\w*)?(Error|Exception): /, '') || 'failed without a message');
  if (INTERNAL.has(err.name) && !('code' in err)) text += ' This is a bug in sprintnet; run again with SPRINTNET_DEBUG=1 to see where it happened.';
  if (env.SPRINTNET_DEBUG) text += `\n${err.stack ?? ''}`;
  return text;
}

function sentence(text: string): string {
  const t = text.trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}
