import { describe, expect, it } from 'vitest';
import { clean, render } from './render.mjs';

describe('Launch: the pane rendering', () => {
  it('shows assistant text, tool calls and the result', () => {
    expect(
      render(JSON.stringify({ type: 'system', subtype: 'init', session_id: 's1', model: 'sonnet' })),
    ).toBe('── session s1 (sonnet)\n');
    expect(
      render(
        JSON.stringify({
          type: 'assistant',
          message: {
            content: [
              { type: 'text', text: 'Reading the roadmap.' },
              { type: 'tool_use', name: 'Read', input: { file_path: 'docs/roadmap.md' } },
            ],
          },
        }),
      ),
    ).toBe('Reading the roadmap.\n  ▸ Read {"file_path":"docs/roadmap.md"}\n');
    expect(
      render(
        JSON.stringify({
          type: 'result',
          subtype: 'success',
          is_error: false,
          num_turns: 3,
          total_cost_usd: 0.0375,
          result: 'Done.',
        }),
      ),
    ).toBe('── result: success, 3 turns $0.0375\nDone.\n');
  });

  it('keeps terminal control sequences that model output may carry out of the pane', () => {
    const hostile = 'title\u001b]0;pwned\u0007 red\u001b[31m bell\u0007 csi\u009b2J end';
    const shown = render(
      JSON.stringify({ type: 'assistant', message: { content: [{ type: 'text', text: hostile }] } }),
    );
    expect(shown).toBe('title red bell csi2J end\n');
    expect(shown).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
  });

  it('shows a line that is not JSON as it is, cleaned, and keeps newlines and tabs', () => {
    expect(render('plain\u001b[2J text')).toBe('plain text\n');
    expect(clean('a\n\tb\r')).toBe('a\n\tb');
  });
});
