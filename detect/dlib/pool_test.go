package dlib

import (
	"context"
	"errors"
	"image"
	"sync"
	"testing"
	"time"
)

// N workers use N recognizers at most: however many calls come at once, the
// pool lends each item to one borrower at a time and never more items than
// it holds; a call waits for a free one, or for its context.
func TestPoolLendsAtMostItsItems(t *testing.T) {
	const n, callers = 3, 12
	p := newPool[*int](n, nil)
	for i := 0; i < n; i++ {
		p.add(new(int))
	}
	var wg sync.WaitGroup
	for c := 0; c < callers; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			item, err := p.get(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			*item++ // the race detector sees two borrowers of one item
			if *item != 1 {
				t.Errorf("an item is lent to %d callers at once", *item)
			}
			time.Sleep(5 * time.Millisecond)
			*item--
			p.put(item)
		}()
	}
	wg.Wait()
	if got := p.most(); got != n {
		t.Errorf("%d callers at once used %d items at most, want %d", callers, got, n)
	}
	// All lent: a call waits, and gives up with its context.
	var held []*int
	for i := 0; i < n; i++ {
		item, _ := p.get(context.Background())
		held = append(held, item)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := p.get(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a fourth call with three items lent: %v", err)
	}
	closed := make(chan struct{})
	freed := 0
	go func() { p.close(func(*int) { freed++ }); close(closed) }()
	select {
	case <-closed:
		t.Fatal("close did not wait for the items lent")
	case <-time.After(20 * time.Millisecond):
	}
	for _, item := range held {
		p.put(item)
	}
	<-closed
	if freed != n {
		t.Errorf("close freed %d items, want %d", freed, n)
	}
	if _, err := p.get(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("get after close: %v", err)
	}
}

// A pool that makes its items makes them when first needed, never more
// than its size, and tries again after a failure.
func TestPoolMakesItemsWhenNeeded(t *testing.T) {
	var mu sync.Mutex
	made, fail := 0, true
	p := newPool(2, func() (*int, error) {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			fail = false
			return nil, errors.New("no models")
		}
		made++
		return new(int), nil
	})
	if p.made() != 0 {
		t.Fatal("items made before they were needed")
	}
	if _, err := p.get(context.Background()); err == nil {
		t.Fatal("a failing make lent an item")
	}
	a, err := p.get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p.put(a)
	// A free item is lent again rather than a new one made.
	a, _ = p.get(context.Background())
	if made != 1 {
		t.Errorf("made %d items for one borrower at a time, want 1", made)
	}
	b, _ := p.get(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := p.get(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a third borrower of a pool of 2: %v", err)
	}
	if made != 2 {
		t.Errorf("made %d items, want 2", made)
	}
	p.put(a)
	p.put(b)
	freed := 0
	p.close(func(*int) { freed++ })
	if freed != 2 {
		t.Errorf("close freed %d, want 2", freed)
	}
}

// The same with the real detector: Workers 2, six calls at once.
func TestDetectorUsesAtMostWorkersRecognizers(t *testing.T) {
	d, err := New(Config{ModelsDir: requireModels(t), Detector: HOG, MaxSide: 1024, Upsample: 1, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	img := image.NewNRGBA(image.Rect(0, 0, 640, 480))
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := d.Detect(context.Background(), img); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := d.pool.most(); got < 1 || got > 2 {
		t.Errorf("6 calls at once used %d recognizers at most, want 1 or 2", got)
	}
}
