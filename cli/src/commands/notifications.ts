// `nightshift notifications …`: sinks (add, ls, show, edit, enable, disable, rm) and the daily digest (show, set, off).
import type { NotificationEvent as SharedNotificationEvent } from '@nightshift/shared';
import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  type Client,
  type DigestSettings,
  type DigestSettingsSpec,
  type NotificationEvent,
  type NotificationFormat,
  type NotificationSinkPatch,
  type NotificationSinkSpec,
  unwrap,
} from '../api.js';
import { Ctx, type Io } from '../context.js';
import { CliError, EXIT, usageError } from '../errors.js';
import { dim } from '../format.js';
import { digestView, sinksTable, sinkView } from '../views.js';

/** Every event a sink may want; the type checks fail when the API or the contracts gain one this lacks. */
export const EVENTS = [
  'run.succeeded',
  'run.failed',
  'run.waiting',
  'run.blocked',
  'run.stalled',
  'run.cancelled',
  'run.timed_out',
  'run.lost',
  'digest',
] as const satisfies readonly (NotificationEvent & SharedNotificationEvent)[];
type Missing = Exclude<NotificationEvent | SharedNotificationEvent, (typeof EVENTS)[number]>;
const everyEvent: Missing extends never ? true : false = true;
void everyEvent;

const FORMATS = ['json', 'slack', 'discord'] as const satisfies readonly NotificationFormat[];
const everyFormat: Exclude<NotificationFormat, (typeof FORMATS)[number]> extends never ? true : false = true;
void everyFormat;

/** --event's values: repeatable, each may be a comma list; each one checked here so a typo is a usage error. */
export function eventList(value: string, previous: NotificationEvent[] | undefined): NotificationEvent[] {
  const out = [...(previous ?? [])];
  for (const word of value.split(',').map((w) => w.trim())) {
    if (!(EVENTS as readonly string[]).includes(word)) {
      throw new InvalidArgumentError(`expected one of ${EVENTS.join(', ')}`);
    }
    if (!out.includes(word as NotificationEvent)) out.push(word as NotificationEvent);
  }
  return out;
}

/** `HH:MM` on a 24-hour clock, as the API reads the digest's time. */
export function clockTime(value: string): string {
  if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(value)) {
    throw new InvalidArgumentError('expected a time of day as HH:MM (00:00 to 23:59)');
  }
  return value;
}

/** An IANA time zone, checked the way the API checks it (Intl knows it). */
export function timeZone(value: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return value;
  } catch {
    throw new InvalidArgumentError('expected an IANA time zone such as UTC or Europe/Berlin');
  }
}

interface SinkFlags {
  url?: string;
  event?: NotificationEvent[];
  worker?: string;
  allWorkers?: boolean;
  format?: NotificationFormat;
  description?: string;
  disabled?: boolean;
}

const eventOption = () =>
  new Option('-e, --event <event>', 'an event it wants (repeatable, or comma-separated)')
    .choices([...EVENTS])
    .argParser(eventList);
const formatOption = () =>
  new Option('--format <format>', 'json (signed), slack or discord (default json)').choices([...FORMATS]);

/** The body of POST /v1/notifications; the API fills in the defaults and checks the URL. */
export function sinkSpecFromFlags(url: string, flags: SinkFlags): NotificationSinkSpec {
  const spec = { url, events: flags.event ?? [] } as NotificationSinkSpec;
  if (flags.worker !== undefined) spec.workerId = flags.worker;
  if (flags.format !== undefined) spec.format = flags.format;
  if (flags.description !== undefined) spec.description = flags.description;
  if (flags.disabled) spec.enabled = false;
  return spec;
}

/** The body of PATCH /v1/notifications/:id: only what the flags name (--event replaces the list). */
export function sinkPatchFromFlags(flags: SinkFlags): NotificationSinkPatch {
  if (flags.worker !== undefined && flags.allWorkers) {
    throw usageError('give --worker or --all-workers, not both');
  }
  const patch: NotificationSinkPatch = {};
  if (flags.url !== undefined) patch.url = flags.url;
  if (flags.event !== undefined) patch.events = flags.event;
  if (flags.worker !== undefined) patch.workerId = flags.worker;
  if (flags.allWorkers) patch.workerId = null;
  if (flags.format !== undefined) patch.format = flags.format;
  if (flags.description !== undefined) patch.description = flags.description;
  if (Object.keys(patch).length === 0) throw usageError('nothing to change: give at least one option');
  return patch;
}

/** The digest setting, or null when none is set (the API's 404). */
async function currentDigest(api: Client): Promise<DigestSettings | null> {
  const answer = await api.GET('/v1/notifications/digest');
  if (answer.response.status === 404) return null;
  return unwrap(Promise.resolve(answer));
}

const NO_DIGEST = 'no daily digest is set: nightshift notifications digest set --time HH:MM sets one';

export function registerNotifications(program: Command, io: Io): void {
  const notifications = program
    .command('notifications')
    .description('where run events and the daily digest are sent (sinks), and when the digest goes');

  notifications
    .command('add')
    .description('add a sink: a URL and the events it wants; prints its signing secret, once')
    .argument('<url>', 'where to send: https (loopback http only where the API allows it)')
    .addOption(eventOption().makeOptionMandatory())
    .option('-w, --worker <id>', "only this worker's runs and part of the digest (default: all workers)")
    .addOption(formatOption())
    .option('--description <text>', 'a label for people; never sent')
    .option('--disabled', 'add it disabled (nothing is sent until enabled)')
    .action(async (url: string, flags: SinkFlags, cmd: Command) => {
      const ctx = new Ctx(io, cmd);
      const api = await ctx.api();
      const sink = await unwrap(api.POST('/v1/notifications', { body: sinkSpecFromFlags(url, flags) }));
      if (ctx.json) return ctx.printJson(sink);
      ctx.print(
        [
          `created notification sink ${sink.id} (${sink.events.join(', ')}; ${sink.workerId ? `worker ${sink.workerId}` : 'all workers'}; ${sink.format})`,
          `secret: ${sink.secret}`,
          'This secret will not be shown again: keep it now. It signs json bodies (X-Nightshift-Signature-256).',
        ].join('\n'),
      );
    });

  notifications
    .command('ls')
    .description('list the sinks, oldest first, with their last delivery')
    .action(async (_flags: object, cmd: Command) => {
      const ctx = new Ctx(io, cmd);
      const list = await unwrap((await ctx.api()).GET('/v1/notifications'));
      if (ctx.json) return ctx.printJson(list);
      ctx.print(sinksTable(list.sinks, ctx.view()));
    });

  notifications
    .command('show')
    .description('show a sink and its last delivery (never its secret)')
    .argument('<id>', 'sink id (n-…)')
    .action(async (id: string, _flags: object, cmd: Command) => {
      const ctx = new Ctx(io, cmd);
      const sink = await unwrap(
        (await ctx.api()).GET('/v1/notifications/{id}', { params: { path: { id } } }),
      );
      if (ctx.json) return ctx.printJson(sink);
      ctx.print(sinkView(sink, ctx.view()));
    });

  notifications
    .command('edit')
    .description('change a sink (only the options given; --event replaces its events)')
    .argument('<id>', 'sink id (n-…)')
    .option('--url <url>', 'where to send')
    .addOption(eventOption())
    .option('-w, --worker <id>', "only this worker's runs")
    .option('--all-workers', "every worker's runs")
    .addOption(formatOption())
    .option('--description <text>', 'a label for people')
    .action(async (id: string, flags: SinkFlags, cmd: Command) => {
      const ctx = new Ctx(io, cmd);
      const body = sinkPatchFromFlags(flags);
      const sink = await unwrap(
        (await ctx.api()).PATCH('/v1/notifications/{id}', { params: { path: { id } }, body }),
      );
      if (ctx.json) return ctx.printJson(sink);
      ctx.print(`updated notification sink ${sink.id}`);
    });

  for (const [name, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    notifications
      .command(name)
      .description(enabled ? 'send to a sink again' : 'stop sending to a sink (it is kept)')
      .argument('<id>', 'sink id (n-…)')
      .action(async (id: string, _flags: object, cmd: Command) => {
        const ctx = new Ctx(io, cmd);
        const sink = await unwrap(
          (await ctx.api()).PATCH('/v1/notifications/{id}', {
            params: { path: { id } },
            body: { enabled },
          }),
        );
        if (ctx.json) return ctx.printJson(sink);
        ctx.print(`${enabled ? 'enabled' : 'disabled'} notification sink ${sink.id}`);
      });
  }

  notifications
    .command('rm')
    .description('delete a sink')
    .argument('<id>', 'sink id (n-…)')
    .action(async (id: string, _flags: object, cmd: Command) => {
      const ctx = new Ctx(io, cmd);
      await unwrap((await ctx.api()).DELETE('/v1/notifications/{id}', { params: { path: { id } } }));
      if (ctx.json) return ctx.printJson({ id, deleted: true });
      ctx.print(`deleted notification sink ${id}`);
    });

  const digest = notifications
    .command('digest')
    .description('the daily digest (the last 24 hours per worker, the month to date): show, set, off');

  digest
    .command('show', { isDefault: true })
    .description('when the digest is sent, and to which sinks (the default)')
    .action(async (_flags: object, cmd: Command) => {
      const ctx = new Ctx(io, cmd);
      const api = await ctx.api();
      const [settings, list] = await Promise.all([currentDigest(api), unwrap(api.GET('/v1/notifications'))]);
      if (!settings) throw new CliError(NO_DIGEST, EXIT.notFound);
      if (ctx.json) return ctx.printJson(settings);
      ctx.print(digestView(settings, list.sinks, ctx.view()));
    });

  digest
    .command('set')
    .description('send the digest daily at a time in a time zone (and turn it on)')
    .option('--time <HH:MM>', 'time of day, 24-hour clock (kept when not given)', clockTime)
    .option('--time-zone <zone>', 'IANA time zone (kept when not given; default UTC)', timeZone)
    .action(async (flags: { time?: string; timeZone?: string }, cmd: Command) => {
      const ctx = new Ctx(io, cmd);
      const api = await ctx.api();
      const [current, list] = await Promise.all([currentDigest(api), unwrap(api.GET('/v1/notifications'))]);
      const time = flags.time ?? current?.time;
      if (time === undefined) throw usageError('no digest is set yet: give --time HH:MM');
      const zone = flags.timeZone ?? current?.timeZone;
      const settings = await unwrap(
        api.PUT('/v1/notifications/digest', {
          // Without a zone the API's default (UTC) applies.
          body: {
            time,
            ...(zone !== undefined ? { timeZone: zone } : {}),
            enabled: true,
          } as DigestSettingsSpec,
        }),
      );
      if (!list.sinks.some((s) => s.enabled && s.events.includes('digest'))) {
        ctx.note(
          dim(
            ctx.style,
            'no enabled sink wants the digest yet: nightshift notifications add <url> --event digest',
          ),
        );
      }
      if (ctx.json) return ctx.printJson(settings);
      ctx.print(`daily digest on at ${settings.time} ${settings.timeZone}`);
    });

  digest
    .command('off')
    .description('stop sending the digest (its time is kept: digest set turns it on again)')
    .action(async (_flags: object, cmd: Command) => {
      const ctx = new Ctx(io, cmd);
      const api = await ctx.api();
      const current = await currentDigest(api);
      if (!current) throw new CliError('no daily digest is set: nothing to turn off', EXIT.notFound);
      const settings = await unwrap(
        api.PUT('/v1/notifications/digest', {
          body: { time: current.time, timeZone: current.timeZone, enabled: false },
        }),
      );
      if (ctx.json) return ctx.printJson(settings);
      ctx.print(`daily digest off (it was at ${settings.time} ${settings.timeZone})`);
    });
}
