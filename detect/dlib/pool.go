package dlib

import (
	"context"
	"sync"
)

// pool lends its items, each to one borrower at a time: the one pool of
// recognisers in photoguard (the pipeline's workers share one Detector,
// and a Detector with Workers recognisers runs at most Workers calls at
// once). It is plain Go, so that it is tested without the models.
//
// Items are made when first needed (newItem), up to size: a photo without a
// face large enough to be described never loads dlib's models, and a
// second worker's models are loaded only when two photos need them at once.
type pool[T any] struct {
	free    chan T
	done    chan struct{}
	once    sync.Once
	size    int
	newItem func() (T, error) // nil: only items added with add

	mu         sync.Mutex
	n          int // items made or added
	busy, peak int // items lent now, and at most so far
}

func newPool[T any](size int, newItem func() (T, error)) *pool[T] {
	return &pool[T]{free: make(chan T, size), done: make(chan struct{}), size: size, newItem: newItem}
}

// add puts a new item in the pool.
func (p *pool[T]) add(item T) {
	p.mu.Lock()
	p.n++
	p.mu.Unlock()
	p.free <- item
}

// get lends a free item, makes one if fewer than size exist, or waits for
// one; it fails once ctx ends or the pool is closed, or when making an item
// fails (the next get tries again).
func (p *pool[T]) get(ctx context.Context) (T, error) {
	var zero T
	select {
	case <-p.done:
		return zero, ErrClosed
	case item := <-p.free:
		return p.lend(item)
	default:
	}
	if item, made, err := p.tryMake(); err != nil || made {
		if err != nil {
			return zero, err
		}
		return p.lend(item)
	}
	select {
	case <-ctx.Done():
		return zero, ctx.Err()
	case <-p.done:
		return zero, ErrClosed
	case item := <-p.free:
		return p.lend(item)
	}
}

// tryMake makes a new item when fewer than size exist.
func (p *pool[T]) tryMake() (item T, made bool, err error) {
	p.mu.Lock()
	closed := false
	select {
	case <-p.done:
		closed = true
	default:
	}
	if closed || p.newItem == nil || p.n >= p.size {
		p.mu.Unlock()
		if closed {
			return item, false, ErrClosed
		}
		return item, false, nil
	}
	p.n++ // reserved: close waits for it
	p.mu.Unlock()
	item, err = p.newItem()
	if err != nil {
		p.mu.Lock()
		p.n--
		p.mu.Unlock()
		return item, false, err
	}
	return item, true, nil
}

// lend counts an item as lent, unless the pool was closed meanwhile.
func (p *pool[T]) lend(item T) (T, error) {
	select {
	case <-p.done:
		p.free <- item
		var zero T
		return zero, ErrClosed
	default:
	}
	p.mu.Lock()
	p.busy++
	p.peak = max(p.peak, p.busy)
	p.mu.Unlock()
	return item, nil
}

// put gives back an item that get lent.
func (p *pool[T]) put(item T) {
	p.mu.Lock()
	p.busy--
	p.mu.Unlock()
	p.free <- item
}

// most is the largest number of items lent at once so far.
func (p *pool[T]) most() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peak
}

// close refuses every get from now on, waits until every item is back and
// frees each with free. It is safe to call more than once.
func (p *pool[T]) close(free func(T)) {
	p.once.Do(func() {
		p.mu.Lock()
		close(p.done)
		n := p.n
		p.mu.Unlock()
		for i := 0; i < n; i++ {
			free(<-p.free) // waits for a call still using it
		}
	})
}

// made is how many items exist.
func (p *pool[T]) made() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}
