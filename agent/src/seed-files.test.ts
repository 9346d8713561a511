// The blocker marker and the open items of a checklist, read from text.
import { describe, expect, it } from 'vitest';
import { blockerLinesOf, blockerOf, openItemsOf } from './seed-files.js';

describe('blockerOf', () => {
  it('takes the last BLOCKED: line of the result first', () => {
    expect(
      blockerOf('Did a part.\nBLOCKED: no key\nBLOCKED: no access to prod', 'BLOCKED: other', null),
    ).toEqual({
      text: 'no access to prod',
      source: 'result',
    });
  });

  it('takes a PROGRESS.md blocker only when it was not there at the start', () => {
    const start = '# Progress\n- BLOCKED: an old one\n';
    expect(blockerOf('Done.', start, start)).toBeNull();
    expect(blockerOf(null, `${start}\nBLOCKED: needs a decision on the schema\n`, start)).toEqual({
      text: 'needs a decision on the schema',
      source: 'progress',
    });
  });

  it('reads the marker only at the start of a line', () => {
    expect(blockerLinesOf('I was not BLOCKED: at all\n  * BLOCKED: yes')).toEqual(['yes']);
    expect(blockerOf('nothing blocks me', null, null)).toBeNull();
  });
});

describe('openItemsOf', () => {
  it('counts unchecked items only', () => {
    expect(openItemsOf('# R\n- [ ] a\n- [x] b\n  - [ ] c\n* [ ] d\nnot - [ ] e\n')).toBe(3);
    expect(openItemsOf('- [x] all done\n')).toBe(0);
  });
});
