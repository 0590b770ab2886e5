// This file implements case locks: one process at a time drives a case.

package store

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

// plainName is a case id that can name a file as it is.
var plainName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// LockCase takes the lock of caseID, so that no other process appends to
// the case while this one runs it: the directory's lock is held only for
// each commit, but a case's events must come from one engine at a time.
// It does not wait: a held case yields [ErrCaseBusy] at once, because the
// holder may be sleeping on a timer or waiting for a hung task. The
// returned function releases the lock; a process that dies releases it
// too. A read-only Store cannot lock.
func (s *Store) LockCase(caseID string) (release func() error, err error) {
	if s.readOnly {
		return nil, ErrReadOnly
	}
	name := caseID
	if !plainName.MatchString(name) {
		name = "x-" + hex.EncodeToString([]byte(caseID))
	}
	dir := filepath.Join(s.dir, "locks")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	f, err := openLock(filepath.Join(dir, name+".lock"))
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	ok, err := tryLockEx(f)
	if err != nil || !ok {
		f.Close()
		if err == nil {
			err = ErrCaseBusy
		}
		return nil, fmt.Errorf("case %s: %w", caseID, err)
	}
	return func() error {
		err := unlock(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}, nil
}
