// Profiles of `nightshift login`: API address and token per name, in one file only its owner may read.
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CliError, EXIT, usageError } from './errors.js';

export interface Profile {
  url: string;
  token: string;
}

export interface ProfilesFile {
  profiles: Record<string, Profile>;
}

export const DEFAULT_PROFILE = 'default';
export const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export const profilesPath = (configDir: string) => join(configDir, 'config.json');

function isProfile(value: unknown): value is Profile {
  const p = value as Profile;
  return typeof p === 'object' && p !== null && typeof p.url === 'string' && typeof p.token === 'string';
}

/** The profiles file, or none when it does not exist; a file that is not ours is an error naming it. */
export async function readProfiles(configDir: string): Promise<ProfilesFile> {
  const path = profilesPath(configDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { profiles: {} };
    throw new CliError(`cannot read ${path}: ${(error as Error).message}`, EXIT.failure);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(`${path} is not JSON; fix it or run nightshift login again`, EXIT.failure);
  }
  const profiles = (parsed as ProfilesFile | null)?.profiles;
  if (typeof profiles !== 'object' || profiles === null) {
    throw new CliError(`${path} has no "profiles" object; fix it or remove it`, EXIT.failure);
  }
  for (const [name, profile] of Object.entries(profiles)) {
    if (!isProfile(profile)) {
      throw new CliError(`${path}: profile "${name}" needs a "url" and a "token" string`, EXIT.failure);
    }
  }
  return { profiles };
}

/**
 * Writes one profile. The file holds tokens: it is written as a new file with mode 0600 in a folder of
 * mode 0700 and renamed over the old one, so it is never readable by others, not even for a moment.
 */
export async function saveProfile(configDir: string, name: string, profile: Profile): Promise<string> {
  if (!PROFILE_NAME.test(name)) {
    throw usageError(`profile "${name}": expected letters, digits, ".", "_" or "-"`);
  }
  const current = await readProfiles(configDir);
  const next: ProfilesFile = { profiles: { ...current.profiles, [name]: profile } };
  await mkdir(configDir, { recursive: true, mode: 0o700 });
  const path = profilesPath(configDir);
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, path);
  return path;
}
