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
// pending one, so a burst of edits is checked once, after the last.
type diagnoser struct {
	s       *Server
	mu      sync.Mutex
	timers  map[uri.URI]*time.Timer
	stopped bool
	wg      sync.WaitGroup
	pubMu   sync.Mutex
	pubVer  map[uri.URI]int32 // last published version per document
}

func (d *diagnoser) init(s *Server) {
	d.s = s
	d.timers = make(map[uri.URI]*time.Timer)
	d.pubVer = make(map[uri.URI]int32)
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
	if t := d.timers[u]; t != nil && t.Stop() {
		d.wg.Done() // the stopped timer's run will never happen
	}
	d.wg.Add(1)
	d.timers[u] = time.AfterFunc(delay, func() {
		defer d.wg.Done()
		d.s.publish(u)
	})
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
		d.schedule(u, d.s.opts.Debounce)
	}
}

// cancel drops u's pending diagnostics.
func (d *diagnoser) cancel(u uri.URI) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if t := d.timers[u]; t != nil && t.Stop() {
		d.wg.Done()
	}
	delete(d.timers, u)
	d.pubMu.Lock()
	delete(d.pubVer, u)
	d.pubMu.Unlock()
}

// stop cancels pending diagnostics and waits for running ones.
func (d *diagnoser) stop() {
	d.mu.Lock()
	d.stopped = true
	for u, t := range d.timers {
		if t.Stop() {
			d.wg.Done()
		}
		delete(d.timers, u)
	}
	d.mu.Unlock()
	d.wg.Wait()
}

// publish computes and sends u's diagnostics, unless the document changed
// or closed meanwhile (a newer schedule will publish) or a newer version
// was already published.
func (s *Server) publish(u uri.URI) {
	v := s.newView()
	snap, err := v.snapshot(u)
	if err != nil || s.client == nil {
		return
	}
	diags := v.diagnose(snap)
	cur, err := s.newView().snapshot(u)
	if err != nil || cur.version != snap.version || cur.gen != snap.gen {
		return
	}
	s.diag.pubMu.Lock()
	defer s.diag.pubMu.Unlock()
	if v, ok := s.diag.pubVer[u]; ok && v > snap.version {
		return
	}
	s.diag.pubVer[u] = snap.version
	err = s.client.PublishDiagnostics(context.Background(), &protocol.PublishDiagnosticsParams{
		URI: u, Version: protocol.NewOptional(snap.version), Diagnostics: diags,
	})
	if err != nil {
		s.logf("publishDiagnostics %s: %v", u, err)
	}
}

// diagnose returns the LSP diagnostics of the document in snap.
func (s *view) diagnose(snap snapshot) []protocol.Diagnostic {
	a := s.analyze(snap)
	return s.convertDiagnostics(a, a.diags)
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
