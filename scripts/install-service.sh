#!/usr/bin/env bash
# Install photoguard as a service (run scripts/setup.sh first), as root:
#   - the user and group photoguard (no login),
#   - /usr/local/bin/photoguard,
#   - /etc/photoguard/photoguard.yaml (the commented defaults, if there is none yet),
#   - /var/lib/photoguard (state, 0700) and /srv/photoguard/{inbox,publish} owned by photoguard,
#   - the systemd unit, enabled and started.
# Safe to run again (it keeps an existing configuration and state).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "install-service: run as root" >&2; exit 1; }
[ -x "$repo/bin/photoguard" ] || { echo "install-service: run scripts/setup.sh first" >&2; exit 1; }

getent group photoguard >/dev/null || groupadd --system photoguard
getent passwd photoguard >/dev/null ||
	useradd --system --gid photoguard --home-dir /var/lib/photoguard --shell /usr/sbin/nologin photoguard

install -m 0755 "$repo/bin/photoguard" /usr/local/bin/photoguard
install -d -m 0755 /usr/local/share/doc/photoguard
install -m 0644 "$repo/README.md" /usr/local/share/doc/photoguard/README.md

install -d -m 0750 -o root -g photoguard /etc/photoguard
if [ ! -f /etc/photoguard/photoguard.yaml ]; then
	/usr/local/bin/photoguard config example >/etc/photoguard/photoguard.yaml
	chgrp photoguard /etc/photoguard/photoguard.yaml
	chmod 0640 /etc/photoguard/photoguard.yaml
	echo "install-service: wrote /etc/photoguard/photoguard.yaml (the defaults): check inbox, targets and faces"
fi
install -d -m 0700 -o photoguard -g photoguard /var/lib/photoguard
# The inbox is where the sync client (or Samba share) writes: give that
# client's user the photoguard group, or run the client as photoguard.
install -d -m 0755 -o photoguard -g photoguard /srv/photoguard /srv/photoguard/publish
install -d -m 2770 -o photoguard -g photoguard /srv/photoguard/inbox

/usr/local/bin/photoguard --config /etc/photoguard/photoguard.yaml config check

install -m 0644 "$here/photoguard.service" /etc/systemd/system/photoguard.service
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
	systemctl daemon-reload
	systemctl enable --now photoguard
	systemctl --no-pager status photoguard || true
else
	echo "install-service: no systemd here; start it with: runuser -u photoguard -- /usr/local/bin/photoguard run --config /etc/photoguard/photoguard.yaml"
fi
echo "install-service: done. Run the coordinator's commands as the service user, e.g."
echo "  runuser -u photoguard -- photoguard --config /etc/photoguard/photoguard.yaml consent import export.csv"
