package consent

import (
	"testing"
	"time"
)

// TestReferencesKeepDateSourceAndGroup: a reference's date and source
// survive the store file; the matcher's view carries them and the pupil's
// group, and staff belong to every group.
func TestReferencesKeepDateSourceAndGroup(t *testing.T) {
	dir, k := t.TempDir(), testKey(t)
	s := openStore(t, dir, k)
	juf := person("juf1", "Juf", "X", true, "2025-09-01")
	juf.Role, juf.Group = RoleStaff, "groep 5"
	mustImport(t, s, person("p1", "Anna", "A", true, "2025-09-01"), juf)
	portrait := ref(1)
	portrait.Source, portrait.AddedAt = SourcePortrait, time.Date(2023, 9, 1, 0, 0, 0, 0, time.UTC)
	review := ref(2)
	review.Source = SourceReview
	undated := ref(3) // a reference from before sources were recorded
	if err := s.Enroll("p1", []Reference{portrait, review, undated}); err != nil {
		t.Fatal(err)
	}
	if err := s.Enroll("juf1", []Reference{ref(4)}); err != nil {
		t.Fatal(err)
	}
	s2 := openStore(t, dir, k)
	refs := s2.Snapshot().References("p1")
	if len(refs) != 3 || refs[0].Source != SourcePortrait || refs[1].Source != SourceReview || refs[2].Source != "" {
		t.Fatalf("sources after reopening: %+v", refs)
	}
	if !refs[0].AddedAt.Equal(portrait.AddedAt) || refs[1].AddedAt.IsZero() {
		t.Errorf("dates after reopening: %v, %v", refs[0].AddedAt, refs[1].AddedAt)
	}
	for _, p := range s2.Snapshot().People() {
		switch p.ID {
		case "p1":
			if p.Group != "groep 5" || len(p.Added) != 3 || !p.Added[0].Equal(portrait.AddedAt) {
				t.Errorf("p1 as the matcher sees them: group %q, dates %v", p.Group, p.Added)
			}
		case "juf1":
			if p.Group != "" {
				t.Errorf("staff have group %q for the matcher, want every group (\"\")", p.Group)
			}
		}
	}
}
