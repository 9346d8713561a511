#!/usr/bin/env bash
# Installs the nightshift agent on a Debian VM: Node, tmux, git, a "nightshift" user, the code and the systemd unit.
# Usage (as root, from a checkout of the repository): agent/install.sh [project-id]
set -euo pipefail

PROJECT="${1:-${GOOGLE_CLOUD_PROJECT:-}}"
APP_DIR=/opt/nightshift
USER_NAME=nightshift
HOME_DIR=/home/$USER_NAME
STATE_DIR=/var/lib/nightshift
ENV_FILE=/etc/nightshift/agent.env
SRC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (sudo agent/install.sh)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q ca-certificates curl git tmux
if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 22 ]; then
  curl -fsSL https://deb.nodesource.com/setup_22.x | bash -
  apt-get install -y -q nodejs
fi

# The worker command: Claude Code, installed for everyone; the nightshift user logs in once (see README).
if ! command -v claude >/dev/null; then
  npm install -g @anthropic-ai/claude-code
fi

if ! id "$USER_NAME" >/dev/null 2>&1; then
  useradd --create-home --home-dir "$HOME_DIR" --shell /bin/bash "$USER_NAME"
fi
install -d -o "$USER_NAME" -g "$USER_NAME" -m 0750 "$STATE_DIR"

# The code: shared and agent, with the agent's dependencies and the root's tools (tsx runs the TypeScript).
install -d "$APP_DIR"
cp -a "$SRC_DIR/package.json" "$SRC_DIR/package-lock.json" "$APP_DIR/"
rm -rf "$APP_DIR/shared" "$APP_DIR/agent"
cp -a "$SRC_DIR/shared" "$SRC_DIR/agent" "$APP_DIR/"
for ws in functions cli; do
  install -d "$APP_DIR/$ws"
  cp -a "$SRC_DIR/$ws/package.json" "$APP_DIR/$ws/"
done
(cd "$APP_DIR" && npm ci --workspace @nightshift/agent --include-workspace-root)
chown -R root:root "$APP_DIR"

install -d -m 0755 /etc/nightshift
if [ ! -f "$ENV_FILE" ]; then
  cat >"$ENV_FILE" <<ENV
GOOGLE_CLOUD_PROJECT=$PROJECT
NIGHTSHIFT_HOME=$STATE_DIR
NIGHTSHIFT_WORKER_COMMAND=claude
NIGHTSHIFT_MAX_WORKERS=2
ENV
  chmod 0640 "$ENV_FILE"
  chgrp "$USER_NAME" "$ENV_FILE"
fi

install -m 0644 "$SRC_DIR/agent/systemd/nightshift-agent.service" /etc/systemd/system/nightshift-agent.service
systemctl daemon-reload
systemctl enable --now nightshift-agent.service
echo "nightshift agent installed. Logs: journalctl -u nightshift-agent -f"
echo "Watch a run: sudo -u $USER_NAME tmux -L nightshift ls; sudo -u $USER_NAME tmux -L nightshift attach -t <session>"
if [ -z "$PROJECT" ]; then
  echo "Set GOOGLE_CLOUD_PROJECT in $ENV_FILE, then: systemctl restart nightshift-agent" >&2
fi
