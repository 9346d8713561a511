// count-writes.mjs: preloaded into a plain node process, it logs each Firestore commit of that process's client.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describeEmulators, emulators, tempDir, testProjectId } from '@nightshift/shared/testing';
import { expect, it } from 'vitest';
import { REPO_ROOT } from '../local-stack.js';
import { COUNT_WRITES } from './stack.js';
import { readCommitLog, writesOfRun } from './writes.js';

const exec = promisify(execFile);

describeEmulators('count-writes.mjs', () => {
  it('logs a set, a batch of two and a delete, with the documents and the status written', async () => {
    const log = join(await tempDir('nightshift-count-writes-'), 'writes.jsonl');
    const script = `
      import { Firestore } from '@google-cloud/firestore';
      const db = new Firestore({ projectId: process.env.PROJECT });
      await db.doc('runs/r1').set({ status: 'queued' });
      const batch = db.batch();
      batch.update(db.doc('runs/r1'), { status: 'starting' });
      batch.set(db.doc('runs/r1/events/e1'), { type: 'status' });
      await batch.commit();
      await db.doc('workerLocks/w').set({ runId: 'r1' });
      await db.doc('workerLocks/w').delete();
      await db.doc('agents/a').get();
      await db.terminate();`;
    await exec(process.execPath, ['--import', COUNT_WRITES, '--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        FIRESTORE_EMULATOR_HOST: emulators?.firestoreHost ?? '',
        METADATA_SERVER_DETECTION: 'none',
        PROJECT: testProjectId(),
        BENCH_WRITES_LOG: log,
        BENCH_WRITES_FROM: join(REPO_ROOT, 'package.json'),
        BENCH_PROCESS: 'probe',
      },
    });
    const lines = await readCommitLog(log);
    expect(lines.map((l) => l.w.map((w) => [w.d, w.s ?? null, w.del ?? false]))).toEqual([
      [['runs/r1', 'queued', false]],
      [
        ['runs/r1', 'starting', false],
        ['runs/r1/events/e1', null, false],
      ],
      [['workerLocks/w', null, false]],
      [['workerLocks/w', null, true]],
    ]);
    expect(lines.every((l) => l.p === 'probe' && l.ok && l.t1 >= l.t0)).toBe(true);
    expect(writesOfRun(lines, 'r1')).toEqual({ documents: 5, commits: 4, byProcess: { probe: 5 } });
  });
});
