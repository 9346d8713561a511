import { describe, expect, it } from 'vitest';
import { headOf, tailOf, wellFormed } from './text.js';

const LONE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe('cutting text', () => {
  const party = '🎉'.repeat(10); // 20 UTF-16 units

  it('keeps the head without ending in half an emoji', () => {
    expect(headOf(party, 5)).toBe('🎉🎉');
    expect(headOf(party, 6)).toBe('🎉🎉🎉');
    expect(headOf('abc', 5)).toBe('abc');
  });

  it('keeps the tail without starting with half an emoji', () => {
    expect(tailOf(party, 5)).toBe('🎉🎉');
    expect(tailOf(party, 6)).toBe('🎉🎉🎉');
    expect(tailOf(`x${party}`, 20)).toBe(party);
  });

  it('never leaves a lone surrogate, at any cut', () => {
    const text = `a🎉b${'🚀'.repeat(7)}c✅d`;
    for (let max = 0; max <= text.length; max++) {
      expect(headOf(text, max)).not.toMatch(LONE);
      expect(tailOf(text, max)).not.toMatch(LONE);
      expect(headOf(text, max).length).toBeLessThanOrEqual(max);
      expect(tailOf(text, max).length).toBeLessThanOrEqual(max);
    }
  });

  it('replaces lone surrogates and keeps whole pairs', () => {
    expect(wellFormed('a\uD83Db 🎉 \uDE00c')).toBe('a\uFFFDb 🎉 \uFFFDc');
  });
});
