#!/usr/bin/env bash
# The one installer of the agent on a Debian 12 VM (from a checkout, or by the VM's startup script from the bundle).
#
# Usage, as root:
#   agent/install.sh [--project ID] [--agent-id ID] [--max-workers N] [--idle-minutes N]
#                    [--credential-file FILE] [--bundle DIR] [--root DIR]
#   agent/install.sh <project-id>             (the same as --project)
#
# It installs Node 22, git, tmux and the Claude Code CLI, a "nightshift" user (workers never run as root),
# the bundled agent (dist/agent, from `npm run build`) in /opt/nightshift/agent, its settings in
# /etc/nightshift, and two systemd units: nightshift-workers (the tmux server that holds every run, with
# the Claude credential) and nightshift-agent (the daemon, which starts runs in that server).
#
# --root DIR installs the files under DIR instead of / and skips what needs the real system (packages,
# the user, npm, systemctl): the tests use it. Running it again updates the agent; runs keep running.
set -euo pipefail

PROJECT="${GOOGLE_CLOUD_PROJECT:-}"
AGENT_ID=""
MAX_WORKERS=2
IDLE_MINUTES=15
CREDENTIAL_FILE=""
BUNDLE=""
ROOT=""
USER_NAME=nightshift

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
  --bundle) BUNDLE="${2:?--bundle needs a value}" && shift 2 ;;
  --root) ROOT="${2:?--root needs a value}" && shift 2 ;;
  -h | --help) sed -n '2,17p' "$0" && exit 0 ;;
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

SYSTEM=true
if [ -n "$ROOT" ]; then
  SYSTEM=false
  ROOT="$(cd "$ROOT" && pwd)"
elif [ "$(id -u)" -ne 0 ]; then
  die "run as root (sudo $0 ...)"
fi

APP_DIR="$ROOT/opt/nightshift/agent"
ETC_DIR="$ROOT/etc/nightshift"
STATE_DIR="$ROOT/var/lib/nightshift"
UNIT_DIR="$ROOT/etc/systemd/system"
HOME_DIR="$ROOT/home/$USER_NAME"

# Packages: git and tmux for the agent, Node 22 from NodeSource, Claude Code for everyone.
install_packages() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q ca-certificates curl git tmux
  if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 22 ]; then
    curl -fsSL https://deb.nodesource.com/setup_22.x | bash -
    apt-get install -y -q nodejs
  fi
  # The worker command. Updated on every install, like the agent.
  npm install -g --no-audit --no-fund @anthropic-ai/claude-code
}

create_user() {
  if ! id "$USER_NAME" >/dev/null 2>&1; then
    useradd --create-home --home-dir "/home/$USER_NAME" --shell /bin/bash "$USER_NAME"
  fi
}

# owner USER:GROUP MODE PATH: ownership only on the real system (in --root the user does not exist).
own() {
  chmod "$2" "$3"
  if $SYSTEM; then chown "$1" "$3"; fi
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
  install -d -m 0750 "$STATE_DIR"
  own "$USER_NAME:$USER_NAME" 0750 "$STATE_DIR"
  install -d -m 0750 "$HOME_DIR"
  own "$USER_NAME:$USER_NAME" 0750 "$HOME_DIR"
  # The agent's settings (the names of shared/src/config.ts), rewritten on every install.
  local agent_env="$ETC_DIR/agent.env"
  {
    echo "# Written by install.sh; run it again rather than editing this file."
    echo "GOOGLE_CLOUD_PROJECT=$PROJECT"
    echo "NIGHTSHIFT_HOME=/var/lib/nightshift"
    echo "NIGHTSHIFT_WORKER_COMMAND=claude"
    echo "NIGHTSHIFT_MAX_WORKERS=$MAX_WORKERS"
    echo "NIGHTSHIFT_IDLE_MINUTES=$IDLE_MINUTES"
    if [ -n "$AGENT_ID" ]; then echo "NIGHTSHIFT_AGENT_ID=$AGENT_ID"; fi
  } >"$agent_env.tmp"
  own "root:$USER_NAME" 0640 "$agent_env.tmp"
  mv "$agent_env.tmp" "$agent_env"
  # The workers' environment: the Claude credential, readable by root and the nightshift group only.
  # Kept as it is when no credential file is given (an install from a checkout after a login by hand).
  local workers_env="$ETC_DIR/workers.env"
  if [ -n "$CREDENTIAL_FILE" ] || [ ! -f "$workers_env" ]; then
    {
      echo "# Written by install.sh: the Claude credential of every worker."
      if [ -n "$CREDENTIAL_FILE" ]; then grep -E '^(ANTHROPIC_API_KEY|CLAUDE_CODE_OAUTH_TOKEN)=' "$CREDENTIAL_FILE" || true; fi
    } >"$workers_env.tmp"
    own "root:$USER_NAME" 0640 "$workers_env.tmp"
    mv "$workers_env.tmp" "$workers_env"
  fi
}

# Workers commit as this identity until you give the nightshift user your own (git config --global):
# a fresh VM has none, and git refuses to commit without one.
git_identity() {
  local gitconfig="$HOME_DIR/.gitconfig"
  [ -f "$gitconfig" ] && return 0
  printf '[user]\n\tname = nightshift\n\temail = nightshift@%s.invalid\n' "${AGENT_ID:-$(hostname)}" >"$gitconfig"
  own "$USER_NAME:$USER_NAME" 0644 "$gitconfig"
}

install_units() {
  install -d -m 0755 "$UNIT_DIR"
  for unit in nightshift-workers.service nightshift-agent.service; do
    install -m 0644 "$APP_DIR/systemd/$unit" "$UNIT_DIR/$unit"
  done
}

# A running workers' server gets a new credential without a restart: new runs see it, running ones keep theirs.
refresh_credential() {
  local name value
  for name in ANTHROPIC_API_KEY CLAUDE_CODE_OAUTH_TOKEN; do
    value="$(sed -n "s/^$name=//p" "$ETC_DIR/workers.env" | head -n 1)"
    if [ -n "$value" ]; then
      runuser -u "$USER_NAME" -- tmux -L nightshift set-environment -g "$name" "$value"
    else
      runuser -u "$USER_NAME" -- tmux -L nightshift set-environment -g -u "$name" 2>/dev/null || true
    fi
  done
}

start_units() {
  systemctl daemon-reload
  # The workers' tmux server starts once and stays: re-installing never restarts it, so runs live on.
  systemctl enable --now nightshift-workers.service
  refresh_credential
  systemctl enable nightshift-agent.service
  # The agent restarts on the new code and adopts the runs still in tmux.
  systemctl restart nightshift-agent.service
}

if $SYSTEM; then
  install_packages
  create_user
fi
install_agent
write_settings
git_identity
install_units
if $SYSTEM; then
  start_units
  echo "nightshift agent installed. Logs: journalctl -u nightshift-agent -u nightshift-workers -f"
  echo "Watch a run: sudo -u $USER_NAME tmux -L nightshift attach   (Ctrl-b s lists the runs)"
  if ! grep -qE '^(ANTHROPIC_API_KEY|CLAUDE_CODE_OAUTH_TOKEN)=' "$ETC_DIR/workers.env"; then
    echo "No Claude credential yet: put ANTHROPIC_API_KEY=... or CLAUDE_CODE_OAUTH_TOKEN=... in $ETC_DIR/workers.env" >&2
    echo "(or pass --credential-file and run this again)" >&2
  fi
else
  echo "installed under $ROOT (no packages, user or systemctl in --root mode)"
fi
