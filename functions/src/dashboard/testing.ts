// Test fixtures of the dashboard: the hostile Markdown a worker steered by a hostile issue might write.

/** Each attempt in its own block (Markdown reads lines of HTML up to a blank line as one block). */
export const HOSTILE_MARKDOWN = [
  '# Progress',
  '- [x] feed done',
  '- [ ] tests',
  '<script>window.__pwned = "script"</script>',
  '<img src=x onerror="window.__pwned = \'img\'">',
  '<a href="javascript:window.__pwned = \'link\'" id="js-link">click me</a>',
  '[md link](javascript:window.__pwned=1)',
  '[data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
  '<iframe src="https://example.com"></iframe>',
  '<p style="position:fixed;inset:0" onclick="window.__pwned=\'click\'">overlay</p>',
  '<svg onload="window.__pwned=\'svg\'"><circle r="5"/></svg>',
  '<form action="https://evil.example"><input name="token"></form>',
  '![tracker](https://evil.example/pixel.png)',
  '<style>body{display:none}</style>',
  '<details open ontoggle="window.__pwned=\'toggle\'">x</details>',
  '```js\nconst safe = "<b>not bold</b>";\n```',
  '[a real link](https://example.com/docs)',
].join('\n\n');
