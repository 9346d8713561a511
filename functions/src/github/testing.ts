// What the functions' GitHub tests share: the webhook secret, a delivery signed with it, and the person whose GITHUB_TOKEN the stand-in knows.
import type { KeyObject } from 'node:crypto';
import { type AppDelivery, deliverToApp, makeAppKey } from '@nightshift/shared/dev';

export const SECRET = 'test-webhook-secret';

/** One delivery to a webhook app, signed with SECRET. */
export const deliver = (app: Parameters<typeof deliverToApp>[0], d: AppDelivery) =>
  deliverToApp(app, SECRET, d);

/** The person GITHUB_TOKEN belongs to, for tests that call GitHub with a person's token rather than the App's. */
export const TOKEN_OWNER = { login: 'nightshift-owner', token: 'ghp_test', association: 'OWNER' };

/** The stand-in wants an App key even when the tests use GITHUB_TOKEN: a fresh key's public half. */
export const tokenTestsPublicKey = (): KeyObject => makeAppKey().publicKey;
