// This file implements the right to erasure on a Service whose data is
// crypto-shredded (Options.Erasure; runtime/audit holds the keys): an
// erasure destroys the case's key (or the tenant's), redacts the case's
// summary and writes the index at once, so that neither the log nor the
// index keeps the case's input or result in clear.

package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Erasure is the crypto-shredding of a Service's data (runtime/audit's
// Keys through cmd/knhk's wiring).
type Erasure interface {
	// Erased returns the error of reading case id once erased (or its
	// tenant), nil otherwise.
	Erased(id string) error
	// Written reports whether case id was written encrypted.
	Written(id string) bool
	// EraseCase destroys case id's key; EraseTenant the tenant's.
	EraseCase(id string) error
	EraseTenant() error
}

// erasedErr is the CodeNotFound error of reading an erased case, nil
// when the case was not erased.
func (s *Service) erasedErr(id string) error {
	if s.opts.Erasure == nil {
		return nil
	}
	if err := s.opts.Erasure.Erased(id); err != nil {
		return &Error{Code: CodeNotFound, Field: "case_id", Message: err.Error(), Err: err}
	}
	return nil
}

// EraseCase crypto-shreds case id: its key is destroyed, its summary
// keeps its status but neither result nor error (the error names the
// erasure), and the index is written again. A running case is refused
// (cancel it first), and so is a case written without encryption.
func (s *Service) EraseCase(ctx context.Context, id string) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	e, err := s.entry(id)
	if err != nil {
		return err
	}
	if s.opts.Erasure == nil || !s.opts.Erasure.Written(id) {
		return errf(CodeFailedPrecondition, "case_id", "cannot erase: case %s was written without encryption (turn it on with knhk case encrypt or knhk tenant create --encrypt; see docs/audit.md)", id)
	}
	sum := e.summary()
	if !sum.Done() {
		return errf(CodeFailedPrecondition, "case_id", "cannot erase: case %s is %s; cancel it first", id, sum.Status)
	}
	if err := s.opts.Erasure.EraseCase(id); err != nil {
		return fmt.Errorf("erasing case %s: %w", id, err)
	}
	s.redact(e)
	return s.writeIndex()
}

// EraseAll crypto-shreds every case of the Service at once by destroying
// the tenant's key. Running cases refuse it (cancel them first); new
// starts fail afterwards, the key being gone.
func (s *Service) EraseAll(ctx context.Context) (int, error) {
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.leave()
	if s.opts.Erasure == nil {
		return 0, errf(CodeFailedPrecondition, "", "cannot erase: this tenant's data was written without encryption (see docs/audit.md)")
	}
	s.mu.Lock()
	list := append([]*caseEntry(nil), s.list...)
	s.mu.Unlock()
	var running, clear []string
	for _, e := range list {
		sum := e.summary()
		switch {
		case !sum.Done():
			running = append(running, e.id)
		case !s.opts.Erasure.Written(e.id):
			clear = append(clear, e.id)
		}
	}
	if len(running) > 0 {
		return 0, errf(CodeFailedPrecondition, "", "cannot erase: cases %s are running; cancel them first", listShort(running))
	}
	if len(clear) > 0 {
		return 0, errf(CodeFailedPrecondition, "", "cannot erase: cases %s were written without encryption", listShort(clear))
	}
	if err := s.opts.Erasure.EraseTenant(); err != nil {
		return 0, fmt.Errorf("erasing the tenant: %w", err)
	}
	for _, e := range list {
		s.redact(e)
	}
	return len(list), s.writeIndex()
}

// redact drops what an erased case's summary carries of its data.
func (s *Service) redact(e *caseEntry) {
	sum := e.summary()
	sum.Result, sum.ErrorAt = "", nil
	sum.Error = s.opts.Erasure.Erased(e.id).Error()
	e.set(sum)
}

func listShort(ids []string) string {
	if len(ids) > 5 {
		return strings.Join(ids[:5], ", ") + fmt.Sprintf(" and %d more", len(ids)-5)
	}
	return strings.Join(ids, ", ")
}

// internalUnlessCoded is err as a CodeInternal *Error, unless it is an
// *Error with a code already (an erased case's CodeNotFound): a read
// that stops at an erasure says so with its own code.
func internalUnlessCoded(err error) error {
	var e *Error
	if errors.As(err, &e) && e.Code != CodeInternal {
		return err
	}
	return &Error{Code: CodeInternal, Message: err.Error(), Err: err}
}

// textSealer is an Erasure that also encrypts the index's fields
// (runtime/audit's Keys): a live case's result and error are then not
// kept in clear in DIR/server/index.jsonl either.
type textSealer interface {
	SealText(caseID, s string) (string, error)
	OpenText(caseID, s string) (string, error)
}

// sealSummary encrypts sum's result and error for the index (writeIndex);
// a field that cannot be sealed stays as it is.
func (s *Service) sealSummary(sum *Summary) {
	ts, ok := s.opts.Erasure.(textSealer)
	if !ok {
		return
	}
	if r, err := ts.SealText(sum.ID, sum.Result); err == nil {
		sum.Result = r
	}
	if m, err := ts.SealText(sum.ID, sum.Error); err == nil {
		sum.Error = m
	}
}

// openIndexLines decrypts what sealSummary encrypted (recover); an
// erased case's result is dropped and its error names the erasure.
func (s *Service) openIndexLines(lines []indexLine) {
	ts, ok := s.opts.Erasure.(textSealer)
	if !ok {
		return
	}
	for i := range lines {
		sum := &lines[i].Summary
		r, err := ts.OpenText(sum.ID, sum.Result)
		if err != nil {
			r = ""
		}
		m, merr := ts.OpenText(sum.ID, sum.Error)
		switch {
		case err != nil:
			m = err.Error()
		case merr != nil:
			m = merr.Error()
		}
		sum.Result, sum.Error = r, m
	}
}
