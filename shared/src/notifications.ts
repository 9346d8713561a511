// Notification sinks (where run events and the daily digest are sent), their delivery claims and the digest setting.
import * as z from 'zod';
import { IsoDateTimeSchema, SlugSchema } from './ids.js';
import { ExpiresAtSchema } from './records.js';
import { TimeZoneSchema } from './worker.js';

/**
 * What a sink can ask for: a run reaching a status (`run.<status>`) and the daily digest. `run.blocked` and
 * `run.stalled` are accepted before any run can reach them, so a sink set up now hears them once they exist.
 */
export const NOTIFICATION_EVENTS = [
  'run.succeeded',
  'run.failed',
  'run.waiting',
  'run.blocked',
  'run.stalled',
  'run.cancelled',
  'run.timed_out',
  'run.lost',
  'digest',
] as const;
export const NotificationEventSchema = z.enum(NOTIFICATION_EVENTS);
export type NotificationEvent = z.infer<typeof NotificationEventSchema>;

/** `json`: our own body, signed (HMAC-SHA256); `slack`: an incoming webhook's `{text, blocks}`; `discord`: a webhook's `{content, embeds}`. */
export const NotificationFormatSchema = z.enum(['json', 'slack', 'discord']);
export type NotificationFormat = z.infer<typeof NotificationFormatSchema>;

/** The sink's URL as given; whether it may be sent to is checked by the functions (scheme, host, address). */
export const SinkUrlSchema = z.url({ message: 'expected an absolute URL' }).max(2048);

const EventsSchema = z
  .array(NotificationEventSchema)
  .min(1, { message: 'expected at least one event' })
  .refine((events) => new Set(events).size === events.length, { message: 'expected each event once' });

/** What a person sends to create a sink. */
export const NotificationSinkSpecSchema = z.strictObject({
  url: SinkUrlSchema,
  events: EventsSchema,
  format: NotificationFormatSchema.default('json'),
  /** Only this worker's runs (and its part of the digest); null or absent: every worker's. */
  workerId: SlugSchema.nullable().default(null),
  /** A label for people; never sent. */
  description: z.string().max(200).default(''),
  enabled: z.boolean().default(true),
});
export type NotificationSinkSpec = z.infer<typeof NotificationSinkSpecSchema>;

export const NotificationSinkPatchSchema = z
  .strictObject({
    url: SinkUrlSchema,
    events: EventsSchema,
    format: NotificationFormatSchema,
    workerId: SlugSchema.nullable(),
    description: z.string().max(200),
    enabled: z.boolean(),
  })
  .partial();
export type NotificationSinkPatch = z.infer<typeof NotificationSinkPatchSchema>;

/** The outcome of the latest delivery to a sink. */
export const SinkDeliverySchema = z.object({
  at: IsoDateTimeSchema,
  event: NotificationEventSchema,
  /** The run it was about; null for the digest. */
  runId: z.string().nullable(),
  ok: z.boolean(),
  /** The receiver's HTTP status; null when no answer came (refused address, timeout, connection error). */
  httpStatus: z.number().int().nullable(),
  attempts: z.number().int().min(1),
  error: z.string().nullable(),
});
export type SinkDelivery = z.infer<typeof SinkDeliverySchema>;

export const NotificationSinkIdSchema = z.string().regex(/^n-[a-z0-9]{1,40}$/, {
  message: 'expected a sink id like n-…',
});

/** `notificationSinks/<id>`: one sink. */
export const NotificationSinkSchema = z.object({
  id: NotificationSinkIdSchema,
  url: SinkUrlSchema,
  events: z.array(NotificationEventSchema),
  format: NotificationFormatSchema,
  workerId: SlugSchema.nullable(),
  description: z.string(),
  enabled: z.boolean(),
  /** The HMAC key of `json` bodies: returned once, by the create call; never by a read. */
  secret: z.string().min(32),
  createdAt: IsoDateTimeSchema,
  updatedAt: IsoDateTimeSchema,
  lastDelivery: SinkDeliverySchema.nullable().default(null),
});
export type NotificationSink = z.infer<typeof NotificationSinkSchema>;

/** A sink as the API shows it: everything but the secret. */
export const NotificationSinkViewSchema = NotificationSinkSchema.omit({ secret: true });
export type NotificationSinkView = z.infer<typeof NotificationSinkViewSchema>;

/**
 * `notificationDeliveries/<sinkId>_<runId>_<status>`: the claim that makes a run's status reach a sink
 * once, whoever sends it (the reactor, or a redelivery of its event).
 */
export const NotificationDeliverySchema = z.object({
  sinkId: z.string(),
  runId: z.string(),
  event: NotificationEventSchema,
  state: z.enum(['sending', 'sent', 'failed']),
  claimedAt: IsoDateTimeSchema,
  updatedAt: IsoDateTimeSchema,
  attempts: z.number().int().min(0),
  httpStatus: z.number().int().nullable(),
  error: z.string().nullable(),
  /** When Firestore's TTL policy may delete the claim; absent on claims written before it existed. */
  expiresAt: ExpiresAtSchema.optional(),
});
export type NotificationDelivery = z.infer<typeof NotificationDeliverySchema>;

/** `HH:MM`, 24-hour clock. */
export const ClockTimeSchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, {
  message: 'expected a time of day as HH:MM (00:00 to 23:59)',
});

export const DigestSettingsSpecSchema = z.strictObject({
  time: ClockTimeSchema,
  timeZone: TimeZoneSchema.default('UTC'),
  enabled: z.boolean().default(true),
});
export type DigestSettingsSpec = z.infer<typeof DigestSettingsSpecSchema>;

/** `notificationSettings/digest`: when the daily digest is sent. Absent: no digest. */
export const DigestSettingsSchema = z.object({
  time: ClockTimeSchema,
  timeZone: TimeZoneSchema,
  enabled: z.boolean(),
  updatedAt: IsoDateTimeSchema,
});
export type DigestSettings = z.infer<typeof DigestSettingsSchema>;

/** `notificationDigests/<YYYY-MM-DD>` (the day in the digest's time zone): created once by the tick that sends that day's digest. */
export const DigestClaimSchema = z.object({
  day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  claimedAt: IsoDateTimeSchema,
  state: z.enum(['sending', 'sent']),
  sinks: z.number().int().min(0),
  failed: z.number().int().min(0),
  updatedAt: IsoDateTimeSchema,
  /** When Firestore's TTL policy may delete the claim (long after its day); absent on older claims. */
  expiresAt: ExpiresAtSchema.optional(),
});
export type DigestClaim = z.infer<typeof DigestClaimSchema>;
