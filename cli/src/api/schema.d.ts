// Generated from GET /openapi.json by functions/src/api/openapi-gen.ts (`npm run openapi`); do not edit.
export interface paths {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness; needs no token */
        get: operations["getHealth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This document; needs no token */
        get: operations["getOpenApiDocument"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/agents": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The fleet: each agent's last heartbeat, capacity, running runs and whether it is alive */
        get: operations["listAgents"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/notifications": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List notification sinks, oldest first */
        get: operations["listNotificationSinks"];
        put?: never;
        /**
         * Create a notification sink
         * @description The URL must be https and its host must not be, or resolve to, a private, loopback, link-local, CGNAT, IPv6 unique-local or metadata address (checked again at each send); redirects are never followed. A refused URL is a 400 naming `url` and why. The answer carries the sink's signing secret, once.
         */
        post: operations["createNotificationSink"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/notifications/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a notification sink and its last delivery */
        get: operations["getNotificationSink"];
        put?: never;
        post?: never;
        /** Delete a notification sink */
        delete: operations["deleteNotificationSink"];
        options?: never;
        head?: never;
        /**
         * Change a notification sink
         * @description Any field but the id and secret. The URL must be https and its host must not be, or resolve to, a private, loopback, link-local, CGNAT, IPv6 unique-local or metadata address (checked again at each send); redirects are never followed. A refused URL is a 400 naming `url` and why.
         */
        patch: operations["updateNotificationSink"];
        trace?: never;
    };
    "/v1/notifications/digest": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** When the daily digest is sent */
        get: operations["getDigestSettings"];
        /**
         * Set the daily digest time and time zone
         * @description The scheduler tick sends the digest (the last 24 hours per worker, and the month's spend) to every sink that wants `digest`, once per day in `timeZone`, at the first tick at or after `time`.
         */
        put: operations["putDigestSettings"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/runs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List runs, newest first */
        get: operations["listRuns"];
        put?: never;
        /**
         * Start a run
         * @description Writes the run as queued and publishes run.start. If the publish fails or times out, the run stays queued with a note and the answer is still 202: the scheduler tick publishes run.start again for a run left queued, and a second delivery is harmless.
         */
        post: operations["startRun"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/runs/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a run */
        get: operations["getRun"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/runs/{id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Cancel a run
         * @description A queued run is cancelled at once; a starting or running run gets a cancel request that its agent acts on. A finished run is 409. The body is optional.
         */
        post: operations["cancelRun"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/runs/{id}/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A run's history, oldest first */
        get: operations["listRunEvents"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/vms": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The worker VMs: Compute status, agent, last start and stop with their reasons, cost this month */
        get: operations["listVms"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/workers": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List workers, by id */
        get: operations["listWorkers"];
        put?: never;
        /** Create a worker */
        post: operations["createWorker"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/workers/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get a worker
         * @description The worker, and with `githubApp` whether the GitHub App reaches its GitHub repository (by the installation events the webhook recorded).
         */
        get: operations["getWorker"];
        put?: never;
        post?: never;
        /**
         * Delete a worker
         * @description Refused (409) while the worker has a queued, starting or running run. Its runs are kept.
         */
        delete: operations["deleteWorker"];
        options?: never;
        head?: never;
        /**
         * Change a worker
         * @description Any field but the id; `null` removes an optional field. The result is validated as a whole.
         */
        patch: operations["updateWorker"];
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        AgentStatus: {
            /** @description Heartbeat within the alive window and not stopped */
            alive: boolean;
            capacity: number;
            /** Format: date-time */
            heartbeatAt: string;
            host: string;
            id: string;
            running: string[];
            /** Format: date-time */
            startedAt: string;
            /** @enum {string} */
            state: "running" | "draining" | "stopping" | "stopped";
            version: string;
        };
        CancelRun: {
            reason?: string;
        };
        CreatedNotificationSink: components["schemas"]["NotificationSink"] & {
            /** @description The HMAC-SHA256 key of this sink's `json` bodies. Shown only in this answer: keep it now. */
            secret: string;
        };
        CreateRun: {
            maxBudgetUsd?: number;
            maxTurns?: number;
            model?: string;
            prompt?: string;
            workerId: string;
        };
        DigestSettings: {
            enabled: boolean;
            time: string;
            timeZone: string;
            /** Format: date-time */
            updatedAt: string;
        };
        DigestSettingsSpec: {
            /** @default true */
            enabled: boolean;
            time: string;
            /** @default UTC */
            timeZone: string;
        };
        NotificationSink: {
            /** Format: date-time */
            createdAt: string;
            description: string;
            enabled: boolean;
            events: ("run.succeeded" | "run.failed" | "run.waiting" | "run.blocked" | "run.stalled" | "run.cancelled" | "run.timed_out" | "run.lost" | "digest")[];
            /** @enum {string} */
            format: "json" | "slack" | "discord";
            id: string;
            /** @default null */
            lastDelivery: {
                /** Format: date-time */
                at: string;
                attempts: number;
                error: string | null;
                /** @enum {string} */
                event: "run.succeeded" | "run.failed" | "run.waiting" | "run.blocked" | "run.stalled" | "run.cancelled" | "run.timed_out" | "run.lost" | "digest";
                httpStatus: number | null;
                ok: boolean;
                runId: string | null;
            } | null;
            /** Format: date-time */
            updatedAt: string;
            /** Format: uri */
            url: string;
            workerId: string | null;
        };
        NotificationSinkPatch: {
            description?: string;
            enabled?: boolean;
            events?: ("run.succeeded" | "run.failed" | "run.waiting" | "run.blocked" | "run.stalled" | "run.cancelled" | "run.timed_out" | "run.lost" | "digest")[];
            /** @enum {string} */
            format?: "json" | "slack" | "discord";
            /** Format: uri */
            url?: string;
            workerId?: string | null;
        };
        NotificationSinkSpec: {
            /** @default  */
            description: string;
            /** @default true */
            enabled: boolean;
            events: ("run.succeeded" | "run.failed" | "run.waiting" | "run.blocked" | "run.stalled" | "run.cancelled" | "run.timed_out" | "run.lost" | "digest")[];
            /**
             * @default json
             * @enum {string}
             */
            format: "json" | "slack" | "discord";
            /** Format: uri */
            url: string;
            /** @default null */
            workerId: string | null;
        };
        Problem: {
            detail?: string;
            errors?: {
                message: string;
                path: string;
            }[];
            instance?: string;
            status: number;
            title: string;
            /** @default about:blank */
            type: string;
        };
        Run: {
            /** @default null */
            agentId: string | null;
            /**
             * @default {
             *       "onUsageLimit": "wait",
             *       "onInterrupt": "resume",
             *       "maxWaits": 3,
             *       "attribution": "none",
             *       "stallMinutes": 20,
             *       "onStall": "event",
             *       "maxUsdPerDay": null,
             *       "dayZone": "UTC"
             *     }
             */
            autopilot: {
                /**
                 * @default none
                 * @enum {string}
                 */
                attribution: "none" | "claude";
                /** @default UTC */
                dayZone: string;
                /** @default null */
                maxUsdPerDay: number | null;
                /** @default 3 */
                maxWaits: number;
                /**
                 * @default resume
                 * @enum {string}
                 */
                onInterrupt: "resume" | "lost";
                /**
                 * @default event
                 * @enum {string}
                 */
                onStall: "event" | "stop";
                /**
                 * @default wait
                 * @enum {string}
                 */
                onUsageLimit: "wait" | "fail";
                /** @default 20 */
                stallMinutes: number;
            };
            /** @default null */
            blocked: {
                /** @enum {string} */
                source: "result" | "progress";
                text: string;
            } | null;
            /** @default null */
            cancelReason: string | null;
            /**
             * Format: date-time
             * @default null
             */
            cancelRequestedAt: string | null;
            checkout: {
                progressPath: string;
                repo: {
                    /** @default main */
                    branch: string;
                    credential?: string;
                    /** @default false */
                    push: boolean;
                    url: string;
                } | null;
                roadmapPath: string;
                /** @default docs/TASKS.md */
                tasksPath: string;
                workdir: string | null;
            };
            /** @default [] */
            commits: string[];
            /** Format: date-time */
            createdAt: string;
            /** @default null */
            error: string | null;
            /** @default null */
            exitCode: number | null;
            /**
             * Format: date-time
             * @default null
             */
            finishedAt: string | null;
            id: string;
            /**
             * Format: date-time
             * @default null
             */
            leaseExpiresAt: string | null;
            /** @default null */
            maxBudgetUsd: number | null;
            maxDurationMinutes: number;
            /** @default null */
            maxTurns: number | null;
            model: string;
            /** @default null */
            paidBy: {
                apiKeySource: string;
                /** @enum {string} */
                cost: "charged" | "api_equivalent_estimate";
                /** @enum {string} */
                kind: "subscription" | "api_key";
            } | null;
            /** @default null */
            parentRunId: string | null;
            /** @default [] */
            pieces: {
                /** @default null */
                agentId: string | null;
                /** Format: date-time */
                endedAt: string;
                ending: ("usage_limit" | "interrupted") | "ended";
                /** @enum {string} */
                mode: "fresh" | "resume";
                /** @enum {string} */
                session?: "new" | "resumed" | "forked";
                /** Format: date-time */
                startedAt: string | null;
                /** @enum {string} */
                turnsFrom?: "cumulative" | "piece" | "stream";
                usage: {
                    costUsd: number;
                    inputTokens: number;
                    outputTokens: number;
                    turns: number;
                };
                /** @enum {string} */
                usageFrom?: "cumulative" | "piece" | "stream";
            }[];
            /** @default null */
            progress: {
                text: string;
                /** Format: date-time */
                updatedAt: string;
            } | null;
            prompt: string;
            /** @default null */
            pushedBranch: string | null;
            /** @default null */
            result: string | null;
            /**
             * Format: date-time
             * @default null
             */
            resumeAt: string | null;
            /** @default null */
            roadmapOpen: number | null;
            /** @default null */
            session: string | null;
            /**
             * Format: uuid
             * @default null
             */
            sessionId: string | null;
            /**
             * Format: date-time
             * @default null
             */
            stalledSince: string | null;
            /** @default null */
            startCommit: string | null;
            /**
             * Format: date-time
             * @default null
             */
            startedAt: string | null;
            /** @enum {string} */
            status: "queued" | "waiting" | "starting" | "running" | "succeeded" | "failed" | "cancelled" | "timed_out" | "lost";
            trigger: {
                idempotencyKey?: string;
                /** @enum {string} */
                type: "api";
            } | {
                /** Format: date-time */
                slot: string;
                /** @enum {string} */
                type: "schedule";
            } | {
                commentId?: number;
                deliveryId: string;
                followUp?: {
                    headSha?: string;
                    /** @enum {string} */
                    kind: "comment" | "review" | "ci" | "issue" | "answer";
                    /** Format: uuid */
                    parentSessionId: string | null;
                    reviewId?: number;
                };
                issue: number;
                pullRequest?: number;
                repo: string;
                sender: string;
                /** @enum {string} */
                type: "github";
            } | {
                previousRunId: string;
                /** @enum {string} */
                type: "chain";
            };
            /** Format: date-time */
            updatedAt: string;
            /**
             * @default {
             *       "turns": 0,
             *       "costUsd": 0,
             *       "inputTokens": 0,
             *       "outputTokens": 0
             *     }
             */
            usage: {
                costUsd: number;
                inputTokens: number;
                outputTokens: number;
                turns: number;
            };
            /** @default null */
            waitReason: string | null;
            /** @default 0 */
            waits: number;
            /** @default null */
            wipBranch: string | null;
            /** @default null */
            workBranch: string | null;
            workerId: string;
        };
        RunEvent: {
            /** @default null */
            agentId: string | null;
            /** Format: date-time */
            at: string;
            /** @enum {string|null} */
            from: "queued" | "waiting" | "starting" | "running" | "succeeded" | "failed" | "cancelled" | "timed_out" | "lost" | null;
            id: string;
            /** @default null */
            reason: string | null;
            runId: string;
            /** @enum {string} */
            to: "queued" | "waiting" | "starting" | "running" | "succeeded" | "failed" | "cancelled" | "timed_out" | "lost";
            /** @enum {string} */
            type: "status";
        } | {
            /** Format: date-time */
            at: string;
            id: string;
            /** @default null */
            reason: string | null;
            runId: string;
            /** @enum {string} */
            type: "cancel_requested";
        } | {
            /** @default null */
            agentId: string | null;
            /** Format: date-time */
            at: string;
            id: string;
            message: string;
            runId: string;
            /** Format: date-time */
            since: string;
            /** @enum {string} */
            type: "stalled";
        } | {
            /** @default null */
            agentId: string | null;
            /** Format: date-time */
            at: string;
            id: string;
            message: string;
            runId: string;
            /** @enum {string} */
            type: "note";
        };
        Vm: {
            /** @description The VM's agent (agent id = instance name), as its last heartbeat tells it */
            agent: {
                alive: boolean;
                capacity: number;
                heartbeatAt: string;
                id: string;
                running: string[];
                /** @enum {string} */
                state: "running" | "draining" | "stopping" | "stopped";
            } | null;
            costThisMonth: {
                /** @description NIGHTSHIFT_VM_HOURLY_USD, else the machine type from the price table */
                hourlyUsd: number | null;
                /** @description Running time since the first of the month (UTC), from recorded starts and stops */
                hours: number;
                /** @description hours × hourlyUsd; the disk, billed also while stopped, is not included */
                usd: number | null;
            };
            lastStart: components["schemas"]["VmAction"];
            lastStop: components["schemas"]["VmAction"];
            machineType: string | null;
            name: string;
            /**
             * @description Compute's status; null when Compute could not be asked
             * @enum {string|null}
             */
            status: "PROVISIONING" | "STAGING" | "RUNNING" | "STOPPING" | "STOPPED" | "SUSPENDING" | "SUSPENDED" | "REPAIRING" | "TERMINATED" | null;
            /** @description Why Compute could not be asked */
            statusError: string | null;
            zone: string;
        };
        VmAction: {
            /** Format: date-time */
            at: string;
            by: string;
            /** @default null */
            error: string | null;
            /** @default null */
            operation: string | null;
            reason: string;
            /** @default null */
            runId: string | null;
        } | null;
        Worker: {
            /**
             * @default none
             * @enum {string}
             */
            attribution: "none" | "claude";
            budget?: {
                maxRunsPerDay?: number;
                maxUsdPerDay?: number;
            };
            chain?: {
                /** @default false */
                enabled: boolean;
                /** @default 10 */
                maxRunsPerDay: number;
            };
            /**
             * @default {
             *       "enabled": true,
             *       "maxPerDay": 2
             *     }
             */
            ciFixes: {
                /** @default true */
                enabled: boolean;
                /** @default 2 */
                maxPerDay: number;
            };
            /** Format: date-time */
            createdAt: string;
            /** @default true */
            enabled: boolean;
            github?: {
                /** @default [] */
                allowedBots: string[];
                /** @default nightshift */
                label: string;
                repo: string;
            };
            id: string;
            maxBudgetUsd?: number;
            /** @default 240 */
            maxDurationMinutes: number;
            maxTurns?: number;
            /** @default 3 */
            maxWaits: number;
            /** @default sonnet */
            model: string;
            /**
             * @default resume
             * @enum {string}
             */
            onInterrupt: "resume" | "lost";
            /**
             * @default event
             * @enum {string}
             */
            onStall: "event" | "stop";
            /**
             * @default wait
             * @enum {string}
             */
            onUsageLimit: "wait" | "fail";
            /** @default PROGRESS.md */
            progressPath: string;
            /**
             * @default You are an autonomous engineer working through this project roadmap unattended.
             *     If {{tasksPath}} exists and has unchecked `- [ ]` items, those are the owner's own assignments: do them first, in order, ticking each (`- [x]`) and committing when it is done; then go on with the roadmap.
             *     Read {{roadmapPath}} and find the first milestone that is not COMPLETED.
             *     Do that milestone: implement it, run the tests, and commit after each logical unit of work.
             *     Keep {{progressPath}} up to date: per milestone, what was done, which files changed, how it was tested, and any blockers.
             *     When the milestone is done, mark it COMPLETED in {{roadmapPath}}, tick its checklist items, commit, and stop.
             *     If you are blocked and cannot go on without a person (a decision, a credential, access), write one line starting with `BLOCKED:` and the blocker in {{progressPath}}, commit what you have, end your final message with the same line, and stop.
             */
            prompt: string;
            repo?: {
                /** @default main */
                branch: string;
                credential?: string;
                /** @default false */
                push: boolean;
                url: string;
            };
            /** @default docs/roadmap.md */
            roadmapPath: string;
            schedule?: {
                cron: string;
                /**
                 * @default skip
                 * @enum {string}
                 */
                onBusy: "skip" | "queue";
                pausedReason?: string;
                /** @default UTC */
                timezone: string;
            };
            /** Format: date-time */
            scheduleSince?: string;
            /** @default 20 */
            stallMinutes: number;
            /** @default docs/TASKS.md */
            tasksPath: string;
            /** Format: date-time */
            updatedAt: string;
            workdir?: string;
        };
        /** @description The worker's day (its schedule's time zone, else UTC): runs created and their cost since its midnight, and what `budget` leaves (null where it sets no limit). A subscription run's cost is the API-equivalent estimate Claude Code reports. */
        WorkerDaySpend: {
            costUsd: number;
            dayEnd: string;
            dayStart: string;
            leftRuns: number | null;
            leftUsd: number | null;
            runs: number;
        };
        /** @description Present when the worker has a repository on GitHub (its checkout or its issue binding) */
        WorkerGithubApp: {
            installationId?: number;
            reason: string;
            /** @description The repository this is about, `owner/name`: of the checkout (`repo.url`) or the issue binding (`github.repo`), whichever the App reaches least */
            repo: string;
            /**
             * @description `installed`: an installation covers the repository; `suspended`: it does but is suspended; `not_installed`: the owner has an installation (or had one) that does not cover it; `unknown`: no installation event for the owner reached nightshift, or only part of its selection did; `not_configured`: no GitHub App is configured (GITHUB_APP_ID), GITHUB_TOKEN is used if set.
             * @enum {string}
             */
            status: "installed" | "suspended" | "not_installed" | "unknown" | "not_configured";
        };
        /** @description The last slot of its schedule the scheduler decided: `queued` (its run is `runId`), or `skipped` with the reason (a run still active with `onBusy: skip`, or a run that would wait for its budget or the account's usage limit past the next slot: no run is made). Null before the first slot. */
        WorkerLastSlot: {
            at: string;
            /** @enum {string} */
            outcome: "queued" | "skipped";
            reason: string | null;
            runId: string;
            slot: string;
        } | null;
        WorkerPatch: {
            /** @enum {string} */
            attribution?: "none" | "claude";
            budget?: {
                maxRunsPerDay?: number;
                maxUsdPerDay?: number;
            } | null;
            chain?: {
                /** @default false */
                enabled: boolean;
                /** @default 10 */
                maxRunsPerDay: number;
            } | null;
            ciFixes?: {
                /** @default true */
                enabled: boolean;
                /** @default 2 */
                maxPerDay: number;
            };
            enabled?: boolean;
            github?: {
                /** @default [] */
                allowedBots: string[];
                /** @default nightshift */
                label: string;
                repo: string;
            } | null;
            maxBudgetUsd?: number | null;
            maxDurationMinutes?: number;
            maxTurns?: number | null;
            maxWaits?: number;
            model?: string;
            /** @enum {string} */
            onInterrupt?: "resume" | "lost";
            /** @enum {string} */
            onStall?: "event" | "stop";
            /** @enum {string} */
            onUsageLimit?: "wait" | "fail";
            progressPath?: string;
            prompt?: string;
            repo?: {
                /** @default main */
                branch: string;
                credential?: string;
                /** @default false */
                push: boolean;
                url: string;
            } | null;
            roadmapPath?: string;
            schedule?: {
                cron: string;
                /**
                 * @default skip
                 * @enum {string}
                 */
                onBusy: "skip" | "queue";
                pausedReason?: string;
                /** @default UTC */
                timezone: string;
            } | null;
            stallMinutes?: number;
            tasksPath?: string;
            workdir?: string | null;
        };
        WorkerSpec: {
            /**
             * @default none
             * @enum {string}
             */
            attribution: "none" | "claude";
            budget?: {
                maxRunsPerDay?: number;
                maxUsdPerDay?: number;
            };
            chain?: {
                /** @default false */
                enabled: boolean;
                /** @default 10 */
                maxRunsPerDay: number;
            };
            /**
             * @default {
             *       "enabled": true,
             *       "maxPerDay": 2
             *     }
             */
            ciFixes: {
                /** @default true */
                enabled: boolean;
                /** @default 2 */
                maxPerDay: number;
            };
            /** @default true */
            enabled: boolean;
            github?: {
                /** @default [] */
                allowedBots: string[];
                /** @default nightshift */
                label: string;
                repo: string;
            };
            id: string;
            maxBudgetUsd?: number;
            /** @default 240 */
            maxDurationMinutes: number;
            maxTurns?: number;
            /** @default 3 */
            maxWaits: number;
            /** @default sonnet */
            model: string;
            /**
             * @default resume
             * @enum {string}
             */
            onInterrupt: "resume" | "lost";
            /**
             * @default event
             * @enum {string}
             */
            onStall: "event" | "stop";
            /**
             * @default wait
             * @enum {string}
             */
            onUsageLimit: "wait" | "fail";
            /** @default PROGRESS.md */
            progressPath: string;
            /**
             * @default You are an autonomous engineer working through this project roadmap unattended.
             *     If {{tasksPath}} exists and has unchecked `- [ ]` items, those are the owner's own assignments: do them first, in order, ticking each (`- [x]`) and committing when it is done; then go on with the roadmap.
             *     Read {{roadmapPath}} and find the first milestone that is not COMPLETED.
             *     Do that milestone: implement it, run the tests, and commit after each logical unit of work.
             *     Keep {{progressPath}} up to date: per milestone, what was done, which files changed, how it was tested, and any blockers.
             *     When the milestone is done, mark it COMPLETED in {{roadmapPath}}, tick its checklist items, commit, and stop.
             *     If you are blocked and cannot go on without a person (a decision, a credential, access), write one line starting with `BLOCKED:` and the blocker in {{progressPath}}, commit what you have, end your final message with the same line, and stop.
             */
            prompt: string;
            repo?: {
                /** @default main */
                branch: string;
                credential?: string;
                /** @default false */
                push: boolean;
                url: string;
            };
            /** @default docs/roadmap.md */
            roadmapPath: string;
            schedule?: {
                cron: string;
                /**
                 * @default skip
                 * @enum {string}
                 */
                onBusy: "skip" | "queue";
                pausedReason?: string;
                /** @default UTC */
                timezone: string;
            };
            /** @default 20 */
            stallMinutes: number;
            /** @default docs/TASKS.md */
            tasksPath: string;
            workdir?: string;
        };
        WorkerWithGithubApp: components["schemas"]["Worker"] & {
            githubApp?: components["schemas"]["WorkerGithubApp"];
            lastSlot: components["schemas"]["WorkerLastSlot"];
            today: components["schemas"]["WorkerDaySpend"];
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    getHealth: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The function answers */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        ok: true;
                    };
                };
            };
            /** @description Every instance of the function is busy (Cloud Run, max instances); retry shortly */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    getOpenApiDocument: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The OpenAPI 3.1 document */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Every instance of the function is busy (Cloud Run, max instances); retry shortly */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    listAgents: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every agent that ever sent a heartbeat */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        agents: components["schemas"]["AgentStatus"][];
                    };
                };
            };
            /** @description Unauthorized */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal Server Error */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listNotificationSinks: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every sink, without secrets */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        sinks: components["schemas"]["NotificationSink"][];
                    };
                };
            };
            /** @description Unauthorized */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal Server Error */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    createNotificationSink: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** @description The sink */
        requestBody: {
            content: {
                "application/json": components["schemas"]["NotificationSinkSpec"];
            };
        };
        responses: {
            /** @description The stored sink, with its secret */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreatedNotificationSink"];
                };
            };
            /** @description Bad Request */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unauthorized */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Content Too Large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unsupported Media Type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal Server Error */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getNotificationSink: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The sink, without its secret */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["NotificationSink"];
                };
            };
            /** @description Bad Request */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unauthorized */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Not Found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal Server Error */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    deleteNotificationSink: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Bad Request */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unauthorized */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Not Found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal Server Error */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    updateNotificationSink: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        /** @description The fields to change */
        requestBody: {
            content: {
                "application/json": components["schemas"]["NotificationSinkPatch"];
            };
        };
        responses: {
            /** @description The updated sink */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["NotificationSink"];
                };
            };
            /** @description Bad Request */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unauthorized */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Not Found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Content Too Large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unsupported Media Type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal Server Error */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getDigestSettings: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The digest setting */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DigestSettings"];
                };
            };
            /** @description Unauthorized */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Not Found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal Server Error */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    putDigestSettings: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** @description The digest setting */
        requestBody: {
            content: {
                "application/json": components["schemas"]["DigestSettingsSpec"];
            };
        };
        responses: {
            /** @description The stored setting */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DigestSettings"];
                };
            };
            /** @description Bad Request */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unauthorized */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Content Too Large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unsupported Media Type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal Server Error */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listRuns: {
        parameters: {
            query?: {
                cursor?: string;
                limit?: number;
                status?: "queued" | "waiting" | "starting" | "running" | "succeeded" | "failed" | "cancelled" | "timed_out" | "lost";
                workerId?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One page of runs */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description Pass as `cursor` for the next page; null on the last page */
                        nextCursor: string | null;
                        runs: components["schemas"]["Run"][];
                    };
                };
            };
            /** @description Bad Request */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unauthorized */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal Server Error */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    startRun: {
        parameters: {
            query?: never;
            header?: {
                /** @description Retries with the same key and body return the same run; another body is 409 */
                "idempotency-key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        /** @description Which worker, and overrides of its defaults */
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateRun"];
            };
        };
        responses: {
            /** @description The queued run (or, on a retry with the same Idempotency-Key, the earlier run) */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Run"];
                };
            };
            /** @description Bad Request */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unauthorized */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Not Found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Conflict */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Content Too Large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unsupported Media Type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal Server Error */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Service Unavailable */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getRun: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The run */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Run"];
                };
            };
            /** @description Bad Request */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unauthorized */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Not Found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal Server Error */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    cancelRun: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        /** @description Why */
        requestBody?: {
            content: {
                "application/json": components["schemas"]["CancelRun"];
            };
        };
        responses: {
            /** @description What happened */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /**
                         * @description cancelled: the queued run was cancelled now; cancel_requested: its agent will stop it
                         * @enum {string}
                         */
                        action: "cancelled" | "cancel_requested";
                        run: components["schemas"]["Run"];
                    };
                };
            };
            /** @description Bad Request */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unauthorized */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Not Found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Conflict */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Content Too Large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unsupported Media Type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal Server Error */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listRunEvents: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The events */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        events: components["schemas"]["RunEvent"][];
                    };
                };
            };
            /** @description Bad Request */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unauthorized */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Not Found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal Server Error */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listVms: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every VM the functions may start (NIGHTSHIFT_VMS), in configured order */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        costThisMonthUsd: number | null;
                        vms: components["schemas"]["Vm"][];
                    };
                };
            };
            /** @description Unauthorized */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal Server Error */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listWorkers: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every worker */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        workers: components["schemas"]["Worker"][];
                    };
                };
            };
            /** @description Unauthorized */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal Server Error */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    createWorker: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** @description The worker; omitted fields take their defaults */
        requestBody: {
            content: {
                "application/json": components["schemas"]["WorkerSpec"];
            };
        };
        responses: {
            /** @description The stored worker */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Worker"];
                };
            };
            /** @description Bad Request */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unauthorized */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Conflict */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Content Too Large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unsupported Media Type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal Server Error */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getWorker: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The worker */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WorkerWithGithubApp"];
                };
            };
            /** @description Bad Request */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unauthorized */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Not Found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal Server Error */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    deleteWorker: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Bad Request */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unauthorized */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Not Found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Conflict */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal Server Error */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    updateWorker: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        /** @description The fields to change */
        requestBody: {
            content: {
                "application/json": components["schemas"]["WorkerPatch"];
            };
        };
        responses: {
            /** @description The updated worker */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Worker"];
                };
            };
            /** @description Bad Request */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unauthorized */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Not Found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Conflict */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Content Too Large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unsupported Media Type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Internal Server Error */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
}
