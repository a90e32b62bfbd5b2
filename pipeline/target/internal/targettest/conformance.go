package targettest

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/photoguard/photoguard/pipeline/target"
)

// Conformance runs the behaviour every target.Target must have. read
// returns what the target holds under name (for checking content), or an
// error.
func Conformance(t *testing.T, tg target.Target, read func(name string) ([]byte, error)) {
	ctx := context.Background()
	t.Run("publish then exists", func(t *testing.T) {
		data := []byte("first version")
		ref, err := tg.Publish(ctx, "a.jpg", data)
		if err != nil {
			t.Fatal(err)
		}
		if ref == "" {
			t.Fatal("Publish returned an empty reference")
		}
		got, ok, err := tg.Exists(ctx, "a.jpg")
		if err != nil || !ok || got != ref {
			t.Fatalf("Exists after Publish = %q, %v, %v; Publish said %q", got, ok, err, ref)
		}
		content, err := read("a.jpg")
		if err != nil || !bytes.Equal(content, data) {
			t.Fatalf("content = %q, %v", content, err)
		}
	})
	t.Run("publish again replaces", func(t *testing.T) {
		if _, err := tg.Publish(ctx, "a.jpg", []byte("second")); err != nil {
			t.Fatal(err)
		}
		got, _ := read("a.jpg")
		if string(got) != "second" {
			t.Fatalf("content = %q", got)
		}
	})
	t.Run("missing does not exist", func(t *testing.T) {
		_, ok, err := tg.Exists(ctx, "nothing.jpg")
		if err != nil || ok {
			t.Fatalf("Exists = %v, %v", ok, err)
		}
	})
	t.Run("remove", func(t *testing.T) {
		ref, ok, err := tg.Exists(ctx, "a.jpg")
		if err != nil || !ok {
			t.Fatalf("Exists before Remove = %v, %v", ok, err)
		}
		if err := tg.Remove(ctx, ref); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := tg.Exists(ctx, "a.jpg"); ok {
			t.Fatal("still there after Remove")
		}
		if err := tg.Remove(ctx, ref); err != nil {
			t.Fatalf("second Remove: %v", err)
		}
	})
	t.Run("names are plain", func(t *testing.T) {
		for _, bad := range []string{"", "../x.jpg", "a/b.jpg", ".hidden.jpg"} {
			if _, err := tg.Publish(ctx, bad, []byte("x")); err == nil {
				t.Errorf("Publish(%q) accepted", bad)
			}
		}
	})
	t.Run("concurrent publishes", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				_, err := tg.Publish(ctx, fmt.Sprintf("c%02d.jpg", i), bytes.Repeat([]byte{byte(i)}, 100_000))
				errs <- err
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < 16; i++ {
			got, err := read(fmt.Sprintf("c%02d.jpg", i))
			if err != nil || len(got) != 100_000 || got[99_999] != byte(i) {
				t.Fatalf("c%02d: %d bytes, %v", i, len(got), err)
			}
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := tg.Publish(cctx, "x.jpg", []byte("x")); err == nil {
			if _, ok, _ := tg.Exists(ctx, "x.jpg"); !ok {
				t.Fatal("Publish returned nil but nothing is there")
			}
		}
	})
}
