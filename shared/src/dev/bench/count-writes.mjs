// Preloaded by the bench (node --import) into the agent and the functions: logs every Firestore commit, one JSON line each.
// Plain JavaScript: it runs beside the build's bundles, before them. BENCH_WRITES_LOG is the log file,
// BENCH_WRITES_FROM the bundle whose @google-cloud/firestore to wrap, BENCH_PROCESS the name on each line.
import { appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const log = process.env.BENCH_WRITES_LOG;
const from = process.env.BENCH_WRITES_FROM;
if (log && from) {
  // The bundles import the client as a CommonJS package: this require() gets that very module.
  const { Firestore } = createRequire(from)('@google-cloud/firestore');
  const original = Firestore.prototype.request;
  const name = process.env.BENCH_PROCESS ?? String(process.pid);
  const now = () => performance.timeOrigin + performance.now();
  const docOf = (path) => path.slice(path.indexOf('/documents/') + '/documents/'.length);
  const describe = (write) => {
    if (write.delete) return { d: docOf(write.delete), del: true };
    const doc = write.update;
    if (!doc) return { d: null };
    const status = doc.fields?.status?.stringValue;
    // A worker lock names its run: the bench counts its create and delete as that run's writes.
    const runId = doc.fields?.runId?.stringValue;
    return {
      d: docOf(doc.name),
      ...(status ? { s: status } : {}),
      ...(runId ? { r: runId } : {}),
      ...(write.updateMask ? { f: write.updateMask.fieldPaths } : {}),
    };
  };
  Firestore.prototype.request = function counted(methodName, request, ...rest) {
    if (methodName !== 'commit' && methodName !== 'batchWrite')
      return original.call(this, methodName, request, ...rest);
    const t0 = now();
    const line = (ok) =>
      appendFileSync(
        log,
        `${JSON.stringify({ p: name, m: methodName, t0, t1: now(), ok, w: (request.writes ?? []).map(describe) })}\n`,
      );
    return original.call(this, methodName, request, ...rest).then(
      (response) => {
        line(true);
        return response;
      },
      (error) => {
        line(false);
        throw error;
      },
    );
  };
}
