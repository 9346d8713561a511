#!/usr/bin/env bash
# The one installer of the agent on a Debian 12 VM (from a checkout, or by the VM's startup script from the bundle).
#
# Usage, as root:
#   agent/install.sh [--project ID] [--agent-id ID] [--max-workers N] [--idle-minutes N]
#                    [--credential-file FILE] [--agent-setting NAME=VALUE]... [--bundle DIR]
#                    [--root DIR [--owners AGENT:WORKER]]
#   agent/install.sh <project-id>             (the same as --project)
#
# It installs Node 22, git, tmux, nftables and the Claude Code CLI, two users (the agent's "nightshift"
# and the workers' "nightshift-worker", never root: agent/PROTOCOL.md, Worker isolation), the bundled
# agent (dist/agent, from `npm run build`) in /opt/nightshift/agent, its settings in /etc/nightshift,
# and three systemd units: nightshift-firewall (no metadata server for the worker user),
# nightshift-workers (the tmux server that holds every run, as the worker user, with the Claude
# credential) and nightshift-agent (the daemon, which starts runs in that server).
#
# --root DIR installs the files under DIR instead of / and skips what needs the real system (packages,
# the users, ownership, npm, nft, systemctl): the tests use it. With --owners, --root still gives the
# files to two existing users in place of nightshift and nightshift-worker, so a test can check who may
# read what. Running it again updates the agent; runs keep running.
#
# --agent-setting NAME=VALUE (repeatable) adds one of the agent's git credential settings to agent.env:
# NIGHTSHIFT_GIT_TOKEN, NIGHTSHIFT_GIT_TOKENS, NIGHTSHIFT_GIT_USERNAME, GITHUB_APP_ID,
# GITHUB_APP_PRIVATE_KEY, GITHUB_API_URL (a value, or sm://SECRET for Secret Manager: README, Private
# repositories). agent.env is readable by root and the agent's group only, never by the workers.
set -euo pipefail

PROJECT="${GOOGLE_CLOUD_PROJECT:-}"
AGENT_ID=""
MAX_WORKERS=2
IDLE_MINUTES=15
CREDENTIAL_FILE=""
BUNDLE=""
ROOT=""
OWNERS=""
AGENT_SETTINGS=()
USER_NAME=nightshift
# The workers' user: every run's session runs as it. Its group is the one the agent shares run
# directories and workspaces through.
WORKER_USER=nightshift-worker
# The workers' tmux server (nightshift-workers.service), which the agent reaches by this path.
TMUX_SOCKET_PATH=/run/nightshift/tmux.sock

die() {
  echo "install.sh: $*" >&2
  exit 1
}

while [ $# -gt 0 ]; do
  case "$1" in
  --project) PROJECT="${2:?--project needs a value}" && shift 2 ;;
  --agent-id) AGENT_ID="${2:?--agent-id needs a value}" && shift 2 ;;
  --max-workers) MAX_WORKERS="${2:?--max-workers needs a value}" && shift 2 ;;
  --idle-minutes) IDLE_MINUTES="${2:?--idle-minutes needs a value}" && shift 2 ;;
  --credential-file) CREDENTIAL_FILE="${2:?--credential-file needs a value}" && shift 2 ;;
  --agent-setting) AGENT_SETTINGS+=("${2:?--agent-setting needs NAME=VALUE}") && shift 2 ;;
  --bundle) BUNDLE="${2:?--bundle needs a value}" && shift 2 ;;
  --root) ROOT="${2:?--root needs a value}" && shift 2 ;;
  --owners) OWNERS="${2:?--owners needs a value}" && shift 2 ;;
  -h | --help) sed -n '2,21p' "$0" && exit 0 ;;
  -*) die "unknown option $1 (see --help)" ;;
  *) PROJECT="$1" && shift ;;
  esac
done

# The bundle: this script's own folder when it runs from dist/agent (the VM), else the checkout's build.
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ -z "$BUNDLE" ]; then
  if [ -f "$HERE/main.js" ]; then BUNDLE="$HERE"; else BUNDLE="$HERE/../dist/agent"; fi
fi
[ -f "$BUNDLE/main.js" ] || die "no agent bundle at $BUNDLE: run npm run build in the repository first"
BUNDLE="$(cd "$BUNDLE" && pwd)"

[[ "$PROJECT" =~ ^[a-z][a-z0-9-]{4,28}[a-z0-9]$ ]] || die "--project must be a Google Cloud project id (got \"$PROJECT\")"
if ! [[ "$MAX_WORKERS" =~ ^[0-9]+$ ]] || [ "$MAX_WORKERS" -lt 1 ] || [ "$MAX_WORKERS" -gt 64 ]; then
  die "--max-workers must be a whole number from 1 to 64"
fi
[[ "$IDLE_MINUTES" =~ ^[0-9]+$ ]] || die "--idle-minutes must be a whole number"
[ -z "$AGENT_ID" ] || [[ "$AGENT_ID" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$ ]] ||
  die "--agent-id must be letters, digits, dots, dashes or underscores"
if [ -n "$CREDENTIAL_FILE" ]; then
  [ -r "$CREDENTIAL_FILE" ] || die "cannot read --credential-file $CREDENTIAL_FILE"
  # Only the two variables Claude Code logs in with; anything else would reach every worker's environment.
  if grep -qvE '^(ANTHROPIC_API_KEY|CLAUDE_CODE_OAUTH_TOKEN)=[^[:space:]]+$|^$' "$CREDENTIAL_FILE"; then
    die "--credential-file must hold one line ANTHROPIC_API_KEY=... or CLAUDE_CODE_OAUTH_TOKEN=..."
  fi
fi

# Only the git credential settings, each on one line; written single-quoted, which systemd reads literally.
SETTING_RE="^(NIGHTSHIFT_GIT_TOKENS?|NIGHTSHIFT_GIT_USERNAME|GITHUB_APP_ID|GITHUB_APP_PRIVATE_KEY|GITHUB_API_URL)=[^'"$'\n'"]+\$"
for setting in "${AGENT_SETTINGS[@]}"; do
  [[ "$setting" =~ $SETTING_RE ]] ||
    die "--agent-setting takes NAME=VALUE for NIGHTSHIFT_GIT_TOKEN, NIGHTSHIFT_GIT_TOKENS, NIGHTSHIFT_GIT_USERNAME, GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY or GITHUB_API_URL, on one line without a single quote (a PEM key: sm://SECRET); got ${setting%%=*}"
done

SYSTEM=true
if [ -n "$ROOT" ]; then
  SYSTEM=false
  ROOT="$(cd "$ROOT" && pwd)"
elif [ "$(id -u)" -ne 0 ]; then
  die "run as root (sudo $0 ...)"
fi
# Whether files get their owners: always on the system, in --root only with --owners.
CHOWN=$SYSTEM
if [ -n "$OWNERS" ]; then
  [ -n "$ROOT" ] || die "--owners goes with --root"
  USER_NAME="${OWNERS%%:*}"
  WORKER_USER="${OWNERS#*:}"
  if ! id "$USER_NAME" >/dev/null 2>&1 || ! id "$WORKER_USER" >/dev/null 2>&1; then
    die "--owners must name two existing users, AGENT:WORKER"
  fi
  CHOWN=true
fi

APP_DIR="$ROOT/opt/nightshift/agent"
ETC_DIR="$ROOT/etc/nightshift"
STATE_DIR="$ROOT/var/lib/nightshift"
UNIT_DIR="$ROOT/etc/systemd/system"
HOME_DIR="$ROOT/home/$USER_NAME"
WORKER_HOME="$ROOT/home/$WORKER_USER"

# Packages: git and tmux for the agent, Node 22 from NodeSource, Claude Code for everyone.
install_packages() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q ca-certificates curl git tmux nftables
  if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 22 ]; then
    curl -fsSL https://deb.nodesource.com/setup_22.x | bash -
    apt-get install -y -q nodejs
  fi
  # The worker command. Updated on every install, like the agent.
  npm install -g --no-audit --no-fund @anthropic-ai/claude-code
}

create_users() {
  if ! id "$USER_NAME" >/dev/null 2>&1; then
    useradd --create-home --home-dir "/home/$USER_NAME" --shell /bin/bash --user-group "$USER_NAME"
  fi
  if ! id "$WORKER_USER" >/dev/null 2>&1; then
    useradd --create-home --home-dir "/home/$WORKER_USER" --shell /bin/bash --user-group "$WORKER_USER"
  fi
  # The agent reaches the workers' tmux socket and shares the runs' folders through the worker's group;
  # the worker user is in no group of the agent's.
  usermod --append --groups "$WORKER_USER" "$USER_NAME"
}

# owner USER:GROUP MODE PATH: ownership on the real system, and in --root only with --owners (the
# users do not exist there otherwise).
# chown first: it would clear a setgid bit set before it.
own() {
  if $CHOWN; then chown "$1" "$3"; fi
  chmod "$2" "$3"
}

# The agent's home (NIGHTSHIFT_HOME): the worker user may pass through it (0710, its group) to the two
# folders it shares, never list it. runs/ and workspaces/ are the shared group's, setgid, so every run
# directory and clone in them is too; both units' umask 0007 keeps what either user makes writable by
# the other. A folder from before the worker user existed is handed over to the group once.
shared_dirs() {
  install -d "$STATE_DIR"
  own "$USER_NAME:$WORKER_USER" 0710 "$STATE_DIR"
  local sub
  for sub in runs workspaces; do
    install -d "$STATE_DIR/$sub"
    if $CHOWN && [ "$(stat -c %G "$STATE_DIR/$sub")" != "$WORKER_USER" ]; then
      chgrp -R "$WORKER_USER" "$STATE_DIR/$sub"
      chmod -R g+rwX "$STATE_DIR/$sub"
      find "$STATE_DIR/$sub" -type d -exec chmod g+s {} +
    fi
    own "$USER_NAME:$WORKER_USER" 2770 "$STATE_DIR/$sub"
  done
}

install_agent() {
  install -d -m 0755 "$ROOT/opt/nightshift"
  # A fresh copy next to the old one, swapped in at the end: a running agent keeps reading its own files.
  local next="$APP_DIR.next"
  rm -rf "$next"
  install -d -m 0755 "$next"
  cp -R "$BUNDLE/." "$next/"
  rm -rf "$next/node_modules"
  if $SYSTEM; then
    # Only the packages the bundle keeps external (the Google clients): the tree its lock pins.
    (cd "$next" && npm ci --omit=dev --no-audit --no-fund)
    chown -R root:root "$next"
  fi
  chmod -R u=rwX,go=rX "$next"
  chmod 0755 "$next/install.sh" "$next/runner/runner.mjs"
  rm -rf "$APP_DIR.old"
  if [ -d "$APP_DIR" ]; then mv "$APP_DIR" "$APP_DIR.old"; fi
  mv "$next" "$APP_DIR"
  rm -rf "$APP_DIR.old"
}

write_settings() {
  install -d -m 0755 "$ETC_DIR"
  shared_dirs
  install -d -m 0750 "$HOME_DIR"
  own "$USER_NAME:$USER_NAME" 0750 "$HOME_DIR"
  # The worker user's own home (Claude Code's settings, npm's cache): the agent has no need of it.
  install -d -m 0700 "$WORKER_HOME"
  own "$WORKER_USER:$WORKER_USER" 0700 "$WORKER_HOME"
  # The agent's settings (the names of shared/src/config.ts), rewritten on every install.
  local agent_env="$ETC_DIR/agent.env"
  {
    echo "# Written by install.sh; run it again rather than editing this file."
    echo "GOOGLE_CLOUD_PROJECT=$PROJECT"
    echo "NIGHTSHIFT_HOME=/var/lib/nightshift"
    echo "NIGHTSHIFT_TMUX_SOCKET=$TMUX_SOCKET_PATH"
    echo "NIGHTSHIFT_WORKER_COMMAND=claude"
    echo "NIGHTSHIFT_MAX_WORKERS=$MAX_WORKERS"
    echo "NIGHTSHIFT_IDLE_MINUTES=$IDLE_MINUTES"
    if [ -n "$AGENT_ID" ]; then echo "NIGHTSHIFT_AGENT_ID=$AGENT_ID"; fi
    for setting in "${AGENT_SETTINGS[@]}"; do echo "${setting%%=*}='${setting#*=}'"; done
  } >"$agent_env.tmp"
  own "root:$USER_NAME" 0640 "$agent_env.tmp"
  mv "$agent_env.tmp" "$agent_env"
  # The workers' environment: the Claude credential, readable by root only (systemd reads it as root
  # for the workers' unit; the agent never needs it). Kept as it is when no credential file is given
  # (an install from a checkout after a login by hand).
  local workers_env="$ETC_DIR/workers.env"
  if [ -n "$CREDENTIAL_FILE" ] || [ ! -f "$workers_env" ]; then
    {
      echo "# Written by install.sh: the Claude credential of every worker."
      if [ -n "$CREDENTIAL_FILE" ]; then grep -E '^(ANTHROPIC_API_KEY|CLAUDE_CODE_OAUTH_TOKEN)=' "$CREDENTIAL_FILE" || true; fi
    } >"$workers_env.tmp"
    own "root:root" 0600 "$workers_env.tmp"
    mv "$workers_env.tmp" "$workers_env"
  fi
  # An older install left it readable by the agent's group.
  own "root:root" 0600 "$workers_env"
}

# Both users commit as this identity until you give them your own (git config --global): a fresh VM has
# none, and git refuses to commit without one.
git_identity() {
  local gitconfig="$HOME_DIR/.gitconfig" worker_gitconfig="$WORKER_HOME/.gitconfig"
  local email="nightshift@${AGENT_ID:-$(hostname)}.invalid"
  if [ ! -f "$gitconfig" ]; then
    printf '[user]\n\tname = nightshift\n\temail = %s\n' "$email" >"$gitconfig"
    own "$USER_NAME:$USER_NAME" 0644 "$gitconfig"
  fi
  if [ ! -f "$worker_gitconfig" ]; then
    # The workspaces are clones the agent made: without safe.directory, git refuses to work in a
    # repository another user owns ("dubious ownership"). Git 2.39 (Debian 12) knows no path pattern.
    printf '[user]\n\tname = nightshift\n\temail = %s\n[safe]\n\tdirectory = *\n' "$email" >"$worker_gitconfig"
    own "$WORKER_USER:$WORKER_USER" 0644 "$worker_gitconfig"
  fi
}

install_units() {
  install -d -m 0755 "$UNIT_DIR"
  for unit in nightshift-firewall.service nightshift-workers.service nightshift-agent.service; do
    install -m 0644 "$APP_DIR/systemd/$unit" "$UNIT_DIR/$unit"
  done
  install -m 0644 "$APP_DIR/systemd/workers.nft" "$ETC_DIR/workers.nft"
}

# A running workers' server gets a new credential without a restart: new runs see it, running ones keep theirs.
refresh_credential() {
  local name value
  for name in ANTHROPIC_API_KEY CLAUDE_CODE_OAUTH_TOKEN; do
    value="$(sed -n "s/^$name=//p" "$ETC_DIR/workers.env" | head -n 1)"
    if [ -n "$value" ]; then
      runuser -u "$WORKER_USER" -- tmux -S "$TMUX_SOCKET_PATH" set-environment -g "$name" "$value"
    else
      runuser -u "$WORKER_USER" -- tmux -S "$TMUX_SOCKET_PATH" set-environment -g -u "$name" 2>/dev/null || true
    fi
  done
}

start_units() {
  systemctl daemon-reload
  # The rules are loaded again on every install: a reload when they are in place (the file replaces its
  # own table in one transaction, so running workers are never without it), else a start.
  systemctl enable nightshift-firewall.service
  systemctl reload-or-restart nightshift-firewall.service
  # The workers' tmux server starts once and stays: re-installing never restarts it, so runs live on.
  # Once only, a server from before the worker user (the agent's user, on `tmux -L nightshift`) is
  # replaced: the agent cannot reach it, and its runs end (recorded as lost by the agent).
  if systemctl is-active --quiet nightshift-workers.service && [ ! -S "$TMUX_SOCKET_PATH" ]; then
    echo "install.sh: restarting nightshift-workers: its tmux server predates the worker user" >&2
    systemctl restart nightshift-workers.service
  fi
  systemctl enable --now nightshift-workers.service
  refresh_credential
  systemctl enable nightshift-agent.service
  # The agent restarts on the new code and adopts the runs still in tmux.
  systemctl restart nightshift-agent.service
}

if $SYSTEM; then
  install_packages
  create_users
fi
install_agent
write_settings
git_identity
install_units
if $SYSTEM; then
  start_units
  echo "nightshift agent installed. Logs: journalctl -u nightshift-agent -u nightshift-workers -f"
  echo "Watch a run: sudo -u $WORKER_USER tmux -S $TMUX_SOCKET_PATH attach   (Ctrl-b s lists the runs)"
  if ! grep -qE '^(ANTHROPIC_API_KEY|CLAUDE_CODE_OAUTH_TOKEN)=' "$ETC_DIR/workers.env"; then
    echo "No Claude credential yet: put ANTHROPIC_API_KEY=... or CLAUDE_CODE_OAUTH_TOKEN=... in $ETC_DIR/workers.env" >&2
    echo "(or pass --credential-file and run this again)" >&2
  fi
else
  echo "installed under $ROOT (no packages, users, ownership, nft or systemctl in --root mode)"
fi
