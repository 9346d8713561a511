// The readable rendering of a worker's stream-json lines in its tmux pane (the raw stream goes to the log).
// Plain JavaScript: the runner imports it with bare `node` on the VM.

/**
 * Removes terminal control sequences and control characters but newlines and tabs. What the model prints
 * can be steered by issue text, and the owner's terminal must not obey it when they attach.
 */
export function clean(text) {
  // Matching control characters is the point here (biome.json turns noControlCharactersInRegex off for this file).
  return String(text)
    .replace(/\u001b\[[0-?]*[ -/]*[@-~]/g, '')
    .replace(/\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?/g, '')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '');
}

/** One line of the worker's stdout as the pane shows it: text, tool calls and the result; other lines as they are. */
export function render(line) {
  let m;
  try {
    m = JSON.parse(line);
  } catch {
    return `${clean(line)}\n`;
  }
  if (m === null || typeof m !== 'object') return '';
  if (m.type === 'system' && m.subtype === 'init')
    return `${clean(`── session ${m.session_id ?? '?'} (${m.model ?? ''})`)}\n`;
  if (m.type === 'assistant') {
    const parts = Array.isArray(m.message?.content) ? m.message.content : [];
    return parts
      .map((p) => {
        if (p?.type === 'text') return `${clean(p.text)}\n`;
        if (p?.type === 'tool_use')
          return `  ▸ ${clean(`${p.name} ${JSON.stringify(p.input ?? {}).slice(0, 160)}`)}\n`;
        return '';
      })
      .join('');
  }
  if (m.type === 'result') {
    const cost = typeof m.total_cost_usd === 'number' ? ` $${m.total_cost_usd.toFixed(4)}` : '';
    return `${clean(
      `── result: ${m.subtype}${m.is_error ? ' (error)' : ''}, ${m.num_turns ?? '?'} turns${cost}\n${m.result ?? ''}`,
    )}\n`;
  }
  return '';
}
