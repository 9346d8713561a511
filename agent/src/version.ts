// The agent's version, the one string its heartbeat reports: read from package.json at build time.
// Imported, not read from disk: the bundle (dist/agent/main.js) inlines it and ships no package.json.
import pkg from '../package.json' with { type: 'json' };

export const AGENT_VERSION: string = pkg.version;
