// `nightshift attach <run>`: the command that attaches to the run's tmux session, locally or over IAP; --exec runs it.
import type { Command } from 'commander';
import { type Run, unwrap, type Vm } from '../api.js';
import { TMUX_SOCKET } from '../constants.js';
import { Ctx, type Io } from '../context.js';
import { CliError, EXIT } from '../errors.js';
import { isTerminal } from '../outcome.js';

/** The workers' tmux server on a VM (agent/install.sh) and the user it runs as. */
export const VM_TMUX_SOCKET = '/run/nightshift/tmux.sock';
export const VM_WORKER_USER = 'nightshift-worker';

export type Via = 'local' | 'gcloud';

export interface AttachPlan {
  via: Via;
  session: string;
  argv: string[];
  /** The VM it goes through, for gcloud. */
  vm?: { name: string; zone: string };
}

/** `tmux -L name` for a socket name, `tmux -S path` for a path (NIGHTSHIFT_TMUX_SOCKET's two forms). */
export const tmuxSocketArgs = (socket: string) => (socket.startsWith('/') ? ['-S', socket] : ['-L', socket]);

/** A loopback API means the local stack, whose agent's tmux server is on this machine. */
export function isLocalApi(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\./.test(host);
  } catch {
    return false;
  }
}

export function planAttach(
  run: Run,
  { via, vms, localSocket }: { via: Via; vms: Vm[]; localSocket: string },
): AttachPlan {
  const session = run.session;
  if (isTerminal(run.status)) {
    throw new CliError(`run ${run.id} has ended (${run.status}); its tmux session is gone`, EXIT.failure);
  }
  if (!session) {
    throw new CliError(
      `run ${run.id} has no tmux session yet (${run.status}); try again once it runs`,
      EXIT.failure,
    );
  }
  if (via === 'local') {
    return { via, session, argv: ['tmux', ...tmuxSocketArgs(localSocket), 'attach', '-t', session] };
  }
  const vm = vms.find((v) => v.name === run.agentId || v.agent?.id === run.agentId);
  if (!vm) {
    throw new CliError(
      `run ${run.id} is held by agent ${run.agentId ?? '(none)'}, which is not one of the VMs of GET /v1/vms; ` +
        `on its machine: sudo -u ${VM_WORKER_USER} tmux -S ${VM_TMUX_SOCKET} attach -t ${session}`,
      EXIT.failure,
    );
  }
  return {
    via,
    session,
    vm: { name: vm.name, zone: vm.zone },
    argv: [
      'gcloud',
      'compute',
      'ssh',
      vm.name,
      '--zone',
      vm.zone,
      '--tunnel-through-iap',
      '--',
      '-t',
      'sudo',
      '-u',
      VM_WORKER_USER,
      'tmux',
      '-S',
      VM_TMUX_SOCKET,
      'attach',
      '-t',
      session,
    ],
  };
}

/** A word as a POSIX shell reads it back: bare when it is plain, else in single quotes. */
export const shellQuote = (word: string) =>
  /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;

export function registerAttach(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('attach')
    .description(
      "print the command that attaches to a run's tmux session (locally, or over IAP on Google Cloud); --exec runs it",
    )
    .argument('<run>', 'run id')
    .option('--exec', 'run the command here instead of printing it')
    .option(
      '--via <how>',
      'local (tmux on this machine) or gcloud (gcloud compute ssh); default: from the API address',
    )
    .action(async (runId: string, flags: { exec?: boolean; via?: string }, cmd: Command) => {
      const ctx = new Ctx(io, cmd);
      if (flags.via !== undefined && flags.via !== 'local' && flags.via !== 'gcloud') {
        throw new CliError(`--via: expected local or gcloud, got "${flags.via}"`, EXIT.usage);
      }
      const api = await ctx.api();
      const { url } = await ctx.connect();
      const via: Via = (flags.via as Via | undefined) ?? (isLocalApi(url) ? 'local' : 'gcloud');
      const run = await unwrap(api.GET('/v1/runs/{id}', { params: { path: { id: runId } } }));
      const vms = via === 'gcloud' && !isTerminal(run.status) ? (await unwrap(api.GET('/v1/vms'))).vms : [];
      const plan = planAttach(run, { via, vms, localSocket: io.env.tmuxSocket ?? TMUX_SOCKET });
      if (flags.exec) {
        setExit(await io.exec(plan.argv));
        return;
      }
      if (ctx.json) return ctx.printJson({ runId: run.id, ...plan });
      ctx.print(plan.argv.map(shellQuote).join(' '));
    });
}
