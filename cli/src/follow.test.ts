// The follow's spinner line: one row of the terminal, however long its text.
import { describe, expect, it } from 'vitest';
import { spinnerLine } from './follow.js';
import { visibleLength } from './format.js';

describe('spinnerLine', () => {
  const text = 'Service Unavailable: Firestore did not answer within 10000 ms; trying again';

  it('fits a narrow terminal, one column spare, the cut marked', () => {
    const line = spinnerLine('⠋', text, 40);
    expect(visibleLength(line)).toBe(39);
    expect(line.startsWith('⠋ Service Unavailable')).toBe(true);
    expect(line.endsWith('…')).toBe(true);
  });

  it('keeps colour codes whole and closed when it cuts', () => {
    const line = spinnerLine('⠋', `\u001b[2m${text}\u001b[22m`, 30);
    expect(visibleLength(line)).toBe(29);
    expect(line.endsWith('\u001b[22m')).toBe(true);
  });

  it('leaves a line that fits, and any line when the width is unknown', () => {
    expect(spinnerLine('⠋', 'running 5s', 80)).toBe('⠋ running 5s');
    expect(spinnerLine('⠋', text, undefined)).toBe(`⠋ ${text}`);
    expect(spinnerLine('⠋', text, 0)).toBe(`⠋ ${text}`);
  });
});
