package keyerr

import (
	"errors"
	"fmt"
	"testing"
)

func TestErrors(t *testing.T) {
	var es Errors
	if es.Err() != nil {
		t.Fatal("no problem is an error")
	}
	es.Add("settle", "%s is out of range (%s to %s)", "-1s", "0s", "1h0m0s")
	es.Add("give_up", "is shorter than watch.settle")
	if got, want := es.Err().Error(), "settle: -1s is out of range (0s to 1h0m0s)\ngive_up: is shorter than watch.settle"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	under := es.Under("watch")
	if under[0].Key != "watch.settle" || under[1].Key != "watch.give_up" || es[0].Key != "settle" {
		t.Errorf("Under: %v (original %v)", under, es)
	}
	wrapped := fmt.Errorf("config file x.yaml:\n%w", es)
	if got := From(wrapped); len(got) != 2 || got[1].Key != "give_up" {
		t.Errorf("From(wrapped Errors) = %v", got)
	}
	if got := From(fmt.Errorf("start: %w", &Error{Key: "targets.site.password_env", Msg: "X is not set"})); len(got) != 1 || got[0].Key != "targets.site.password_env" {
		t.Errorf("From(wrapped *Error) = %v", got)
	}
	if got := From(errors.New("disk full")); got != nil {
		t.Errorf("From(plain error) = %v", got)
	}
}
