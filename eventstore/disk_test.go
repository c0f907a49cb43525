package eventstore

import (
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
)

// lowDiskFS reports the free space it is told to.
type lowDiskFS struct {
	vfs.FS
	free *atomic.Uint64
}

func (f lowDiskFS) GetDiskUsage(string) (vfs.DiskUsage, error) {
	return vfs.DiskUsage{AvailBytes: f.free.Load(), TotalBytes: 1 << 40}, nil
}

func (f lowDiskFS) Unwrap() vfs.FS { return f.FS }

// Below the free-space floor Open refuses, naming the directory and the
// free space; a disk that fills up while the store runs makes appends
// fail with ErrDiskFull and stops the store, and Close still works.
func TestFreeSpaceFloor(t *testing.T) {
	var free atomic.Uint64
	free.Store(10 << 20)
	fs := lowDiskFS{FS: vfs.NewMem(), free: &free}
	_, err := Open("data", Options{MasterKey: key32(), FS: fs})
	var de *DiskFullError
	if !errors.As(err, &de) || !errors.Is(err, ErrDiskFull) || de.Dir != "data" || de.Free != 10<<20 || de.Floor != DefaultMinFreeBytes {
		t.Fatalf("open on a nearly full disk: %v, want a DiskFullError naming data and 10 MiB", err)
	}
	free.Store(1 << 30)
	s, err := Open("data", Options{MasterKey: key32(), FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, s, "dialog-1", 3)
	free.Store(1 << 20)
	time.Sleep(300 * time.Millisecond) // the leader looks again every quarter second
	_, err = s.Append(t.Context(), "dialog-1", Any, Event{Type: "E"})
	if !errors.Is(err, ErrDiskFull) || !errors.As(err, &de) || de.Free != 1<<20 {
		t.Fatalf("append on a full disk: %v, want ErrDiskFull", err)
	}
	if _, err := s.Append(t.Context(), "dialog-1", Any, Event{Type: "E"}); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("a later append: %v, want ErrDiskFull", err)
	}
	if _, err := s.WaitHead(t.Context(), s.Head()); !errors.Is(err, ErrClosed) {
		t.Fatalf("a follower of the log: %v, want ErrClosed", err)
	}
	if err := s.Err(); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("the store's error: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close after a full disk: %v", err)
	}
	// Room again: the log opens with everything acknowledged.
	free.Store(1 << 30)
	s, err = Open("data", Options{MasterKey: key32(), FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if rep, err := s.Verify(t.Context(), nil); err != nil || rep.Events != 3 {
		t.Fatalf("after the disk was freed: %+v %v", rep, err)
	}
}

// Pebble itself meets ENOSPC (the disk filled up from outside between two
// looks): appends under way fail with an error, nothing panics, later
// appends fail at once, Close returns, and the log reopens with every
// acknowledged append once there is room.
func TestENOSPCFromTheFilesystem(t *testing.T) {
	mem := vfs.NewMem()
	var on atomic.Bool
	fs := errorfs.Wrap(mem, errorfs.InjectorFunc(func(op errorfs.Op) error {
		if on.Load() && op.Kind.ReadOrWrite() == errorfs.OpIsWrite {
			return &os.PathError{Op: "write", Path: op.Path, Err: syscall.ENOSPC}
		}
		return nil
	}))
	s, err := Open("data", Options{MasterKey: key32(), FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, s, "dialog-1", 5)
	on.Store(true)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			_, err := s.Append(t.Context(), "dialog-2", Any, Event{Type: "E", Payload: make([]byte, 1000)})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if err != nil {
			failed++
			if !errors.Is(err, ErrClosed) {
				t.Fatalf("append on a full disk: %v, want the store failed", err)
			}
		}
	}
	if failed == 0 {
		t.Fatal("every append succeeded on a disk that refuses writes")
	}
	if err := s.Err(); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("the store's error: %v, want ErrDiskFull", err)
	}
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hangs after ENOSPC")
	}
	on.Store(false)
	s, err = Open("data", Options{MasterKey: key32(), FS: fs})
	if err != nil {
		t.Fatalf("reopen after the disk was freed: %v", err)
	}
	defer s.Close()
	if rep, err := s.Verify(t.Context(), nil); err != nil || rep.Events < 5 {
		t.Fatalf("after the disk was freed: %+v %v", rep, err)
	}
}
