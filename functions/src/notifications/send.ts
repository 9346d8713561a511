// One notification POST: to a checked address only (resolved at send time), never following a redirect, with a timeout and bounded retries.
import { createHmac, randomUUID } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { NOTIFY_BACKOFF_MS, NOTIFY_MAX_ANSWER_BYTES, NOTIFY_REQUEST_TIMEOUT_MS } from '../timings.js';
import { addressRefusal, type UrlPolicy, urlRefusal } from './url-safety.js';

export const SIGNATURE_HEADER = 'X-Nightshift-Signature-256';
export const TIMESTAMP_HEADER = 'X-Nightshift-Timestamp';
export const EVENT_HEADER = 'X-Nightshift-Event';
export const DELIVERY_HEADER = 'X-Nightshift-Delivery';

/** How the functions send notifications; collaborators default to the real ones. */
export interface NotifyOptions {
  policy: UrlPolicy;
  /** The dashboard's address, for `<publicUrl>/runs/<id>`; null: messages carry no link. */
  publicUrl: string | null;
  timeoutMs?: number;
  /** Pauses between attempts; its length + 1 is the number of attempts. */
  backoffMs?: readonly number[];
  /** Resolves host names (default: the system's, as dns.lookup); tests point a name at an address. */
  lookup?: (host: string) => Promise<LookupAddress[]>;
  /** The clock of the timestamp header (default: deps-independent wall clock). */
  now?: () => Date;
}

/** The signature of a body: `sha256=` and the hex HMAC-SHA256 of `<timestamp>.<raw body>` under the sink's secret. */
export function signature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export interface Attempt {
  ok: boolean;
  httpStatus: number | null;
  error: string | null;
  /** Worth another attempt: no answer, a timeout, 408, 429 or 5xx. */
  retryable: boolean;
}

export interface SendResult extends Attempt {
  attempts: number;
}

class RefusedAddress extends Error {}

function systemLookup(host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) =>
    dnsLookup(host, { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))),
  );
}

/**
 * A lookup for the request that refuses the whole host when any address it resolves to is refused: the
 * address checked is the address connected to, so a name that resolves to a public address when the sink is
 * created and to a private one now (DNS rebinding) is refused now.
 */
function checkedLookup(
  policy: UrlPolicy,
  resolve: (host: string) => Promise<LookupAddress[]>,
): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (addresses) => {
        for (const { address } of addresses) {
          const refusal = addressRefusal(address, policy);
          if (refusal) {
            callback(new RefusedAddress(`${hostname} resolves to ${refusal}`), '', 0);
            return;
          }
        }
        const wanted = addresses.filter((a) => !options.family || a.family === options.family);
        if (wanted.length === 0) {
          callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
        } else if (options.all) {
          (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, wanted);
        } else {
          callback(null, wanted[0]?.address as string, wanted[0]?.family as number);
        }
      },
      (error: Error) => callback(error as NodeJS.ErrnoException, '', 0),
    );
  };
}

/** One POST; never throws. */
export function postOnce(
  url: string,
  body: string,
  headers: Record<string, string>,
  options: NotifyOptions,
): Promise<Attempt> {
  const refusal = urlRefusal(url, options.policy);
  if (refusal)
    return Promise.resolve({ ok: false, httpStatus: null, error: `refused: ${refusal}`, retryable: false });
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  const timeoutMs = options.timeoutMs ?? NOTIFY_REQUEST_TIMEOUT_MS;
  return new Promise<Attempt>((resolve) => {
    let settled = false;
    const done = (attempt: Attempt) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(attempt);
    };
    // node:http follows no redirect by itself: a 3xx is answered below as a failure.
    const req = client.request(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) },
        lookup: checkedLookup(options.policy, options.lookup ?? systemLookup),
        agent: false,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < NOTIFY_MAX_ANSWER_BYTES) chunks.push(chunk);
          size += chunk.length;
        });
        res.on('error', () => undefined);
        res.on('end', () => {
          const answer = Buffer.concat(chunks).toString('utf8').slice(0, 300).trim();
          if (status >= 200 && status < 300) {
            done({ ok: true, httpStatus: status, error: null, retryable: false });
          } else if (status >= 300 && status < 400) {
            const location = res.headers.location ?? '(no Location)';
            done({
              ok: false,
              httpStatus: status,
              error: `the receiver answered ${status}, a redirect to ${location}: redirects are not followed`,
              retryable: false,
            });
          } else {
            done({
              ok: false,
              httpStatus: status,
              error: `the receiver answered ${status}${answer ? `: ${answer}` : ''}`,
              retryable: status === 408 || status === 429 || status >= 500,
            });
          }
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      done({ ok: false, httpStatus: null, error: `no answer within ${timeoutMs} ms`, retryable: true });
    }, timeoutMs);
    req.on('error', (error) => {
      const refused = error instanceof RefusedAddress;
      done({
        ok: false,
        httpStatus: null,
        error: refused ? `refused: ${error.message}` : `could not send: ${error.message}`,
        retryable: !refused,
      });
    });
    req.end(body);
  });
}

export interface Outgoing {
  url: string;
  body: string;
  event: string;
  /** Signs the body (the `json` format): the sink's secret. */
  secret: string | null;
}

/** Sends with retries (same delivery id and a fresh timestamp each attempt); never throws. */
export async function send(outgoing: Outgoing, options: NotifyOptions): Promise<SendResult> {
  const backoff = options.backoffMs ?? NOTIFY_BACKOFF_MS;
  const deliveryId = randomUUID();
  let attempt: Attempt = { ok: false, httpStatus: null, error: 'not sent', retryable: false };
  for (let n = 1; ; n++) {
    const timestamp = String(Math.floor((options.now ?? (() => new Date()))().getTime() / 1000));
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'User-Agent': 'nightshift-notifications',
      [EVENT_HEADER]: outgoing.event,
      [DELIVERY_HEADER]: deliveryId,
      [TIMESTAMP_HEADER]: timestamp,
    };
    if (outgoing.secret) headers[SIGNATURE_HEADER] = signature(outgoing.secret, timestamp, outgoing.body);
    attempt = await postOnce(outgoing.url, outgoing.body, headers, options);
    if (attempt.ok || !attempt.retryable || n > backoff.length) return { ...attempt, attempts: n };
    await new Promise((r) => setTimeout(r, backoff[n - 1]));
  }
}
