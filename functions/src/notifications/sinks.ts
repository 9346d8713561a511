// Notification sinks in Firestore: create (with its secret, shown once), list, read, patch, delete; the digest setting.
import { randomBytes } from 'node:crypto';
import type {
  DigestSettings,
  DigestSettingsSpec,
  NotificationSink,
  NotificationSinkPatch,
  NotificationSinkSpec,
  NotificationSinkView,
} from '@nightshift/shared';
import type { Deps } from '../core/deps.js';
import { invalidFields, notFound } from '../core/errors.js';
import { type UrlPolicy, urlRefusal } from './url-safety.js';

export const DIGEST_SETTINGS_DOC = 'digest';

export function viewOf(sink: NotificationSink): NotificationSinkView {
  const { secret: _secret, ...view } = sink;
  return view;
}

function checkUrl(url: string, policy: UrlPolicy): void {
  const refusal = urlRefusal(url, policy);
  if (refusal) throw invalidFields([{ path: 'url', message: refusal }]);
}

/** A new sink; the answer is the only time its secret is shown. */
export async function createSink(
  deps: Deps,
  spec: NotificationSinkSpec,
  policy: UrlPolicy,
): Promise<NotificationSinkView & { secret: string }> {
  checkUrl(spec.url, policy);
  const now = deps.now().toISOString();
  const sink: NotificationSink = {
    ...spec,
    id: `n-${now.slice(0, 10).replaceAll('-', '')}${randomBytes(6).toString('hex')}`,
    secret: `nss_${randomBytes(32).toString('hex')}`,
    createdAt: now,
    updatedAt: now,
    lastDelivery: null,
  };
  await deps.cols.notificationSinks.doc(sink.id).create(sink);
  deps.log.info('notification sink created', { sinkId: sink.id, format: sink.format, events: sink.events });
  return { ...viewOf(sink), secret: sink.secret };
}

export async function listSinks(deps: Deps): Promise<NotificationSinkView[]> {
  const snapshot = await deps.cols.notificationSinks.orderBy('createdAt').get();
  return snapshot.docs.map((d) => viewOf(d.data()));
}

export async function loadSink(deps: Deps, id: string): Promise<NotificationSink> {
  const sink = (await deps.cols.notificationSinks.doc(id).get()).data();
  if (!sink) throw notFound(`notification sink "${id}" does not exist`);
  return sink;
}

export async function patchSink(
  deps: Deps,
  id: string,
  patch: NotificationSinkPatch,
  policy: UrlPolicy,
): Promise<NotificationSinkView> {
  if (patch.url !== undefined) checkUrl(patch.url, policy);
  const ref = deps.cols.notificationSinks.doc(id);
  const updated = await deps.db.runTransaction(async (t) => {
    const current = (await t.get(ref)).data();
    if (!current) throw notFound(`notification sink "${id}" does not exist`);
    const next: NotificationSink = { ...current, ...patch, updatedAt: deps.now().toISOString() };
    t.set(ref, next);
    return next;
  });
  return viewOf(updated);
}

export async function deleteSink(deps: Deps, id: string): Promise<void> {
  const ref = deps.cols.notificationSinks.doc(id);
  if (!(await ref.get()).exists) throw notFound(`notification sink "${id}" does not exist`);
  await ref.delete();
}

export async function getDigestSettings(deps: Deps): Promise<DigestSettings | null> {
  return (await deps.cols.notificationSettings.doc(DIGEST_SETTINGS_DOC).get()).data() ?? null;
}

export async function putDigestSettings(deps: Deps, spec: DigestSettingsSpec): Promise<DigestSettings> {
  const settings: DigestSettings = { ...spec, updatedAt: deps.now().toISOString() };
  await deps.cols.notificationSettings.doc(DIGEST_SETTINGS_DOC).set(settings);
  return settings;
}
