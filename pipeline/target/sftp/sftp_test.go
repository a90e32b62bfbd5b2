package sftp

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/photoguard/photoguard/pipeline/target/internal/targettest"
)

// sshd is a private OpenSSH server started by the test on 127.0.0.1, with
// its own host key, one authorised user key and OpenSSH's internal-sftp.
type sshd struct {
	t          *testing.T
	dir        string
	port       int
	config     string
	hostPub    ssh.PublicKey
	userKey    string // private key file
	knownHosts string
	cmd        *exec.Cmd
	logs       string // sshd's log file
}

func writeKey(t *testing.T, path string) ssh.PublicKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func startSSHD(t *testing.T) *sshd {
	t.Helper()
	bin := "/usr/sbin/sshd"
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("/usr/sbin/sshd is missing (scripts/setup.sh installs openssh-server); CI needs it")
		}
		t.Skip("/usr/sbin/sshd is missing (apt-get install openssh-server); skipping the tests against OpenSSH")
	}
	if os.Geteuid() == 0 {
		// sshd running as root needs its privilege separation folder,
		// which the package's init script makes at boot (not in a container).
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s := &sshd{t: t, dir: t.TempDir()}
	s.logs = filepath.Join(s.dir, "sshd.log")
	s.hostPub = writeKey(t, filepath.Join(s.dir, "host_key"))
	s.userKey = filepath.Join(s.dir, "user_key")
	userPub := writeKey(t, s.userKey)
	if err := os.WriteFile(filepath.Join(s.dir, "authorized_keys"), ssh.MarshalAuthorizedKey(userPub), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	s.config = filepath.Join(s.dir, "sshd_config")
	conf := fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
AuthorizedKeysFile %s
PidFile %s
StrictModes no
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
Subsystem sftp internal-sftp
LogLevel ERROR
`, s.port, filepath.Join(s.dir, "host_key"), filepath.Join(s.dir, "authorized_keys"), filepath.Join(s.dir, "sshd.pid"))
	if err := os.WriteFile(s.config, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	s.knownHosts = filepath.Join(s.dir, "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(s.addr())}, s.hostPub)
	if err := os.WriteFile(s.knownHosts, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.start()
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			log, _ := os.ReadFile(s.logs)
			t.Logf("sshd said:\n%s", log)
		}
	})
	return s
}

func (s *sshd) addr() string { return fmt.Sprintf("127.0.0.1:%d", s.port) }

func (s *sshd) start() {
	s.t.Helper()
	log, err := os.OpenFile(s.logs, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		s.t.Fatal(err)
	}
	defer log.Close()
	s.cmd = exec.Command("/usr/sbin/sshd", "-D", "-e", "-f", s.config)
	s.cmd.Stdout, s.cmd.Stderr = log, log
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", s.addr(), time.Second)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	out, _ := os.ReadFile(s.logs)
	s.t.Fatalf("sshd does not listen on %s after 20 s:\n%s", s.addr(), out)
}

// stop ends sshd and the sessions it forked for our connections (each
// in a session of its own, so found by their parent's pid).
func (s *sshd) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	pid := s.cmd.Process.Pid
	children := childrenOf(pid)
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	for _, c := range children {
		if p, err := os.FindProcess(c); err == nil {
			_ = p.Kill()
		}
	}
	s.cmd = nil
}

// childrenOf lists the processes whose parent is pid (from /proc).
func childrenOf(pid int) []int {
	var out []int
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, st := range stats {
		b, err := os.ReadFile(st)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces.
		rest := string(b)
		if i := strings.LastIndexByte(rest, ')'); i >= 0 {
			rest = rest[i+1:]
		}
		var state string
		var ppid, self int
		if _, err := fmt.Sscan(rest, &state, &ppid); err != nil || ppid != pid {
			continue
		}
		if _, err := fmt.Sscan(filepath.Base(filepath.Dir(st)), &self); err == nil {
			out = append(out, self)
		}
	}
	return out
}

func (s *sshd) target(t *testing.T, folder string) *Target {
	t.Helper()
	tg, err := New(Options{Address: s.addr(), User: currentUser(t), KeyFile: s.userKey, KnownHosts: s.knownHosts, Path: folder, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.Close() })
	return tg
}

func currentUser(t *testing.T) string {
	out, err := exec.Command("id", "-un").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

func TestConformanceOpenSSH(t *testing.T) {
	s := startSSHD(t)
	folder := filepath.Join(t.TempDir(), "public_html", "fotos")
	tg := s.target(t, folder)
	targettest.Conformance(t, tg, targettest.Reader(folder))
	targettest.NoTemps(t, folder)
	// Published photos are readable by the web server.
	if st, err := os.Stat(filepath.Join(folder, "c01.jpg")); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("mode of a published photo: %v, %v", st.Mode().Perm(), err)
	}
}

// Without posix-rename the old photo is removed and the upload renamed: the
// replace still happens and nothing is left.
func TestPlainRename(t *testing.T) {
	s := startSSHD(t)
	folder := t.TempDir()
	tg := s.target(t, folder)
	tg.noPosixRename = true
	ctx := context.Background()
	for _, v := range []string{"one", "two"} {
		if _, err := tg.Publish(ctx, "a.jpg", []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(folder, "a.jpg")); string(got) != "two" {
		t.Fatalf("content = %q", got)
	}
	targettest.NoTemps(t, folder)
}

// The connection is reused, and dialled again when it broke (the server
// restarted): the first call after the break fails as something to retry,
// the next works.
func TestRedialAfterServerRestart(t *testing.T) {
	s := startSSHD(t)
	folder := t.TempDir()
	tg := s.target(t, folder)
	ctx := context.Background()
	if _, err := tg.Publish(ctx, "a.jpg", []byte("a")); err != nil {
		t.Fatal(err)
	}
	first := tg.client
	if _, err := tg.Publish(ctx, "b.jpg", []byte("b")); err != nil || tg.client != first {
		t.Fatalf("second publish: %v; connection reused: %v", err, tg.client == first)
	}
	// The server goes down with the session serving our connection.
	s.stop()
	_, err := tg.Publish(ctx, "c.jpg", []byte("c"))
	if err == nil || isPermanent(err) {
		t.Fatalf("publish with the server down = %v, want a transient error", err)
	}
	s.start()
	if _, err := tg.Publish(ctx, "c.jpg", []byte("c")); err != nil {
		t.Fatalf("after the server came back: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(folder, "c.jpg")); string(got) != "c" {
		t.Fatalf("content = %q", got)
	}
}

// A host key that is not the one in known_hosts is refused, with a clear
// and permanent error; nothing is written.
func TestWrongHostKeyRefused(t *testing.T) {
	s := startSSHD(t)
	other := writeKey(t, filepath.Join(t.TempDir(), "other"))
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, []byte(knownhosts.Line([]string{knownhosts.Normalize(s.addr())}, other)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	folder := t.TempDir()
	tg, err := New(Options{Address: s.addr(), User: currentUser(t), KeyFile: s.userKey, KnownHosts: kh, Path: folder})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tg.Publish(context.Background(), "a.jpg", []byte("x"))
	if err == nil || !isPermanent(err) || !strings.Contains(err.Error(), "host key is not the one in known_hosts") {
		t.Fatalf("wrong host key: %v (permanent %v)", err, isPermanent(err))
	}
	if entries, _ := os.ReadDir(folder); len(entries) != 0 {
		t.Fatal("something was written after a wrong host key")
	}
	// known_hosts with another host's key only: refused at New.
	if err := os.WriteFile(kh, []byte(knownhosts.Line([]string{"[127.0.0.1]:1"}, s.hostPub)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{Address: s.addr(), User: "u", KeyFile: s.userKey, KnownHosts: kh}); err == nil || !strings.Contains(err.Error(), "has no key for") {
		t.Fatalf("known_hosts without this host: %v", err)
	}
}

func TestWrongUserKeyRefused(t *testing.T) {
	s := startSSHD(t)
	wrong := filepath.Join(t.TempDir(), "wrong")
	writeKey(t, wrong)
	tg, err := New(Options{Address: s.addr(), User: currentUser(t), KeyFile: wrong, KnownHosts: s.knownHosts, Path: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tg.Publish(context.Background(), "a.jpg", []byte("x"))
	if err == nil || !isPermanent(err) || !strings.Contains(err.Error(), "refused the login") {
		t.Fatalf("wrong key: %v", err)
	}
}

func TestOptionsChecked(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	pub := writeKey(t, key)
	kh := filepath.Join(dir, "known_hosts")
	_ = os.WriteFile(kh, []byte(knownhosts.Line([]string{"web.school.nl"}, pub)+"\n"), 0o600)
	ok := Options{Address: "web.school.nl:22", User: "foto", KeyFile: key, KnownHosts: kh, Path: "public_html/fotos"}
	if _, err := New(ok); err != nil {
		t.Fatalf("good options refused: %v", err)
	}
	for name, c := range map[string]struct {
		mod  func(*Options)
		want string
	}{
		"no known_hosts":      {func(o *Options) { o.KnownHosts = "" }, "no known_hosts"},
		"missing known_hosts": {func(o *Options) { o.KnownHosts = filepath.Join(dir, "nope") }, "known_hosts"},
		"no address":          {func(o *Options) { o.Address = "" }, "no address"},
		"no user":             {func(o *Options) { o.User = "" }, "no user"},
		"no credentials":      {func(o *Options) { o.KeyFile = "" }, "no key_file and no password"},
		"not a key":           {func(o *Options) { o.KeyFile = kh }, "not a private key"},
		"path up":             {func(o *Options) { o.Path = "../etc" }, "goes up"},
	} {
		o := ok
		c.mod(&o)
		_, err := New(o)
		if err == nil || !strings.Contains(err.Error(), c.want) || !isPermanent(err) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A key protected by a passphrase says so.
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, _ := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("pass"))
	_ = os.WriteFile(key, pem.EncodeToMemory(block), 0o600)
	if _, err := New(ok); err == nil || !strings.Contains(err.Error(), "passphrase") {
		t.Errorf("passphrase key: %v", err)
	}
	// A password alone is enough (and never printed).
	o := ok
	o.KeyFile, o.Password = "", "geheim-Wachtwoord"
	if _, err := New(o); err != nil {
		t.Errorf("password only: %v", err)
	}
	// Nothing listens: transient, and the password is not in the error.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	_ = os.WriteFile(kh, []byte(knownhosts.Line([]string{knownhosts.Normalize(addr)}, pub)+"\n"), 0o600)
	o.Address = addr
	tg, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tg.Publish(context.Background(), "a.jpg", []byte("x"))
	if err == nil || isPermanent(err) || strings.Contains(err.Error(), "geheim") {
		t.Errorf("nothing listening: %v", err)
	}
}
