package tuning

import (
	"strings"
	"testing"

	"github.com/photoguard/photoguard/detect"
)

// TestGroups: groep 5 has twins a and b 0.14 apart; c of groep 6 is 0.36
// from both, so a reference of a twin, tried as a child who is not
// enrolled, is 0.22 nearer the other twin than c: shown as a classmate at a
// margin of 0.1, not at 0.3. With 2 enrolled outside needed, both groups
// get the group margin 0.1; with 3 needed neither does, and a warning says
// so.
func TestGroups(t *testing.T) {
	pupils := []Pupil{
		{ID: "a", Group: "groep 5", References: refs(point(0, 5, 0.1))},
		{ID: "b", Group: "groep 5", References: refs(point(0, 6, 0.1))},
		{ID: "c", Group: "groep 6", References: refs(point(0, 7, 0.35))},
		{ID: "d", Group: "groep 6", References: refs(point(30, 31, 0.1))},
		{ID: "juf", References: refs(point(40, 41, 0.1))}, // staff: no group
	}
	mc := detect.MatchConfig{Threshold: 0.5, Margin: 0.3, MinFacePx: 60}
	rep := Analyse(Input{Pupils: pupils, Match: mc, Now: now, GroupMargin: 0.1, GroupMinOutside: 2})
	if len(rep.Groups) != 2 {
		t.Fatalf("groups %+v", rep.Groups)
	}
	g5, g6 := rep.Groups[0], rep.Groups[1]
	if g5.Group != "groep 5" || g5.Enrolled != 2 || g5.Outside != 2 || !g5.Applies || g5.Margin != 0.1 || g5.Probes != 2 || g5.Wrong != 2 {
		t.Errorf("groep 5: %+v", g5)
	}
	if !g6.Applies || g6.Wrong != 0 {
		t.Errorf("groep 6: %+v", g6)
	}
	if !hasWarning(rep, GroupLookAlikes, "groep 5") || hasWarning(rep, NoSchool, "") {
		t.Errorf("warnings %+v", rep.Warnings)
	}
	rep = Analyse(Input{Pupils: pupils, Match: mc, Now: now, GroupMargin: 0.1, GroupMinOutside: 3})
	if rep.Groups[0].Applies || rep.Groups[0].Margin != 0.3 || rep.Groups[0].Wrong != 0 || !hasWarning(rep, NoSchool, "groep 6") {
		t.Errorf("not enough outside: %+v %+v", rep.Groups, rep.Warnings)
	}
	page, err := Page(&rep, nil, now)
	if err != nil || !strings.Contains(string(page), `id="groups"`) {
		t.Errorf("page: %v", err)
	}
}

func hasWarning(rep Report, kind, id string) bool {
	for _, w := range rep.Warnings {
		if w.Kind != kind {
			continue
		}
		if id == "" {
			return true
		}
		for _, x := range w.IDs {
			if x == id {
				return true
			}
		}
	}
	return false
}
