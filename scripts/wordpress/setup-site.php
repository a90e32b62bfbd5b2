<?php
// Installs the private test site that scripts/wordpress-server.sh brings up:
// runs WordPress's own installer (wp_install), turns on pretty permalinks
// (so /wp-json/ works, as on most school sites), creates one user per role
// that the tests need and an application password for each, written to
// <state>/<user>.apppw (mode 0600). Run with php-cli and the server's
// auto_prepend_file (which defines ABSPATH):
//
//   php -d auto_prepend_file=<state>/prepend.php setup-site.php <state> <url>
//
// Safe to run again: an installed site and existing users are kept; each run
// writes fresh application passwords.
if (PHP_SAPI !== 'cli' || $argc !== 3) {
	fwrite(STDERR, "usage: php setup-site.php STATE_DIR URL\n");
	exit(2);
}
[$_, $state, $url] = $argv;
$_SERVER['HTTP_HOST'] = parse_url($url, PHP_URL_HOST) . ':' . parse_url($url, PHP_URL_PORT);
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';

define('WP_INSTALLING', true);
// The installer mails the admin; there is no mail here.
function wp_new_blog_notification($blog_title, $blog_url, $user_id, $password) {}
require_once ABSPATH . 'wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-includes/class-wp-application-passwords.php';

function random_password_hex() { return bin2hex(random_bytes(16)); }

if (!is_blog_installed()) {
	$r = wp_install('photoguard test site', 'admin', 'admin@example.invalid', false, '', random_password_hex());
	if (empty($r['user_id'])) {
		fwrite(STDERR, "wp_install failed\n");
		exit(1);
	}
}
update_option('permalink_structure', '/%postname%/');
// Upload folders without year/month, as the tests read files back by URL
// anyway; keeps the uploads folder easy to inspect.
update_option('uploads_use_yearmonth_folders', 0);
flush_rewrite_rules(false);

$users = ['admin' => 'administrator', 'author' => 'author', 'reader' => 'subscriber'];
foreach ($users as $login => $role) {
	$user = get_user_by('login', $login);
	if (!$user) {
		$id = wp_insert_user([
			'user_login' => $login,
			'user_pass'  => random_password_hex(),
			'user_email' => $login . '@example.invalid',
			'role'       => $role,
		]);
		if (is_wp_error($id)) {
			fwrite(STDERR, "creating user $login: " . $id->get_error_message() . "\n");
			exit(1);
		}
		$user = get_user_by('id', $id);
	}
	$created = WP_Application_Passwords::create_new_application_password($user->ID, ['name' => 'photoguard ' . gmdate('c')]);
	if (is_wp_error($created)) {
		fwrite(STDERR, "application password for $login: " . $created->get_error_message() . "\n");
		exit(1);
	}
	$file = "$state/$login.apppw";
	$old = umask(077);
	$ok = file_put_contents("$file.tmp", $created[0] . "\n") !== false && rename("$file.tmp", $file);
	umask($old);
	if (!$ok) {
		fwrite(STDERR, "cannot write $file\n");
		exit(1);
	}
}
echo "site installed at $url\n";
