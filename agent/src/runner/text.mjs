// The runner's own copy of shared/src/text.ts's tailOf (the runner is plain JS run by bare `node`, and
// cannot import TypeScript): text.test.ts checks that the two agree.

/** At most the last `max` UTF-16 units, never starting with the second half of a surrogate pair. */
export function tailOfText(text, max) {
  if (text.length <= max) return text;
  const start = text.length - max;
  return text.slice(/[\uDC00-\uDFFF]/.test(text.charAt(start)) ? start + 1 : start);
}
