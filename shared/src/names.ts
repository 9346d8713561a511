// Names of Firestore collections and Pub/Sub resources: the one list that every package and terraform use.

/** Firestore collections. Run events live in a subcollection of their run. */
export const COLLECTIONS = {
  workers: 'workers',
  runs: 'runs',
  runEvents: 'events',
  agents: 'agents',
  /** `workerLocks/<workerId>`: held by the agent that runs the worker's active run (one active run per worker). */
  workerLocks: 'workerLocks',
  /** `idempotencyKeys/<sha256>`: maps an Idempotency-Key to the run it created. */
  idempotencyKeys: 'idempotencyKeys',
  /** `githubDeliveries/<X-GitHub-Delivery>`: webhook deliveries already handled. */
  githubDeliveries: 'githubDeliveries',
  /** `scheduleState/<workerId>`: the last cron slot the scheduler handled for a worker (queued or skipped). */
  scheduleState: 'scheduleState',
  /** `githubFeedback/<runId>`: runs started from GitHub whose end-of-run comment is still to be posted. */
  githubFeedback: 'githubFeedback',
  /** `githubInstallations/<installation id>`: the repositories each GitHub App installation covers. */
  githubInstallations: 'githubInstallations',
  /** `vms/<instance name>`: starts, stops and running time of each worker VM. */
  vms: 'vms',
  /** `limits/account`: the plan's usage limit a worker hit, until its reset (no run is launched meanwhile). */
  limits: 'limits',
  /** `notificationSinks/<id>`: where run events and the digest are sent. */
  notificationSinks: 'notificationSinks',
  /** `notificationDeliveries/<sinkId>_<runId>_<status>`: a run status sent (or being sent) to a sink, once. */
  notificationDeliveries: 'notificationDeliveries',
  /** `notificationSettings/digest`: the daily digest's time and time zone. */
  notificationSettings: 'notificationSettings',
  /** `notificationDigests/<day>`: the day's digest, claimed once by one tick. */
  notificationDigests: 'notificationDigests',
  /** `budgetSlots/<workerId>_<day start>_<n>`: run n of a worker's day under budget.maxRunsPerDay, taken with create(). */
  budgetSlots: 'budgetSlots',
} as const;

/** Pub/Sub. No message ordering: the emulator stalls when it is combined with a dead-letter policy. */
export const PUBSUB = {
  /** Carries run.start and run.cancel commands to the agents. */
  commandsTopic: 'nightshift-run-commands',
  /** The agents' pull subscription (all agents share it). */
  agentSubscription: 'nightshift-agent',
  /** Commands that failed delivery too often land here to be looked at, never dropped. */
  deadLetterTopic: 'nightshift-run-commands-dead',
  deadLetterSubscription: 'nightshift-run-commands-dead',
  /** Deliveries before a command goes to the dead-letter topic (Pub/Sub allows 5 to 100). */
  maxDeliveryAttempts: 5,
  /** Carries a `run.status` event for every status change of a run, to the reactor. */
  runStatusTopic: 'nightshift-run-status',
  /**
   * The reactor's subscription to run.status: a push subscription to the `reactor` function in the cloud,
   * pulled by the local stack's reactor loop.
   */
  reactorSubscription: 'nightshift-reactor',
  /** run.status events the reactor failed on too often. */
  runStatusDeadLetterTopic: 'nightshift-run-status-dead',
  runStatusDeadLetterSubscription: 'nightshift-run-status-dead',
} as const;

/** The Cloud Functions entry points the functions bundle exports (terraform deploys each). */
export const FUNCTION_ENTRY_POINTS = ['api', 'githubWebhook', 'scheduler', 'reactor'] as const;
export type FunctionEntryPoint = (typeof FUNCTION_ENTRY_POINTS)[number];

/** tmux socket name of the agent (`tmux -L nightshift attach -t <session>`). */
export const TMUX_SOCKET = 'nightshift';
