// The runner's surrogate-safe cut agrees with shared's tailOf, which it copies.
import { tailOf } from '@nightshift/shared';
import { describe, expect, it } from 'vitest';
import { tailOfText } from './text.mjs';

describe('Finish: the runner keeps the end of stderr whole', () => {
  it('never starts with the second half of a surrogate pair, like shared tailOf', () => {
    const text = `abc${'🎉'.repeat(10)}def`;
    for (let max = 0; max <= text.length + 1; max++) {
      expect(tailOfText(text, max)).toBe(tailOf(text, max));
      expect(tailOfText(text, max)).not.toMatch(/^[\uDC00-\uDFFF]/);
    }
  });
});
