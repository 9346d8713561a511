// The Pub/Sub command envelope: what the functions publish and the agents act on.
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { IsoDateTimeSchema, RunIdSchema } from './ids.js';
import { formatIssues, parseJsonObject } from './validation.js';

export const COMMAND_VERSION = 1;
export const COMMAND_TYPES = ['run.start', 'run.cancel'] as const;

export const CommandSchema = z.object({
  version: z.literal(COMMAND_VERSION),
  type: z.enum(COMMAND_TYPES),
  /** Unique per publish; a redelivery carries the same id. */
  commandId: z.string().min(1).max(128),
  runId: RunIdSchema,
  sentAt: IsoDateTimeSchema,
});
export type Command = z.infer<typeof CommandSchema>;
export type CommandType = Command['type'];

export function makeCommand(type: CommandType, runId: string, now: Date = new Date()): Command {
  return { version: COMMAND_VERSION, type, commandId: randomUUID(), runId, sentAt: now.toISOString() };
}

export function encodeCommand(command: Command): Buffer {
  return Buffer.from(JSON.stringify(CommandSchema.parse(command)));
}

export type ParsedCommand = { ok: true; command: Command } | { ok: false; reason: string };

/**
 * Reads a message body. Never throws: an unreadable, unknown-version or unknown-type command comes back
 * with a reason, so the subscriber can log it and ack it instead of crashing or redelivering forever.
 */
export function parseCommand(data: Buffer | string | Uint8Array): ParsedCommand {
  const json = parseJsonObject(data, 'command');
  if (!json.ok) return json;
  const raw = json.value;
  if (raw.version !== COMMAND_VERSION) {
    return {
      ok: false,
      reason: `unsupported command version ${JSON.stringify(raw.version)} (this reader understands ${COMMAND_VERSION})`,
    };
  }
  if (!(COMMAND_TYPES as readonly unknown[]).includes(raw.type)) {
    return {
      ok: false,
      reason: `unknown command type ${JSON.stringify(raw.type)} (expected one of ${COMMAND_TYPES.join(', ')})`,
    };
  }
  const parsed = CommandSchema.safeParse(raw);
  return parsed.success
    ? { ok: true, command: parsed.data }
    : { ok: false, reason: formatIssues(parsed.error) };
}
