// This file applies Options.OpenPayload to what scans read: the one
// place every reader of the log (replay, history, exports, the server's
// recovery) goes through, so a transformation of payloads at rest (knhk
// serve's crypto-shredding) needs no change to any of them.

package store

// openView returns v with its payload as Options.OpenPayload gives it.
func (s *Store) openView(v RecordView) (RecordView, error) {
	if s.opts.OpenPayload == nil {
		return v, nil
	}
	p, err := s.opts.OpenPayload(v.CaseID, v.Kind, v.Payload)
	if err != nil {
		return v, err
	}
	v.Payload = p
	return v, nil
}

// openRecord is openView for a Record.
func (s *Store) openRecord(r Record) (Record, error) {
	if s.opts.OpenPayload == nil {
		return r, nil
	}
	p, err := s.opts.OpenPayload([]byte(r.CaseID), []byte(r.Kind), r.Payload)
	if err != nil {
		return r, err
	}
	r.Payload = p
	return r, nil
}

// sealRecords applies Options.SealPayload to r's records, copying the
// slice before its first change: the caller's records are left as
// they are.
func (s *Store) sealRecords(r *request) error {
	if s.opts.SealPayload == nil {
		return nil
	}
	copied := false
	for i := range r.recs {
		rec := &r.recs[i]
		p, err := s.opts.SealPayload(rec.CaseID, rec.Kind, rec.Payload)
		if err != nil {
			return err
		}
		if len(p) == len(rec.Payload) && (len(p) == 0 || &p[0] == &rec.Payload[0]) {
			continue // unchanged
		}
		if !copied {
			r.recs = append([]Record(nil), r.recs...)
			copied = true
		}
		r.recs[i].Payload = p
	}
	return nil
}
