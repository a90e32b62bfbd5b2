package target

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
)

// Target is the interface under test (the same methods as pipeline.Target;
// repeated here so that this package does not import pipeline).
type Target interface {
	Publish(ctx context.Context, name string, data []byte) error
	Exists(ctx context.Context, name string) (bool, error)
	Remove(ctx context.Context, name string) error
}

// Conformance runs the behaviour every target must have. read returns what
// the target holds under name (for checking content), or an error.
func Conformance(t *testing.T, tg Target, read func(name string) ([]byte, error)) {
	ctx := context.Background()
	t.Run("publish then exists", func(t *testing.T) {
		data := []byte("first version")
		if err := tg.Publish(ctx, "a.jpg", data); err != nil {
			t.Fatal(err)
		}
		ok, err := tg.Exists(ctx, "a.jpg")
		if err != nil || !ok {
			t.Fatalf("Exists after Publish = %v, %v", ok, err)
		}
		got, err := read("a.jpg")
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("content = %q, %v", got, err)
		}
	})
	t.Run("publish again replaces", func(t *testing.T) {
		if err := tg.Publish(ctx, "a.jpg", []byte("second")); err != nil {
			t.Fatal(err)
		}
		got, _ := read("a.jpg")
		if string(got) != "second" {
			t.Fatalf("content = %q", got)
		}
	})
	t.Run("missing does not exist", func(t *testing.T) {
		ok, err := tg.Exists(ctx, "nothing.jpg")
		if err != nil || ok {
			t.Fatalf("Exists = %v, %v", ok, err)
		}
	})
	t.Run("remove", func(t *testing.T) {
		if err := tg.Remove(ctx, "a.jpg"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := tg.Exists(ctx, "a.jpg"); ok {
			t.Fatal("still there after Remove")
		}
		if err := tg.Remove(ctx, "a.jpg"); err != nil {
			t.Fatalf("second Remove: %v", err)
		}
	})
	t.Run("names are plain", func(t *testing.T) {
		for _, bad := range []string{"", "../x.jpg", "a/b.jpg", ".hidden.jpg"} {
			if err := tg.Publish(ctx, bad, []byte("x")); err == nil {
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
				errs <- tg.Publish(ctx, fmt.Sprintf("c%02d.jpg", i), bytes.Repeat([]byte{byte(i)}, 100_000))
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
		if err := tg.Publish(cctx, "x.jpg", []byte("x")); err == nil {
			if ok, _ := tg.Exists(ctx, "x.jpg"); !ok {
				t.Fatal("Publish returned nil but nothing is there")
			}
		}
	})
}
