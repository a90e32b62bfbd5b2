package pipeline

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/pipeline/audit"
)

// fakeLedger records the ledger calls, in order, and fails when told to.
type fakeLedger struct {
	mu    sync.Mutex
	calls []string // "kind target name ref pupils"
	pubs  []Publication
	err   error
}

func (l *fakeLedger) add(kind string, p Publication) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	l.calls = append(l.calls, kind+" "+p.Target+" "+p.Ref+" "+strings.Join(p.Pupils, ","))
	l.pubs = append(l.pubs, p)
	return nil
}
func (l *fakeLedger) Publishing(p Publication) error { return l.add("publishing", p) }
func (l *fakeLedger) Published(p Publication) error  { return l.add("published", p) }
func (l *fakeLedger) Withdrawn(p Publication) error  { return l.add("withdrawn", p) }

// fakeAudit keeps the events.
type fakeAudit struct {
	mu     sync.Mutex
	events []audit.Event
}

func (a *fakeAudit) Record(e audit.Event) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, e)
	return nil
}

func (a *fakeAudit) kinds() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, e := range a.events {
		out = append(out, e.Kind+":"+e.Outcome+":"+strings.Join(e.Pupils, ","))
	}
	return out
}

// TestLedgerRecordsWhoIsVisible: each output is announced to the ledger
// before it is sent and confirmed after, with the ids the channel shows in
// it (anna on the website; anna and bram on the parent portal; never the
// stranger, never a redacted pupil), and the audit log has the
// publications, the wipe and the outcome.
func TestLedgerRecordsWhoIsVisible(t *testing.T) {
	e := faceEnv(t, detect.PolicyConsent, classFaces(), nil)
	led, aud := &fakeLedger{}, &fakeAudit{}
	o := e.p.opt
	o.Destinations = append(o.Destinations, &Destination{Name: "portal", Channel: "parent_portal", Target: mustDir(t, filepath.Join(filepath.Dir(e.out), "portal"))})
	o.Ledger, o.Audit = led, aud
	e.build(o)
	data := classPhoto(t)
	e.write("klas.jpg", data)
	items := e.batch()["klas.jpg"]
	if len(items) != 2 || items[0].Outcome != Published || items[1].Outcome != Published {
		t.Fatalf("%+v", items)
	}
	name := items[0].Output
	want := []string{
		"publishing website  anna", "published website " + name + " anna",
		"publishing portal  anna,bram", "published portal " + name + " anna,bram",
	}
	if !reflect.DeepEqual(led.calls, want) {
		t.Errorf("ledger calls\n%q\nwant\n%q", led.calls, want)
	}
	for _, p := range led.pubs {
		if p.SHA256 != sha(data) || p.Name != name || p.Channel == "" {
			t.Errorf("publication %+v", p)
		}
	}
	wantAudit := []string{"publish::anna", "publish::anna,bram", "wipe::", "outcome:published:anna,bram"}
	if got := aud.kinds(); !reflect.DeepEqual(got, wantAudit) {
		t.Errorf("audit %q, want %q", got, wantAudit)
	}
	for _, ev := range aud.events {
		if strings.Contains(ev.Detail, "klas") || ev.SHA256 != sha(data) {
			t.Errorf("audit event %+v", ev)
		}
	}
}

// TestLedgerFailureStopsThePublication: an output the ledger cannot
// announce is not sent (it could not be taken down by pupil); the input
// stays and is published once the ledger works again. A target that
// refuses the output withdraws the announcement.
func TestLedgerFailureStopsThePublication(t *testing.T) {
	led := &fakeLedger{err: syscall.ENOSPC}
	e := newEnv(t, func(o *Options) { o.Ledger = led })
	in := e.write("a.jpg", photo(t, 21))
	it := one(t, e.batch(), "a.jpg")
	if it.Outcome != Held || !it.Kept || !strings.Contains(it.Reason, "ledger") || !exists(in) || len(e.outputs()) != 0 {
		t.Fatalf("ledger down: %+v, outputs %v", it, e.outputs())
	}
	if strings.Contains(it.Reason, "not available") {
		t.Errorf("the reason blames the target for the ledger: %q", it.Reason)
	}
	led.err = nil
	if it := one(t, e.batch(), "a.jpg"); it.Outcome != Published || len(e.outputs()) != 1 {
		t.Fatalf("ledger back: %+v", it)
	}

	fl := &flaky{Target: e.target, err: permErr{errors.New("403 forbidden")}}
	o := e.p.opt
	o.Destinations = []*Destination{{Name: "website", Channel: "website", Target: fl}}
	e.build(o)
	led.calls = nil
	e.write("b.jpg", photo(t, 22))
	it = one(t, e.batch(), "b.jpg")
	if it.Outcome != Held {
		t.Fatalf("refused: %+v", it)
	}
	if want := []string{"publishing website  ", "withdrawn website  "}; !reflect.DeepEqual(led.calls, want) {
		t.Errorf("ledger calls %q, want %q", led.calls, want)
	}
	// The reason file does not say the photo could not be made safe: it
	// was, and the target refused it.
	text, err := os.ReadFile(filepath.Join(it.Aside, "reason.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(text), "safe") || !strings.Contains(string(text), "refused") {
		t.Errorf("reason file:\n%s", text)
	}
}
