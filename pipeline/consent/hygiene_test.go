package consent

import (
	"bytes"
	"math"

	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
)

// TestPersonNeverPrintsNames: however a Person is printed or logged by
// mistake, its names do not come out.
func TestPersonNeverPrintsNames(t *testing.T) {
	p := person("1001", "Wilhelmina", "Oosterhuis", true, "2025-09-01")
	p.Infix = "vanderZwaluw"
	names := []string{"Wilhelmina", "Oosterhuis", "vanderZwaluw"}

	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %v"} {
		outs = append(outs, fmt.Sprintf(verb, p), fmt.Sprintf(verb, &p))
	}
	outs = append(outs,
		fmt.Sprint(p), fmt.Sprintln([]Person{p}), fmt.Sprintf("%v", map[string]Person{"x": p}),
		fmt.Sprintf("%+v", struct{ P Person }{p}), fmt.Sprintf("%#v", []*Person{&p}),
		p.String(), p.GoString(),
	)
	js, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	outs = append(outs, string(js))
	js, _ = json.Marshal([]Person{p})
	outs = append(outs, string(js))

	for _, h := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var buf bytes.Buffer
		l := slog.New(h(&buf))
		l.Info("p", "person", p)
		l.Info("p", "person", &p)
		l.Info("p", "people", []Person{p})
		l.Info("p", slog.Any("person", p))
		e := Entry{ID: p.ID, FirstName: p.FirstName, Group: p.Group, Role: p.Role}
		l.Info("e", "entry", e)
		outs = append(outs, buf.String())
	}
	for _, o := range outs {
		for _, n := range names {
			if strings.Contains(o, n) {
				t.Errorf("output leaks a name: %s", o)
			}
		}
	}
	if !strings.Contains(fmt.Sprint(p), "1001") {
		t.Errorf("redacted form should still show the id: %s", fmt.Sprint(p))
	}
}

func TestDescriptorsNeverPrinted(t *testing.T) {
	r := ref(3)
	r.Descriptor[0] = 0.123456789
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%d"} {
		outs = append(outs, fmt.Sprintf(verb, r), fmt.Sprintf(verb, &r), fmt.Sprintf(verb, []Reference{r}))
	}
	var buf bytes.Buffer
	l := slog.New(slog.NewJSONHandler(&buf, nil))
	l.Info("r", "ref", r)
	outs = append(outs, buf.String())
	needle := strconv.FormatFloat(float64(r.Descriptor[0]), 'g', -1, 32)
	hexBits := fmt.Sprintf("%x", math.Float32bits(r.Descriptor[0]))
	for _, o := range outs {
		if strings.Contains(o, needle) || strings.Contains(o, "0.1234") || strings.Contains(o, hexBits) {
			t.Errorf("descriptor printed: %s", o)
		}
	}
}

func TestErrorsCarryNoNames(t *testing.T) {
	state := t.TempDir()
	k := testKey(t)
	s := openStore(t, state, k)
	mustImport(t, s, person("1", "Wilhelmina", "Oosterhuis", true, "2025-09-01"))
	var errs []error
	_, e := s.ImportConsent([]Person{person("1", "Wilhelmina", "Oosterhuis", true, "2025-09-01"), person("1", "Wilhelmina", "Oosterhuis", true, "2025-09-01")}, ImportOptions{AllowRemove: true})
	errs = append(errs, e)
	_, e = s.ImportConsent([]Person{person("Wilhelmina Oosterhuis", "Wilhelmina", "Oosterhuis", true, "2025-09-01")}, ImportOptions{AllowRemove: true})
	errs = append(errs, e)
	errs = append(errs,
		s.Enroll("Wilhelmina Oosterhuis", []Reference{ref(1)}),
		func() error { _, err := s.Revoke("Wilhelmina Oosterhuis", ChannelWebsite); return err }(),
		func() error { _, err := s.Unenroll("Wilhelmina Oosterhuis"); return err }(),
		s.Object(sha("p"), "Wilhelmina Oosterhuis", ""),
		s.Forget("Wilhelmina Oosterhuis"),
	)
	_, e = Open(state, testKey(t))
	errs = append(errs, e)
	for i, err := range errs {
		if err == nil {
			t.Errorf("case %d: no error", i)
			continue
		}
		if strings.Contains(err.Error(), "Wilhelmina") || strings.Contains(err.Error(), "Oosterhuis") {
			t.Errorf("case %d: error leaks a name: %v", i, err)
		}
	}
	if !errors.Is(errs[2], ErrNotInStore) {
		t.Errorf("enroll of an invalid id: %v", errs[2])
	}
}

func TestKeyNeverPrinted(t *testing.T) {
	k := testKey(t)
	secret := k.encode()
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("k", "key", k)
	for _, o := range []string{fmt.Sprint(k), fmt.Sprintf("%#v %+v %x %s %d", k, k, k, k, k), buf.String(), k.ID()} {
		if strings.Contains(o, secret) || strings.Contains(o, secret[:12]) || strings.Contains(o, fmt.Sprintf("%x", k.b[:6])) ||
			strings.Contains(o, strconv.Itoa(int(k.b[0]))+" "+strconv.Itoa(int(k.b[1]))) {
			t.Errorf("key material printed: %s", o)
		}
	}
}
