// Profiles: kept in one file of mode 0600 (in a folder of 0700), several side by side; a broken file is named.
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '@nightshift/shared/testing';
import { describe, expect, it } from 'vitest';
import { loadEnv } from './config.js';
import { profilesPath, readProfiles, saveProfile } from './profiles.js';

describe('profiles', () => {
  it('writes each profile beside the others, only its owner may read the file', async () => {
    const dir = join(await tempDir(), 'nightshift');
    await saveProfile(dir, 'local', { url: 'http://127.0.0.1:8080', token: 'ns_a' });
    const path = await saveProfile(dir, 'cloud', { url: 'https://api.example', token: 'ns_b' });
    expect(path).toBe(profilesPath(dir));
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect(await readProfiles(dir)).toEqual({
      profiles: {
        local: { url: 'http://127.0.0.1:8080', token: 'ns_a' },
        cloud: { url: 'https://api.example', token: 'ns_b' },
      },
    });
    await saveProfile(dir, 'local', { url: 'http://127.0.0.1:9090', token: 'ns_c' });
    expect(JSON.parse(await readFile(path, 'utf8')).profiles.local).toEqual({
      url: 'http://127.0.0.1:9090',
      token: 'ns_c',
    });
  });

  it('reads a missing file as no profiles, and names a broken one', async () => {
    const dir = await tempDir();
    expect(await readProfiles(join(dir, 'none'))).toEqual({ profiles: {} });
    await mkdir(join(dir, 'bad'));
    await writeFile(join(dir, 'bad', 'config.json'), '{"profiles": {"x": {"url": 1}}}');
    await expect(readProfiles(join(dir, 'bad'))).rejects.toThrow(
      /config.json: profile "x" needs a "url" and a "token" string/,
    );
    await expect(saveProfile(dir, '../escape', { url: 'u', token: 't' })).rejects.toMatchObject({
      exitCode: 2,
    });
  });

  it('lives in $XDG_CONFIG_HOME/nightshift, else ~/.config/nightshift', () => {
    expect(loadEnv({ XDG_CONFIG_HOME: '/x', HOME: '/h' }).configDir).toBe('/x/nightshift');
    expect(loadEnv({ HOME: '/h' }).configDir).toBe('/h/.config/nightshift');
    expect(loadEnv({ HOME: '/h', NO_COLOR: '' }).noColor).toBe(false);
    expect(loadEnv({ HOME: '/h', NO_COLOR: '1' }).noColor).toBe(true);
  });
});
