#!/usr/bin/env bash
# Bring up Debian's WordPress (package `wordpress`) for tests, without systemd,
# Apache or the system's MariaDB: a private mariadbd (socket only, no TCP) and
# `php -S` on 127.0.0.1, everything in STATE_DIR.
#
#   scripts/wordpress-server.sh start STATE_DIR   # install (first time) and start;
#                                                 # prints and writes STATE_DIR/server.env
#   scripts/wordpress-server.sh stop STATE_DIR    # stop both servers (the files stay)
#
# STATE_DIR/server.env (shell syntax, also read by the Go tests):
#   WP_URL=http://127.0.0.1:PORT        the site (REST API under /wp-json/)
#   WP_USERS="admin author reader"      one user per role: administrator, author, subscriber
#   WP_PASSWORD_DIR=STATE_DIR           <user>.apppw holds that user's application password
#
# What it writes, all inside STATE_DIR (made 0700): db/ (MariaDB datadir),
# mysql.sock, www/ (a docroot of symlinks into /usr/share/wordpress plus its own
# wp-config.php and wp-content/ with uploads/), prepend.php, *.apppw, *.pid,
# *.log, server.env. Nothing outside it: Debian's /usr/share/wordpress/wp-config.php
# only reads /etc/wordpress/config-<host>.php, so instead the docroot has its own
# wp-config.php and php's auto_prepend_file defines ABSPATH to that docroot
# (files under wp-admin/ resolve their symlinks and would otherwise load
# Debian's wp-config.php). /etc/wordpress and /var/lib/wordpress are not touched.
#
# The site is for tests only: WP_ENVIRONMENT_TYPE=local (application passwords
# over plain http), DISABLE_WP_CRON (php -S would stall on WordPress's request
# to its own wp-cron.php), PHP_CLI_SERVER_WORKERS=4, and ALLOW_UNFILTERED_UPLOADS
# so that the administrator may upload bytes that are not a real JPEG (the
# target conformance suite does; the author and reader users keep WordPress's
# normal file-type checks).
#
# Needs: mariadb-server, wordpress, php-cli, php-mysql, curl.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
say() { printf '%s\n' "wordpress-server: $*" >&2; }
die() { printf '%s\n' "wordpress-server: error: $*" >&2; exit 1; }

wp_src=/usr/share/wordpress

usage() { die "usage: $0 start|stop STATE_DIR"; }
[ $# -eq 2 ] || usage
cmd=$1
mkdir -p "$2"
state=$(cd "$2" && pwd)
sock=$state/mysql.sock
[ ${#sock} -lt 100 ] || die "state folder path too long for a unix socket: $sock"

os_user=$(id -un)

# stop_pid NAME: end the process group started under NAME (its pid file).
stop_pid() {
	local f=$state/$1.pid pid i
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
		for i in $(seq 1 150); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		if kill -0 "$pid" 2>/dev/null; then
			say "$1 (pid $pid) did not stop in 30 s; killing it"
			kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$f"
}

if [ "$cmd" = stop ]; then
	stop_pid php
	stop_pid mariadbd
	say "stopped ($state)"
	exit 0
fi
[ "$cmd" = start ] || usage

for bin in /usr/sbin/mariadbd mariadb-install-db mariadb mariadb-admin php curl; do
	command -v "$bin" >/dev/null || die "$bin not found (apt-get install mariadb-server php-cli php-mysql wordpress curl)"
done
[ -f "$wp_src/wp-settings.php" ] || die "$wp_src/wp-settings.php not found (apt-get install wordpress)"
php -r 'exit(extension_loaded("mysqli") ? 0 : 1);' || die "php has no mysqli (apt-get install php-mysql)"

chmod 0700 "$state"
umask 077
t0=$(date +%s.%N)
elapsed() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }
random_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }

# A second start on a running state folder stops the old servers first.
stop_pid php
stop_pid mariadbd

# --- 1. MariaDB ---------------------------------------------------------------
first=no
if [ ! -d "$state/db/mysql" ]; then
	first=yes
	rm -rf "$state/db"
	mariadb-install-db --no-defaults --datadir="$state/db" --user="$os_user" \
		--auth-root-authentication-method=socket --skip-test-db --skip-name-resolve \
		>"$state/install-db.log" 2>&1 || die "mariadb-install-db failed; see $state/install-db.log"
fi
rm -f "$sock"
# No job control here, so the background job is not a group leader and setsid
# does not fork: $! is mariadbd's pid and its process group.
setsid /usr/sbin/mariadbd --no-defaults --datadir="$state/db" --socket="$sock" \
	--skip-networking --pid-file="$state/db/mariadbd.pid" --log-error="$state/mariadbd.log" \
	--user="$os_user" --skip-name-resolve --skip-log-bin --innodb-buffer-pool-size=32M \
	--innodb-log-file-size=16M --tmpdir="$state" </dev/null >/dev/null 2>&1 &
echo $! >"$state/mariadbd.pid"
for i in $(seq 1 300); do
	mariadb-admin --no-defaults --socket="$sock" -u "$os_user" ping >/dev/null 2>&1 && break
	kill -0 "$(cat "$state/mariadbd.pid")" 2>/dev/null || die "mariadbd exited; see $state/mariadbd.log"
	sleep 0.2
done
mariadb-admin --no-defaults --socket="$sock" -u "$os_user" ping >/dev/null 2>&1 ||
	die "mariadbd did not answer in 60 s; see $state/mariadbd.log"
say "mariadbd up after $(elapsed) s"

if [ ! -f "$state/db.password" ]; then
	random_hex 16 >"$state/db.password"
fi
dbpw=$(cat "$state/db.password")
mariadb --no-defaults --socket="$sock" -u "$os_user" <<SQL
CREATE DATABASE IF NOT EXISTS wordpress CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'wp'@'localhost' IDENTIFIED BY '$dbpw';
GRANT ALL PRIVILEGES ON wordpress.* TO 'wp'@'localhost';
SQL

# --- 2. Docroot ---------------------------------------------------------------
www=$state/www
mkdir -p "$www/wp-content/uploads"
for f in "$wp_src"/* ; do
	b=$(basename "$f")
	case "$b" in wp-config.php | wp-content) continue ;; esac
	ln -sfn "$f" "$www/$b"
done
for d in themes plugins languages; do
	ln -sfn "$wp_src/wp-content/$d" "$www/wp-content/$d"
done
chmod 0755 "$state" "$www" "$www/wp-content" "$www/wp-content/uploads"

free_port() {
	php -r '$s = stream_socket_server("tcp://127.0.0.1:0"); $n = stream_socket_get_name($s, false); echo substr($n, strrpos($n, ":") + 1);'
}

if [ ! -f "$state/salts.php" ]; then
	{
		echo '<?php'
		for k in AUTH_KEY SECURE_AUTH_KEY LOGGED_IN_KEY NONCE_KEY AUTH_SALT SECURE_AUTH_SALT LOGGED_IN_SALT NONCE_SALT; do
			echo "define('$k', '$(random_hex 32)');"
		done
	} >"$state/salts.php"
fi
# write_config URL: the site's wp-config.php (the address is in it).
write_config() {
	local url=$1
	cat >"$www/wp-config.php.tmp" <<PHP
<?php
// Written by scripts/wordpress-server.sh: a private test site.
define('DB_NAME', 'wordpress');
define('DB_USER', 'wp');
define('DB_PASSWORD', '$dbpw');
define('DB_HOST', 'localhost:$sock');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
require '$state/salts.php';
\$table_prefix = 'wp_';
define('WP_HOME', '$url');
define('WP_SITEURL', '$url');
define('WP_CONTENT_DIR', '$www/wp-content');
define('WP_CONTENT_URL', '$url/wp-content');
define('WP_ENVIRONMENT_TYPE', 'local');
define('DISABLE_WP_CRON', true);
define('ALLOW_UNFILTERED_UPLOADS', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_AUTO_UPDATE_CORE', false);
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('FS_METHOD', 'direct');
define('WP_DEBUG', false);
require_once ABSPATH . 'wp-settings.php';
PHP
	mv -f "$www/wp-config.php.tmp" "$www/wp-config.php"
	chmod 0600 "$www/wp-config.php" "$state/salts.php"
}
port=$(free_port)
url=http://127.0.0.1:$port
write_config "$url"
cat >"$state/prepend.php" <<PHP
<?php
if (!defined('ABSPATH')) {
	define('ABSPATH', '$www/');
}
PHP

php_opts=(-d "auto_prepend_file=$state/prepend.php" -d display_errors=0 -d log_errors=1
	-d "error_log=$state/php-errors.log" -d memory_limit=256M
	-d post_max_size=64M -d upload_max_filesize=64M -d max_execution_time=120)

# --- 3. Install ---------------------------------------------------------------
php "${php_opts[@]}" "$here/wordpress/setup-site.php" "$state" "$url" >"$state/setup-site.log" 2>&1 ||
	die "installing the site failed; see $state/setup-site.log and $state/php-errors.log"
say "site installed (first time: $first) after $(elapsed) s"

# --- 4. php -S ----------------------------------------------------------------
# The port was free a moment ago; if another program took it since, php -S
# exits and another port is tried.
up=no
for attempt in 1 2 3; do
	if [ "$attempt" -gt 1 ]; then
		port=$(free_port)
		url=http://127.0.0.1:$port
		write_config "$url"
	fi
	PHP_CLI_SERVER_WORKERS=4 setsid php "${php_opts[@]}" -S "127.0.0.1:$port" -t "$www" \
		</dev/null >"$state/php-server.log" 2>&1 &
	echo $! >"$state/php.pid"
	for i in $(seq 1 300); do
		# Alive first: an answer from a program that took the port is not ours.
		kill -0 "$(cat "$state/php.pid")" 2>/dev/null || break
		if curl -fsS -o /dev/null -m 5 "$url/wp-json/" 2>/dev/null; then
			kill -0 "$(cat "$state/php.pid")" 2>/dev/null && up=yes
			break
		fi
		sleep 0.2
	done
	[ "$up" = yes ] && break
	stop_pid php
	say "php -S on port $port did not come up (attempt $attempt): $(tail -n 3 "$state/php-server.log" | tr '\n' ' ')"
done
[ "$up" = yes ] || die "php -S did not come up; see $state/php-server.log and $state/php-errors.log"

cat >"$state/server.env.tmp" <<ENV
WP_URL=$url
WP_USERS="admin author reader"
WP_PASSWORD_DIR=$state
ENV
mv -f "$state/server.env.tmp" "$state/server.env"
say "up at $url after $(elapsed) s"
cat "$state/server.env"
