package cluster

import "errors"

// ErrNotAdmitted is wrapped by a refusal of Config.AdmitStart or
// AdmitDeploy (a licence limit, a tenant's cap), so that the API can
// answer it as a single server does: a precondition the caller's
// entitlement does not meet, not bad input.
var ErrNotAdmitted = errors.New("not admitted")

// admissionError keeps the admitter's message as it is (it names the
// limit) while errors.Is finds both ErrNotAdmitted and what the
// admitter wrapped.
type admissionError struct{ err error }

func (e *admissionError) Error() string { return e.err.Error() }
func (e *admissionError) Unwrap() []error {
	return []error{ErrNotAdmitted, e.err}
}

// NotAdmitted marks err, a refusal of an admitter, as such; the node
// marks what AdmitStart and AdmitDeploy return.
func NotAdmitted(err error) error { return &admissionError{err: err} }
