// This file implements diagnostics: converting source.Diagnostic to the
// LSP form, and the debounced push of publishDiagnostics.

package server

import (
	"context"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lsp/mapper"
)

// diagnoser schedules diagnostics per document. Each schedule replaces the
// pending one, so a burst of edits is checked once, after the last; and at
// most one check of a document runs at a time: a schedule that fires while
// one runs marks the document dirty, and the running one goes again when
// it is done, so a slow check never piles up behind fast typing.
type diagnoser struct {
	s       *Server
	mu      sync.Mutex
	docs    map[uri.URI]*diagState
	stopped bool
	wg      sync.WaitGroup
	pubMu   sync.Mutex
	pubVer  map[uri.URI]int32 // last published version per document
	last    time.Duration     // how long the last type check took
}

type diagState struct {
	timer   *time.Timer
	running bool     // a check of the document is running
	dirty   bool     // scheduled again while running
	gating  bool     // a soundness gate of the document is running
	next    *gateJob // the gate to run after it
}

func (d *diagnoser) init(s *Server) {
	d.s = s
	d.docs = make(map[uri.URI]*diagState)
	d.pubVer = make(map[uri.URI]int32)
}

// The bounds of the adaptive debounce (Options.Debounce zero).
const (
	minDebounce = 10 * time.Millisecond
	maxDebounce = 50 * time.Millisecond
)

// delay returns how long diagnostics wait after an edit. A fixed
// Options.Debounce is used as given. The default adapts: it waits as long
// as the last type check took, between minDebounce and maxDebounce. A
// check that takes less than the pause between two keystrokes costs
// little, so there is no point waiting longer than one; and the cap keeps
// the time from the last keystroke to its diagnostics at maxDebounce plus
// one check (under 100 ms for a 5,000-line file).
func (d *diagnoser) delay() time.Duration {
	switch o := d.s.opts.Debounce; {
	case o < 0:
		return 0
	case o > 0:
		return o
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return min(max(d.last, minDebounce), maxDebounce)
}

// observe records how long a type check took.
func (d *diagnoser) observe(took time.Duration) {
	d.mu.Lock()
	d.last = took
	d.mu.Unlock()
}

// schedule publishes u's diagnostics after delay.
func (d *diagnoser) schedule(u uri.URI, delay time.Duration) {
	if delay < 0 {
		delay = 0
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return
	}
	st := d.docs[u]
	if st == nil {
		st = &diagState{}
		d.docs[u] = st
	}
	if st.timer != nil && st.timer.Stop() {
		d.wg.Done() // the stopped timer's run will never happen
	}
	d.wg.Add(1)
	st.timer = time.AfterFunc(delay, func() {
		defer d.wg.Done()
		d.run(u, st)
	})
}

// run checks and publishes u until no schedule came in meanwhile.
func (d *diagnoser) run(u uri.URI, st *diagState) {
	d.mu.Lock()
	if st.running {
		st.dirty = true
		d.mu.Unlock()
		return
	}
	st.running = true
	d.mu.Unlock()
	for {
		d.s.publish(u)
		d.mu.Lock()
		if !st.dirty || d.stopped {
			st.running = false
			d.mu.Unlock()
			return
		}
		st.dirty = false
		d.mu.Unlock()
	}
}

// scheduleOthers re-checks every other open document after a debounce: any
// of them may import the one that changed.
func (d *diagnoser) scheduleOthers(changed uri.URI) {
	d.s.mu.Lock()
	var others []uri.URI
	for u := range d.s.docs {
		if u != changed {
			others = append(others, u)
		}
	}
	d.s.mu.Unlock()
	for _, u := range others {
		d.schedule(u, d.delay())
	}
}

// cancel drops u's pending diagnostics.
func (d *diagnoser) cancel(u uri.URI) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if st := d.docs[u]; st != nil && st.timer != nil && st.timer.Stop() {
		d.wg.Done()
	}
	delete(d.docs, u)
	d.pubMu.Lock()
	delete(d.pubVer, u)
	d.pubMu.Unlock()
}

// stop cancels pending diagnostics and waits for running ones.
func (d *diagnoser) stop() {
	d.mu.Lock()
	d.stopped = true
	for u, st := range d.docs {
		if st.timer != nil && st.timer.Stop() {
			d.wg.Done()
		}
		delete(d.docs, u)
	}
	d.mu.Unlock()
	d.wg.Wait()
}

// publish computes and sends u's diagnostics, unless the document changed
// or closed meanwhile (a newer schedule will publish) or a newer version
// was already published. The type checker's come first; when the file
// type-checks, the soundness gate's (the K429 errors of knhk check) are
// added by the document's gate runner (see gate.go), in the same publish
// if the gate is quick, else in a second one. publish does not wait for a
// slow gate, so the next edit's check never queues behind a proof.
func (s *Server) publish(u uri.URI) {
	v := s.newView()
	snap, err := v.snapshot(u)
	if err != nil || s.client == nil {
		return
	}
	start := time.Now()
	a := v.analyze(snap)
	s.diag.observe(time.Since(start))
	diags := v.convertDiagnostics(a, a.diags)
	if a.pkg == nil || a.diags.HasErrors() || !s.isCurrent(snap) {
		s.send(snap, diags)
		return
	}
	job := &gateJob{v: v, snap: snap, a: a, diags: diags, done: make(chan struct{})}
	s.diag.gate(u, job)
	select {
	case <-job.done:
	case <-time.After(gateWait):
		job.mu.Lock()
		if !job.sent {
			s.send(snap, diags)
		}
		job.mu.Unlock()
	}
}

// isCurrent reports whether snap is still the state of its document and of
// every document it may import.
func (s *Server) isCurrent(snap snapshot) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.docs[snap.uri]
	return d != nil && d.version == snap.version && s.gen == snap.gen
}

// send publishes diags for snap if snap is still current and no newer
// version was published; it reports whether it published.
func (s *Server) send(snap snapshot, diags []protocol.Diagnostic) bool {
	if !s.isCurrent(snap) {
		return false
	}
	s.diag.pubMu.Lock()
	defer s.diag.pubMu.Unlock()
	if v, ok := s.diag.pubVer[snap.uri]; ok && v > snap.version {
		return false
	}
	s.diag.pubVer[snap.uri] = snap.version
	err := s.client.PublishDiagnostics(context.Background(), &protocol.PublishDiagnosticsParams{
		URI: snap.uri, Version: protocol.NewOptional(snap.version), Diagnostics: diags,
	})
	if err != nil {
		s.logf("publishDiagnostics %s: %v", snap.uri, err)
	}
	return true
}

// diagnose returns the LSP diagnostics of the document in snap: the type
// checker's and, when it type-checks, the soundness gate's.
func (s *view) diagnose(snap snapshot) []protocol.Diagnostic {
	a := s.analyze(snap)
	return s.convertDiagnostics(a, append(a.diags[:len(a.diags):len(a.diags)], a.soundness()...))
}

// convertDiagnostics converts the diagnostics that belong to a's file.
// A diagnostic inside an imported file is shown on the import that brought
// it in, since the editor may not have that file open.
func (s *view) convertDiagnostics(a *analysis, ds source.Diagnostics) []protocol.Diagnostic {
	out := make([]protocol.Diagnostic, 0, len(ds))
	for _, d := range ds {
		pd, ok := s.convertDiagnostic(a, d)
		if ok {
			out = append(out, pd)
		}
	}
	return out
}

func (s *view) convertDiagnostic(a *analysis, d *source.Diagnostic) (protocol.Diagnostic, bool) {
	sp := d.Span
	msg := d.Message
	if d.File != nil && filepath.Clean(d.File.Name) != a.path {
		imp, ok := a.importOf(d.File.Name)
		if !ok {
			return protocol.Diagnostic{}, false
		}
		p := d.File.Position(d.Span.Start)
		msg = filepath.Base(d.File.Name) + ":" + strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Column) + ": " + d.Message
		sp = imp
	}
	if !a.ownsSpan(sp) {
		sp = source.Span{Start: 0, End: 0}
	}
	r, err := a.m.Range(int(sp.Start), int(sp.End))
	if err != nil {
		return protocol.Diagnostic{}, false
	}
	pd := protocol.Diagnostic{
		Range:    r,
		Severity: severity(d.Severity),
		Source:   protocol.NewOptional("knhk"),
		Message:  protocol.String(msg),
	}
	if d.Code != 0 {
		pd.Code = protocol.String("K" + strconv.Itoa(int(d.Code)))
	}
	if d.Code == source.UnusedVariable || d.Code == source.UnusedImport {
		pd.Tags = protocol.NewDiagnosticTags(protocol.DiagnosticTagUnnecessary)
	}
	for _, rel := range d.Related {
		if rel.File == nil {
			continue
		}
		m := mapper.ForFile(rel.File, a.m.Encoding())
		rr, err := m.Range(int(rel.Span.Start), int(rel.Span.End))
		if err != nil {
			continue
		}
		pd.RelatedInformation = append(pd.RelatedInformation, protocol.DiagnosticRelatedInformation{
			Location: protocol.Location{URI: s.uriFor(rel.File.Name), Range: rr},
			Message:  rel.Message,
		})
	}
	return pd, true
}

// importOf returns the span of the import declaration that loads path.
func (a *analysis) importOf(path string) (source.Span, bool) {
	want := filepath.Clean(path)
	for _, imp := range a.file.Imports {
		if imp.Path == nil {
			continue
		}
		p, ok := imp.Path.Unquoted()
		if !ok {
			continue
		}
		if p == path || filepath.Clean(filepath.Join(filepath.Dir(a.path), p)) == want {
			return imp.Span(), true
		}
	}
	return source.Span{}, false
}

func severity(s source.Severity) protocol.DiagnosticSeverity {
	switch s {
	case source.Error:
		return protocol.DiagnosticSeverityError
	case source.Warning:
		return protocol.DiagnosticSeverityWarning
	}
	return protocol.DiagnosticSeverityInformation
}
