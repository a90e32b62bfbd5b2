package dlib

import (
	"context"
	"sync"
)

// pool lends its items, each to one borrower at a time: the one pool of
// recognisers in photoguard (the pipeline's workers share one Detector,
// and a Detector with Workers recognisers runs at most Workers calls at
// once). It is plain Go, so that it is tested without the models.
type pool[T any] struct {
	free chan T
	done chan struct{}
	once sync.Once
	n    int // items added

	mu         sync.Mutex
	busy, peak int // items lent now, and at most so far
}

func newPool[T any](size int) *pool[T] {
	return &pool[T]{free: make(chan T, size), done: make(chan struct{})}
}

// add puts a new item in the pool.
func (p *pool[T]) add(item T) {
	p.free <- item
	p.n++
}

// get waits for a free item; it fails once ctx ends or the pool is closed.
func (p *pool[T]) get(ctx context.Context) (T, error) {
	var zero T
	select {
	case <-ctx.Done():
		return zero, ctx.Err()
	case <-p.done:
		return zero, ErrClosed
	case item := <-p.free:
		select {
		case <-p.done:
			p.free <- item
			return zero, ErrClosed
		default:
		}
		p.mu.Lock()
		p.busy++
		p.peak = max(p.peak, p.busy)
		p.mu.Unlock()
		return item, nil
	}
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
		close(p.done)
		for i := 0; i < p.n; i++ {
			free(<-p.free) // waits for a call still using it
		}
	})
}
