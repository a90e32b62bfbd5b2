package sftp

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// passwordServer is an in-process SSH server (x/crypto/ssh with pkg/sftp's
// server) that takes a password by "password" or "keyboard-interactive":
// the private sshd of the other tests runs as the test's user, whose
// password the test does not know.
func passwordServer(t *testing.T, password string, interactiveOnly bool) (addr, knownHostsFile string) {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	conf := &ssh.ServerConfig{}
	if interactiveOnly {
		conf.KeyboardInteractiveCallback = func(c ssh.ConnMetadata, ask ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
			answers, err := ask("", "", []string{"Password: "}, []bool{false})
			if err == nil && len(answers) == 1 && answers[0] == password {
				return nil, nil
			}
			return nil, os.ErrPermission
		}
	} else {
		conf.PasswordCallback = func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if string(pw) == password {
				return nil, nil
			}
			return nil, os.ErrPermission
		}
	}
	conf.AddHostKey(signer)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			go serveSFTP(nc, conf)
		}
	}()
	addr = l.Addr().String()
	knownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(knownHostsFile, []byte(knownhosts.Line([]string{knownhosts.Normalize(addr)}, signer.PublicKey())+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return addr, knownHostsFile
}

func serveSFTP(nc net.Conn, conf *ssh.ServerConfig) {
	defer nc.Close()
	_, chans, reqs, err := ssh.NewServerConn(nc, conf)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nch := range chans {
		if nch.ChannelType() != "session" {
			_ = nch.Reject(ssh.UnknownChannelType, "session only")
			continue
		}
		ch, creqs, err := nch.Accept()
		if err != nil {
			return
		}
		go func() {
			for r := range creqs {
				ok := r.Type == "subsystem" && len(r.Payload) > 4 && string(r.Payload[4:]) == "sftp"
				_ = r.Reply(ok, nil)
				if ok {
					go func() {
						defer ch.Close()
						if srv, err := sftp.NewServer(ch); err == nil {
							_ = srv.Serve()
						}
					}()
				}
			}
		}()
	}
}

func TestPasswordLogin(t *testing.T) {
	for _, interactive := range []bool{false, true} {
		addr, kh := passwordServer(t, "Welkom-2026", interactive)
		folder := t.TempDir()
		tg, err := New(Options{Address: addr, User: "foto", Password: "Welkom-2026", KnownHosts: kh, Path: folder})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tg.Publish(context.Background(), "a.jpg", []byte("a")); err != nil {
			t.Fatalf("interactive %v: %v", interactive, err)
		}
		if got, _ := os.ReadFile(filepath.Join(folder, "a.jpg")); string(got) != "a" {
			t.Fatalf("content %q", got)
		}
		tg.Close()
		bad, _ := New(Options{Address: addr, User: "foto", Password: "fout-Wachtwoord", KnownHosts: kh, Path: folder})
		_, err = bad.Publish(context.Background(), "b.jpg", []byte("b"))
		if err == nil || !isPermanent(err) || !strings.Contains(err.Error(), "refused the login") || strings.Contains(err.Error(), "fout-Wachtwoord") {
			t.Fatalf("interactive %v, wrong password: %v", interactive, err)
		}
	}
}
