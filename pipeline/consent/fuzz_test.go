package consent

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseConsentCSV: any bytes either parse into a valid register or are
// rejected with a *CSVError; the parser never panics.
func FuzzParseConsentCSV(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "registry", "consent-export-nl.csv")); err == nil {
		f.Add(b)
	}
	f.Add([]byte(enHeader + "\n1,A,B,g,yes,no,ja,nee,2025-09-01\n"))
	f.Add([]byte(enHeader + "\n1,\"A\"\"B\",C,g,1,0,waar,onwaar,01/09/2025 0:00\n"))
	f.Add([]byte("\ufeffleerlingnummer;voornaam;tussenvoegsel;achternaam;groep;rol;website;sociale media;nieuwsbrief;ouderportaal;datum\r\n1;A;van;B;g;personeel;j;n;j;n;1-9-2025\r\n"))
	f.Add([]byte{0xFF, 0xFE, 'p', 0, ',', 0})
	f.Add([]byte("a\"b,c\n\"unterminated\n"))
	f.Add([]byte(enHeader + "\n1,Zo\xeb,B,g,yes,no,no,no,2025-09-01\n"))
	f.Add([]byte(enHeader + "\r1,A,B,g,yes,no,no,no,2025-09-01\r2,C,D,g,no,no,no,no,\r"))
	f.Fuzz(func(t *testing.T, data []byte) {
		people, err := parsePeople(bytes.NewReader(data))
		if err != nil {
			var ce *CSVError
			if !errors.As(err, &ce) || len(ce.Problems) == 0 {
				t.Fatalf("error is not a CSVError with problems: %v", err)
			}
			if people != nil {
				t.Fatalf("error with people")
			}
			return
		}
		if len(people) == 0 {
			t.Fatalf("no error and no people")
		}
		seen := map[string]bool{}
		for _, p := range people {
			if !validID(p.ID) || seen[p.ID] || !p.Role.valid() || p.FirstName == "" {
				t.Fatalf("invalid person accepted: id valid=%v dup=%v role=%q", validID(p.ID), seen[p.ID], p.Role)
			}
			seen[p.ID] = true
			for ch, c := range p.Consent {
				if !KnownChannel(ch) || (c.Given && c.ConfirmedOn.IsZero()) || c.ConfirmedOn.After(civilDate(csvNow)) {
					t.Fatalf("invalid consent accepted for %s", ch)
				}
			}
		}
		// Whatever parses must import.
		if err := validatePeople(people, nil); err != nil {
			t.Fatalf("parsed people do not validate: %v", err)
		}
	})
}
