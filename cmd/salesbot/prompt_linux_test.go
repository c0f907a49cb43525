//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/salesbot/salesbot/adapters/telegram/telegramtest"
)

// ioctl runs an ioctl on f without f.Fd(), which would make f blocking
// (and Close unable to stop a Read).
func ioctl(f *os.File, req uint, arg unsafe.Pointer) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var e syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, e = syscall.Syscall(syscall.SYS_IOCTL, fd, uintptr(req), uintptr(arg))
	}); err != nil {
		return err
	}
	if e != 0 {
		return e
	}
	return nil
}

// openPTY opens a pseudo-terminal: what is written to master is typed
// on slave, and what slave's terminal echoes is read from master.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	var n uint32
	var unlock int32
	if err := ioctl(master, syscall.TIOCGPTN, unsafe.Pointer(&n)); err != nil {
		t.Fatal(err)
	}
	if err := ioctl(master, syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); err != nil {
		t.Fatal(err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return master, slave
}

// echoes says whether the terminal tty echoes what is typed.
func echoes(tty *os.File) (bool, error) {
	var tio syscall.Termios
	if err := ioctl(tty, syscall.TCGETS, unsafe.Pointer(&tio)); err != nil {
		return false, err
	}
	return tio.Lflag&syscall.ECHO != 0, nil
}

// On a terminal the 2FA password is not echoed; the login code may be.
func TestPasswordPromptDoesNotEcho(t *testing.T) {
	const phone, password = "+15550002222", "pw-Never-Echoed-42"
	master, slave := openPTY(t)
	defer master.Close()
	defer slave.Close()
	var echoed lockedBuffer
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		b := make([]byte, 256)
		for {
			n, err := master.Read(b)
			echoed.Write(b[:n])
			if err != nil {
				return
			}
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sb, err := telegramtest.New(ctx, telegramtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	if _, err := sb.AddUser(telegramtest.UserSpec{Phone: phone, Username: "acme_tty", FirstName: "Acme", Password: password}); err != nil {
		t.Fatal(err)
	}
	var out, errb lockedBuffer
	a := newApp(slave, &out, &errb, func(string) string { return "" })
	opts := sb.ClientOptions()
	a.telegram = &opts
	typist := make(chan error, 1)
	go func() {
		typist <- func() error {
			waitFor := func(ok func() bool, limit time.Duration) bool {
				for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
					if ok() {
						return true
					}
				}
				return false
			}
			if !waitFor(func() bool { return strings.Contains(errb.String(), "Login code") }, 30*time.Second) {
				return fmt.Errorf("no login code prompt: %s", errb.String())
			}
			if _, err := master.WriteString(sb.LoginCode(phone) + "\n"); err != nil {
				return err
			}
			if !waitFor(func() bool { return strings.Contains(errb.String(), "2FA password") }, 30*time.Second) {
				return fmt.Errorf("no password prompt: %s", errb.String())
			}
			// Type once the terminal stops echoing (not at all, before the fix).
			waitFor(func() bool { on, err := echoes(slave); return err == nil && !on }, 2*time.Second)
			_, err := master.WriteString(password + "\n")
			return err
		}()
	}()
	code := a.main(ctx, []string{"accounts", "add", "--data-dir", t.TempDir(), "--label", "tty", "--phone", phone})
	if err := <-typist; err != nil {
		t.Fatal(err)
	}
	if code != 0 {
		t.Fatalf("add: %d %s %s", code, out.String(), errb.String())
	}
	if on, err := echoes(slave); err != nil || !on {
		t.Fatalf("the terminal was left without echo (%v)", err)
	}
	time.Sleep(50 * time.Millisecond) // the last echo, if any, reaches the master
	master.Close()
	<-drained
	got := echoed.String()
	if !strings.Contains(got, sb.LoginCode(phone)) {
		t.Fatalf("the terminal did not echo the login code: %q (is this test able to see an echo?)", got)
	}
	if strings.Contains(got, password) {
		t.Fatalf("the terminal echoed the 2FA password: %q", got)
	}
}
