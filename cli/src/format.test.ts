// Fitting text to a width: tables that leave out columns and cut free text, cells cut with their colour codes whole, values wrapped at spaces.
import { describe, expect, it } from 'vitest';
import { type Column, fields, hangingWrap, red, table, truncate, visibleLength, wrap } from './format.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: the colour codes
const strip = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, '');
const widest = (text: string) => Math.max(...text.split('\n').map(visibleLength));

const COLUMNS: Column[] = [
  { header: 'ID' },
  { header: 'STATUS' },
  { header: 'NOTE', shrink: true },
  { header: 'EXTRA', drop: 2 },
  { header: 'LEAST', drop: 1 },
];
const ROWS = [
  [
    'r-20261201t092800-running',
    'running',
    'reading the roadmap and choosing a milestone',
    'xxxxxxxx',
    'yyyy',
  ],
  ['r-1', 'failed', 'short', '-', '-'],
];

describe('truncate', () => {
  it('leaves text that fits as it is, and cuts longer text to the width with …', () => {
    expect(truncate('abcdef', 6)).toBe('abcdef');
    expect(truncate('abcdefg', 6)).toBe('abcde…');
    expect(truncate('abcdefg', 1)).toBe('…');
    // No blank before the …: `and…`, one column shorter.
    expect(truncate('read and write', 10)).toBe('read and…');
  });

  it('does not count colour codes, keeps every one whole, and closes a colour it cut into', () => {
    const cell = `ok ${red({ color: true }, 'failed: connection refused')} x`;
    const cut = truncate(cell, 14);
    expect(visibleLength(cut)).toBe(14);
    expect(cut).toBe('ok \u001b[31mfailed: co…\u001b[39m');
    // A code is either all there or not there: no stray escape, no `[3` left of one.
    expect(cut.split('\u001b')).toHaveLength(3);
    expect(strip(cut)).toBe('ok failed: co…');
    // Colour codes alone never make a cell too wide.
    expect(truncate(red({ color: true }, 'abc'), 3)).toBe('\u001b[31mabc\u001b[39m');
  });

  it('never splits a character outside the BMP into half a surrogate pair', () => {
    const cut = truncate('ab😀cd', 4);
    expect(cut).toBe('ab…');
    // No lone surrogate left where the emoji was cut.
    expect(cut).not.toMatch(/[\uD800-\uDFFF]/);
    expect(truncate('ab😀cd', 5)).toBe('ab😀…');
  });
});

describe('table at a width', () => {
  it('shows every column at full width with no width, and at a width wide enough (200)', () => {
    const full = table({ color: false }, COLUMNS, ROWS);
    expect(`\n${full}`).toMatchInlineSnapshot(`
      "
      ID                         STATUS   NOTE                                          EXTRA     LEAST
      r-20261201t092800-running  running  reading the roadmap and choosing a milestone  xxxxxxxx  yyyy
      r-1                        failed   short                                         -         -"
    `);
    expect(table({ color: false }, COLUMNS, ROWS, 200)).toBe(full);
    expect(table({ color: false }, COLUMNS, ROWS, widest(full))).toBe(full);
  });

  it('leaves out the least important column first, and cuts nothing while that is enough (90, 80)', () => {
    expect(`\n${table({ color: false }, COLUMNS, ROWS, 90)}`).toMatchInlineSnapshot(`
      "
      ID                         STATUS   NOTE                                          EXTRA
      r-20261201t092800-running  running  reading the roadmap and choosing a milestone  xxxxxxxx
      r-1                        failed   short                                         -"
    `);
    const fitted = table({ color: false }, COLUMNS, ROWS, 80);
    expect(`\n${fitted}`).toMatchInlineSnapshot(`
      "
      ID                         STATUS   NOTE
      r-20261201t092800-running  running  reading the roadmap and choosing a milestone
      r-1                        failed   short"
    `);
    expect(widest(fitted)).toBeLessThanOrEqual(80);
  });

  it('at 60 leaves out every optional column, then cuts the free text with …', () => {
    const fitted = table({ color: false }, COLUMNS, ROWS, 60);
    expect(`\n${fitted}`).toMatchInlineSnapshot(`
      "
      ID                         STATUS   NOTE
      r-20261201t092800-running  running  reading the roadmap and…
      r-1                        failed   short"
    `);
    expect(widest(fitted)).toBe(60);
  });

  it('at 40 cuts the free text to its least, and never cuts an id, even if the table stays too wide', () => {
    const fitted = table({ color: false }, COLUMNS, ROWS, 40);
    expect(`\n${fitted}`).toMatchInlineSnapshot(`
      "
      ID                         STATUS   NOTE
      r-20261201t092800-running  running  reading t…
      r-1                        failed   short"
    `);
    expect(fitted).toContain('r-20261201t092800-running');
    expect(widest(fitted)).toBe(25 + 2 + 7 + 2 + 10);
  });

  it('with colour: the codes do not count, a cut coloured cell keeps its codes whole, the columns line up', () => {
    const style = { color: true };
    const rows = ROWS.map(([id, status, note, ...rest]) => [
      id ?? '',
      red(style, status ?? ''),
      red(style, note ?? ''),
      ...rest,
    ]);
    for (const width of [40, 60, 80, 200]) {
      const coloured = table(style, COLUMNS, rows, width);
      expect(strip(coloured)).toBe(table({ color: false }, COLUMNS, ROWS, width));
      expect(coloured).toContain('r-20261201t092800-running');
      // Every red that opens closes on the same line.
      for (const line of coloured.split('\n')) {
        expect(line.split('\u001b[31m').length).toBe(line.split('\u001b[39m').length);
      }
    }
    expect(table(style, COLUMNS, rows, 60)).toContain('\u001b[31mreading the roadmap and…\u001b[39m');
  });

  it('keeps a header whole when its column is cut', () => {
    const fitted = table(
      { color: false },
      [{ header: 'ID' }, { header: 'LAST DELIVERY', shrink: true }],
      [['n-1', 'ok 3m00s ago (run.failed, HTTP 200)']],
      10,
    );
    expect(fitted).toBe('ID   LAST DELIVERY\nn-1  ok 3m00s ago…');
  });
});

describe('wrap and fields', () => {
  it('wraps at spaces and never breaks a word longer than the width', () => {
    expect(wrap('the worker exited with code 1: Invalid API key', 16)).toEqual([
      'the worker',
      'exited with code',
      '1: Invalid API',
      'key',
    ]);
    const url = 'https://hooks.example.com/services/T000/B000/XXXXXXXXXXXXXXXX';
    expect(wrap(`sent to ${url} ok`, 20)).toEqual(['sent to', url, 'ok']);
    expect(wrap('one\ntwo three', 40)).toEqual(['one', 'two three']);
  });

  it('indents the lines after the first under the value, and keeps a long first word beside its key', () => {
    expect(hangingWrap('error: ', 'the worker exited with code 1', 20, 7)).toBe(
      'error: the worker\n       exited with\n       code 1',
    );
    const url = 'https://github.com/someone/a-long-repository-name.git';
    expect(hangingWrap('repo: ', url, 30, 6)).toBe(`repo: ${url}`);
    expect(hangingWrap('x: ', 'a b c', undefined, 3)).toBe('x: a b c');
  });

  it('fields: unchanged with no width, wrapped under the values at a width, colour not counted', () => {
    const entries: Array<[string, string]> = [
      ['run', 'r-20261201t092800-running'],
      ['error', red({ color: true }, 'the worker exited with code 1: Invalid API key')],
    ];
    expect(fields({ color: false }, entries)).toBe(
      'run:   r-20261201t092800-running\nerror: \u001b[31mthe worker exited with code 1: Invalid API key\u001b[39m',
    );
    const narrow = fields({ color: false }, entries, 30);
    expect(`\n${strip(narrow)}`).toMatchInlineSnapshot(`
      "
      run:   r-20261201t092800-running
      error: the worker exited with
             code 1: Invalid API key"
    `);
    // The id is longer than the room beside its key: it stays whole, past the width.
    expect(narrow.split('\n')[0]).toBe('run:   r-20261201t092800-running');
    expect(widest(narrow.split('\n').slice(1).join('\n'))).toBeLessThanOrEqual(30);
  });
});
