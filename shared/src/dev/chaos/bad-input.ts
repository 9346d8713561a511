// Bad input: fuzzed API requests from the OpenAPI document and fuzzed webhook deliveries, over keep-alive connections.
import { Agent, request } from 'node:http';
import { scaled, Tally } from './checks.js';
import { apiRequest, type FuzzRequest, ISSUE_BASE, sign, webhookDelivery } from './fuzz.js';
import { mapLimit, startChaosStack, TERMINAL } from './harness.js';
import type { Scenario } from './scenario.js';

const LANES = 4;
/** An answer later than this is a hang (every route answers in milliseconds, or 503s after its 10 s deadline). */
const ANSWER_TIMEOUT_MS = 20_000;
const HOOK = { repo: 'chaos/hooks', label: 'nightshift' };

interface Sent {
  status: number;
  ms: number;
  contentType: string;
  connection: string;
  text: string;
  /** Set when no answer came. */
  error?: string;
  /** Whether the request went over a connection an earlier request had used. */
  reused: boolean;
}

/** One request over `agent` (keep-alive, one socket per lane), never throwing. */
function send(agent: Agent, base: URL, req: FuzzRequest): Promise<Sent> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    let done = false;
    const finish = (sent: Omit<Sent, 'ms'>) => {
      if (done) return;
      done = true;
      resolve({ ...sent, ms: performance.now() - t0 });
    };
    let reused = false;
    try {
      const r = request(
        {
          host: base.hostname,
          port: base.port,
          method: req.method,
          path: req.path,
          headers: { ...req.headers, ...(req.body ? { 'content-length': String(req.body.length) } : {}) },
          agent,
          timeout: ANSWER_TIMEOUT_MS,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            if (size < 4096) chunks.push(c);
            size += c.length;
          });
          res.on('end', () =>
            finish({
              status: res.statusCode ?? 0,
              contentType: String(res.headers['content-type'] ?? ''),
              connection: String(res.headers.connection ?? ''),
              text: Buffer.concat(chunks).toString('utf8').slice(0, 4096),
              reused,
            }),
          );
          res.on('error', (e) =>
            finish({ status: 0, contentType: '', connection: '', text: '', error: e.message, reused }),
          );
        },
      );
      r.on('socket', () => {
        reused = r.reusedSocket;
      });
      r.on('timeout', () => r.destroy(new Error(`no answer within ${ANSWER_TIMEOUT_MS} ms`)));
      r.on('error', (e: NodeJS.ErrnoException) =>
        finish({
          status: 0,
          contentType: '',
          connection: '',
          text: '',
          error: `${e.code ?? ''} ${e.message}`,
          reused,
        }),
      );
      r.end(req.body);
    } catch (error) {
      // The client refused to send it (a header Node will not write): not the server's doing.
      finish({
        status: -1,
        contentType: '',
        connection: '',
        text: '',
        error: (error as Error).message,
        reused,
      });
    }
  });
}

const describe = (i: number, req: FuzzRequest) =>
  `#${i} ${req.kind} ${req.method} ${req.path.length > 120 ? `${req.path.slice(0, 120)}…(${req.path.length})` : req.path}` +
  (req.body ? ` body ${req.body.length} B` : '');

export const badInput: Scenario = {
  name: 'bad-input',
  summary:
    '3,000 fuzzed API requests from /openapi.json and 500 fuzzed webhook deliveries, over keep-alive connections',
  async run({ scale, seed, log }) {
    const tally = new Tally();
    const apiCount = scaled(3_000, scale, 50);
    const hookCount = scaled(500, scale, 20);
    const chaos = await startChaosStack({ name: 'bad-input', agents: 1, capacity: 4, log });
    try {
      const base = new URL(chaos.stack.url);
      const runWorkers = await chaos.createWorkers('fuzz-run', 4);
      const [patchWorker] = await chaos.createWorkers('fuzz-patch', 1);
      await chaos.ok('POST', '/v1/workers', { id: 'hook-w', repo: { url: chaos.origin }, github: HOOK });
      const first = await chaos.ok<{ id: string }>('POST', '/v1/runs', { workerId: runWorkers[0] });
      const doc = await chaos.ok<Parameters<typeof apiRequest>[0]>('GET', '/openapi.json');
      const known = {
        token: chaos.stack.token,
        runWorkers,
        patchWorker: patchWorker as string,
        runId: first.id,
        repoUrl: chaos.origin,
      };

      const lanes = Array.from({ length: LANES }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
      const counts = new Map<string, number>();
      const notProblem = new Map<string, number>();
      let closedAfter = 0;
      let refused = 0;
      const judge = (
        label: string,
        i: number,
        req: FuzzRequest,
        sent: Sent,
        previous: string | undefined,
      ) => {
        if (sent.status === -1) {
          refused++;
          return;
        }
        const code = sent.status || 'no answer';
        counts.set(String(code), (counts.get(String(code)) ?? 0) + 1);
        if (sent.connection === 'close') closedAfter++;
        if (
          sent.status >= 400 &&
          sent.status < 500 &&
          !sent.contentType.startsWith('application/problem+json')
        ) {
          const k = `${sent.status} ${req.kind}`;
          notProblem.set(k, (notProblem.get(k) ?? 0) + 1);
        }
        tally.check(
          sent.status > 0 && sent.status < 500,
          () =>
            `${label} ${describe(i, req)}: ${sent.status || sent.error} after ${sent.ms.toFixed(0)} ms` +
            (sent.reused && sent.status === 0 ? ` on a reused connection, after ${previous}` : '') +
            (sent.status >= 500 ? ` ${sent.text.slice(0, 300)}` : ''),
        );
      };

      const t0 = performance.now();
      await Promise.all(
        lanes.map(async (agent, lane) => {
          let previous: string | undefined;
          for (let i = lane; i < apiCount; i += LANES) {
            const req = apiRequest(doc, known, seed, i);
            const sent = await send(agent, base, req);
            judge('api', i, req, sent, previous);
            previous = `${describe(i, req)} answered ${sent.status} (Connection: ${sent.connection || 'unset'})`;
          }
        }),
      );
      tally.figures['api requests'] = `${apiCount} in ${((performance.now() - t0) / 1000).toFixed(0)} s: ${[
        ...counts,
      ]
        .sort()
        .map(([c, n]) => `${n}× ${c}`)
        .join(', ')}`;
      tally.figures['api answers with Connection: close'] = closedAfter;
      if (refused > 0) tally.figures['requests Node itself would not send'] = refused;
      tally.figures['4xx without problem+json'] =
        [...notProblem].map(([k, n]) => `${n}× ${k}`).join(', ') || 'none';

      // Webhook deliveries, over the same kind of connections.
      counts.clear();
      const t1 = performance.now();
      const target = { secret: chaos.stack.env.GITHUB_WEBHOOK_SECRET as string, ...HOOK };
      const deliveries = Array.from({ length: hookCount }, (_, i) => webhookDelivery(target, seed, i));
      await Promise.all(
        lanes.map(async (agent, lane) => {
          let previous: string | undefined;
          for (let i = lane; i < hookCount; i += LANES) {
            const d = deliveries[i] as (typeof deliveries)[number];
            const req: FuzzRequest = {
              kind: d.kind,
              method: 'POST',
              path: '/github/webhook',
              headers: d.headers,
              body: d.body,
            };
            const sent = await send(agent, base, req);
            judge('webhook', i, req, sent, previous);
            previous = `${describe(i, req)} answered ${sent.status}`;
          }
        }),
      );
      // Two deliveries over GitHub's 25 MB cap, correctly signed: refused, never read whole. The 413 comes
      // before the body; a client still uploading may instead see the server stop reading (a reset).
      let resetUploads = 0;
      for (let i = 0; i < 2; i++) {
        const huge = webhookDelivery(target, seed, 0);
        const body = Buffer.alloc(26 * 1024 * 1024, 0x20);
        const headers = {
          ...huge.headers,
          'x-github-delivery': `huge-${seed}-${i}`,
          'x-hub-signature-256': sign(target.secret, body),
        };
        const sent = await send(new Agent({ keepAlive: false }), base, {
          kind: 'oversized',
          method: 'POST',
          path: '/github/webhook',
          headers,
          body,
        });
        const reset = sent.status === 0 && /EPIPE|ECONNRESET/.test(sent.error ?? '');
        if (reset) resetUploads++;
        tally.check(sent.status === 413 || reset, `webhook over 25 MB answered ${sent.status || sent.error}`);
      }
      tally.figures['webhook over 25 MB'] =
        `2 refused (${resetUploads} by closing the connection mid-upload, the rest with 413)`;
      tally.figures['webhook deliveries'] =
        `${hookCount} (and the 2 over 25 MB) in ${((performance.now() - t1) / 1000).toFixed(0)} s: ${[
          ...counts,
        ]
          .sort()
          .map(([c, n]) => `${n}× ${c}`)
          .join(', ')}`;
      for (const agent of lanes) agent.destroy();

      // Zero runs from a bad signature; one run per valid labelled issue, however often it was delivered.
      const hookRuns = (await chaos.db.collection('runs').where('workerId', '==', 'hook-w').get()).docs.map(
        (d) => d.data(),
      );
      const issueOf = (run: { trigger?: { issue?: number } }) => run.trigger?.issue ?? -1;
      const fromBad = hookRuns.filter(
        (r) => issueOf(r) >= ISSUE_BASE['bad-signature'] && issueOf(r) < ISSUE_BASE['signed-mangled'],
      );
      tally.check(
        fromBad.length === 0,
        `${fromBad.length} runs from badly signed deliveries: ${fromBad.map((r) => r.id).join(', ')}`,
      );
      const validIssues = new Set(
        deliveries.filter((d) => d.kind === 'valid' || d.kind === 'replay').map((d) => d.issue),
      );
      for (const issue of validIssues) {
        const n = hookRuns.filter((r) => issueOf(r) === issue).length;
        tally.check(n === 1, `issue ${issue}, labelled by valid deliveries, has ${n} runs`);
      }
      tally.figures['runs from webhook deliveries'] =
        `${hookRuns.length} (${validIssues.size} valid labelled issues)`;

      // Every run the fuzz got accepted launches and ends (a worker with a good repository succeeds).
      const fuzzRuns = (await chaos.db.collection('runs').where('workerId', 'in', runWorkers).get()).docs.map(
        (d) => d.id,
      );
      const all = [...fuzzRuns, ...hookRuns.map((r) => r.id as string)];
      const ended = await chaos.waitTerminal(all, Math.max(120_000, all.length * 2_000));
      await mapLimit(all, 4, async (id) => {
        const run = ended.get(id);
        tally.check(
          run !== undefined &&
            TERMINAL.has(run.status) &&
            (run.status === 'succeeded' || run.status === 'cancelled'),
          () => `accepted run ${id} (${run?.workerId}) ended ${run?.status}: ${run?.error ?? ''}`,
        );
      });
      tally.figures['runs accepted from fuzzed requests'] = fuzzRuns.length;

      // Every worker the fuzz got created can run: a run of it launches and succeeds (or is refused at once).
      const created = (await chaos.db.collection('workers').get()).docs
        .map((d) => d.id)
        .filter((id) => id.startsWith('fuzz-new-'));
      const createdRuns: string[] = [];
      for (const workerId of created) {
        const answer = await chaos.api('POST', '/v1/runs', { workerId });
        const id = (answer.body as { id?: string } | null)?.id;
        tally.check(
          answer.status > 0 && answer.status < 500,
          `POST /v1/runs for fuzz-created worker ${workerId}: ${answer.status || answer.error} ${answer.text.slice(0, 200)}`,
        );
        if (answer.status === 202 && id) createdRuns.push(id);
      }
      const createdEnded = await chaos.waitTerminal(
        createdRuns,
        Math.max(60_000, createdRuns.length * 3_000),
      );
      for (const id of createdRuns) {
        const run = createdEnded.get(id);
        tally.check(
          run?.status === 'succeeded',
          () => `run ${id} of fuzz-created worker ${run?.workerId} ended ${run?.status}: ${run?.error ?? ''}`,
        );
      }
      tally.figures['workers created by fuzzed requests (one run each)'] =
        `${created.length} (${createdRuns.length} runs accepted)`;

      // The stack is healthy after: a normal run on a new worker still succeeds.
      const [healthWorker] = await chaos.createWorkers('health', 1);
      const health = await chaos.ok<{ id: string }>('POST', '/v1/runs', { workerId: healthWorker });
      const after = (await chaos.waitTerminal([health.id], 60_000)).get(health.id);
      tally.check(
        after?.status === 'succeeded',
        `a normal run after the fuzz ended ${after?.status}: ${after?.error ?? ''}`,
      );
      return tally;
    } finally {
      await chaos.stop();
    }
  },
};
