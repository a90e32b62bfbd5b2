package detect

import (
	"reflect"
	"testing"
)

func TestCategories(t *testing.T) {
	c := NewCategories([]string{"zwemles", "Gym", "changing room", "schoolzwemmen"})
	cases := []struct {
		rel      string
		keywords []string
		want     string
	}{
		{"groep-5/zwemles/IMG_0001.JPG", nil, "zwemles"},
		{"groep-5/Zwemles groep 5/IMG_0001.HEIC", nil, "zwemles"},
		{"ZWEMLES/IMG_0001.jpg", nil, "zwemles"},
		{"groep-5/IMG_0001 gym.jpg", nil, "gym"},
		{"groep-5/IMG_0001_#gym.jpg", nil, "gym"},
		{"groep-5/zwemles2024.jpg", nil, "zwemles"},
		{"groep-5/Changing-Room/a.jpg", nil, "changing room"},
		{"groep-5/a.jpg", []string{"Schoolzwemmen"}, "schoolzwemmen"},
		// Spaces, hyphens and underscores count alike, also inside a
		// category spelt as one word (issue 8).
		{"groep-5/zwem les/IMG_0001.jpg", nil, "zwemles"},
		{"groep-5/IMG_0001 zwem-les.jpg", nil, "zwemles"},
		{"groep-5/Zwem_Les_2024/a.jpg", nil, "zwemles"},
		{"groep-5/changingroom.jpg", nil, "changing room"},
		{"groep-5/changing_room.jpg", nil, "changing room"},
		{"groep-5/school zwemmen/a.jpg", nil, "schoolzwemmen"},
		// Whole words only: these are not gym or swimming lessons.
		{"groep-5/gymnasium-bezoek/a.jpg", nil, ""},
		{"groep-5/zwemlesson.jpg", nil, ""},
		{"groep-5/changing.jpg", nil, ""},
		{"groep-5/zwem lesson.jpg", nil, ""},
		{"groep-5/de zwemmer les.jpg", nil, ""},
		{"groep-5/IMG_0001.jpg", nil, ""},
		// The extension is not a word: a file called gym.jpg is, gym.jpg.txt is not a category name issue.
		{"gym.jpg", nil, "gym"},
		{"", nil, ""},
	}
	for _, tc := range cases {
		got, ok := c.Match(tc.rel, tc.keywords...)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("Match(%q, %v) = %q, %v; want %q", tc.rel, tc.keywords, got, ok, tc.want)
		}
	}
}

func TestWords(t *testing.T) {
	got := Words("IMG_0001 Zwemles-groep5.ü")
	want := []string{"img", "0001", "zwemles", "groep", "5", "ü"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Words = %q, want %q", got, want)
	}
}

func FuzzCategories(f *testing.F) {
	f.Add("groep-5/zwemles/IMG_0001.JPG", "gym")
	f.Add("../../a//b/./c.jpg", "")
	c := NewCategories([]string{"zwemles", "gym", "changing room"})
	f.Fuzz(func(t *testing.T, rel, kw string) {
		got, ok := c.Match(rel, kw)
		if ok != (got != "") {
			t.Fatalf("ok=%v with %q", ok, got)
		}
	})
}
