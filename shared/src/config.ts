// Environment variables of DESIGN.md as zod schemas, and the parser every deployable's config.ts calls once.
import { hostname } from 'node:os';
import * as z from 'zod';
import { AgentIdSchema } from './ids.js';
import { LOG_FORMATS } from './log.js';
import { TMUX_SOCKET } from './names.js';
import { type VmRef, VmRefSchema } from './vm.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

const hostPort = z
  .string()
  .regex(/^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/, { message: 'expected host:port' });

/** A comma-separated list, items trimmed, empty ones dropped. */
const csv = z.string().transform((s) =>
  s
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0),
);

const csvTokens = csv.pipe(
  z
    .array(z.string().min(16, { message: 'expected each token to be at least 16 characters' }))
    .min(1, { message: 'expected at least one token' }),
);

const intInRange = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { message: `expected a whole number from ${min} to ${max}` })
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/** `zone/name` as a VmRef, or null when it is not one. */
function parseVmRef(item: string): VmRef | null {
  const [zone = '', name = '', ...rest] = item.trim().split('/');
  const parsed = VmRefSchema.safeParse({ zone, name });
  return parsed.success && rest.length === 0 ? parsed.data : null;
}

/** `zone/name,zone/name`: the worker VMs the functions may start. */
const vmList = csv.transform((items, ctx): VmRef[] => {
  const vms: VmRef[] = [];
  for (const item of items) {
    const vm = parseVmRef(item);
    if (vm === null) {
      ctx.addIssue({
        code: 'custom',
        message: `expected zone/name items such as "us-central1-a/nightshift-worker-1", got "${item}"`,
      });
      return z.NEVER;
    }
    vms.push(vm);
  }
  return vms;
});

/** One `zone/name` worker VM. */
const vmRef = z.string().transform((item, ctx): VmRef => {
  const vm = parseVmRef(item);
  if (vm === null) {
    ctx.addIssue({
      code: 'custom',
      message: `expected zone/name such as "us-central1-a/nightshift-worker-1", got "${item}"`,
    });
    return z.NEVER;
  }
  return vm;
});

/** Each variable's schema, by its DESIGN.md name. Deployables pick the ones they read. */
export const ENV = {
  GOOGLE_CLOUD_PROJECT: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, {
    message: 'expected a Google Cloud project id (6-30 lowercase letters, digits, dashes)',
  }),
  PUBSUB_EMULATOR_HOST: hostPort.optional(),
  FIRESTORE_EMULATOR_HOST: hostPort.optional(),
  NIGHTSHIFT_API_TOKENS: csvTokens,
  GITHUB_WEBHOOK_SECRET: z.string().min(16, { message: 'expected a secret of at least 16 characters' }),
  GITHUB_TOKEN: z.string().min(1).optional(),
  /** GitHub's REST API root: GitHub Enterprise (`https://HOST/api/v3`), or a local stand-in; default api.github.com. */
  GITHUB_API_URL: z
    .url({ protocol: /^https?$/, message: 'expected an http(s) URL such as https://api.github.com' })
    .optional(),
  NIGHTSHIFT_WORKER_COMMAND: z.string().min(1).default('claude'),
  NIGHTSHIFT_HOME: z.string().startsWith('/', { message: 'expected an absolute path' }),
  /**
   * The workers' tmux server: a socket name (`tmux -L`, the local stack) or an absolute path (`tmux -S`,
   * the VM, where the worker user owns the server: agent/PROTOCOL.md, Worker isolation).
   */
  NIGHTSHIFT_TMUX_SOCKET: z
    .string()
    .regex(/^(\/[^\0\n]+|[A-Za-z0-9._-]+)$/, { message: 'expected a socket name or an absolute path' })
    .default(TMUX_SOCKET),
  NIGHTSHIFT_MAX_WORKERS: intInRange(1, 64).default(2),
  NIGHTSHIFT_AGENT_ID: AgentIdSchema.default(() => hostname().replace(/[^A-Za-z0-9._-]/g, '-')),
  PORT: intInRange(1, 65535).default(8080),
  /** How a deployable writes its log: `json` (Cloud Logging's lines, the default) or `pretty` (`npm start`). */
  NIGHTSHIFT_LOG_FORMAT: z
    .enum(LOG_FORMATS, { message: 'expected json (Cloud Logging, the default) or pretty (a console)' })
    .default('json'),
  /** The worker VMs the functions start when runs wait (terraform sets it); none: nothing is started. */
  NIGHTSHIFT_VMS: vmList.default([]),
  /** Runs one worker VM takes at once (its agent's NIGHTSHIFT_MAX_WORKERS), for how many VMs to start. */
  NIGHTSHIFT_WORKERS_PER_VM: intInRange(1, 64).default(2),
  /** The Compute API root; unset: Google's. The local stack and tests point it at a stand-in. */
  COMPUTE_API_URL: z
    .url({ protocol: /^https?$/, message: 'expected an http(s) URL such as http://127.0.0.1:8090' })
    .optional(),
  /**
   * Minutes an agent with nothing to do waits before it stops its own VM; 0 turns the idle stop off. A
   * fraction is allowed (tests and the local stack's loop check use a few seconds, e.g. 0.05 = 3 s).
   */
  NIGHTSHIFT_IDLE_MINUTES: z
    .string()
    .regex(/^\d+(\.\d+)?$/, { message: 'expected minutes as a number from 0 (off) to 1440, such as 15' })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(0)
        .max(24 * 60, { message: 'expected at most 1440 minutes (a day)' }),
    )
    .default(15),
  /** The agent's own VM as `zone/name` (the local stack); unset: asked from the metadata server on the VM. */
  NIGHTSHIFT_VM: vmRef.optional(),
  /** Google's own name for the metadata server's host[:port]; unset: metadata.google.internal. */
  GCE_METADATA_HOST: z
    .string()
    .regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$/, {
      message: 'expected host or host:port',
    })
    .optional(),
  /** Overrides the hourly price of the VMs' machine type for the cost estimate (USD). */
  NIGHTSHIFT_VM_HOURLY_USD: z
    .string()
    .regex(/^\d+(\.\d+)?$/, { message: 'expected a price in USD such as 0.0335' })
    .transform(Number)
    .optional(),
} as const;

type EnvShape = Partial<Record<keyof typeof ENV, z.ZodType>>;

/**
 * Parses the given variables once. Every bad or missing one becomes one line that names it and says
 * what was expected; all of them are reported together in a ConfigError. Empty strings count as unset.
 */
export function parseEnv<S extends EnvShape>(
  shape: S,
  env: Record<string, string | undefined>,
): z.infer<z.ZodObject<{ [K in keyof S]: S[K] & z.ZodType }>> {
  const input: Record<string, string | undefined> = {};
  for (const name of Object.keys(shape)) {
    const value = env[name];
    input[name] = value === undefined || value === '' ? undefined : value;
  }
  const result = z.object(shape as z.ZodRawShape).safeParse(input);
  if (result.success) return result.data as never;
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0]);
    const value = input[name];
    const secret = /TOKEN|SECRET/.test(name);
    const got =
      value === undefined ? 'it is not set' : secret ? 'got a value that does not fit' : `got "${value}"`;
    const expected =
      value === undefined && issue.code === 'invalid_type' ? 'expected it to be set' : issue.message;
    return `${name}: ${expected}; ${got}`;
  });
  throw new ConfigError(problems);
}
