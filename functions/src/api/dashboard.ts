// The page at GET /: a placeholder until the dashboard issue; it points at the docs.
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>nightshift</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}code{background:#f3f3f3;padding:0 .2em}</style>
</head>
<body>
<h1>nightshift</h1>
<p>The control API of nightshift answers here. The dashboard is coming; meanwhile:</p>
<ul>
<li><a href="/docs">Interactive API docs</a> (use <em>Authorize</em> with your bearer token)</li>
<li><a href="/openapi.json">OpenAPI document</a></li>
<li><a href="/healthz">Health check</a></li>
</ul>
<p>Every <code>/v1</code> route needs <code>Authorization: Bearer &lt;token&gt;</code>.</p>
</body>
</html>
`;
