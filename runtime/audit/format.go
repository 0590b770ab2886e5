// This file implements the evidence report's formats: JSON (the whole
// report), CSV (one row per record, for a spreadsheet) and HTML (a page
// for people, with the JSON report embedded so that the page itself can
// be verified).

package audit

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
)

// Formats lists the export formats.
var Formats = []string{"json", "csv", "html"}

// Write writes ev in format (json, csv or html) to w.
func Write(w io.Writer, ev *Evidence, format string) error {
	switch format {
	case "json":
		return WriteJSON(w, ev)
	case "csv":
		return WriteCSV(w, ev)
	case "html":
		return WriteHTML(w, ev)
	}
	return fmt.Errorf("unknown format %q (want %s)", format, strings.Join(Formats, ", "))
}

// WriteJSON writes ev as indented JSON.
func WriteJSON(w io.Writer, ev *Evidence) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(ev)
}

// CSVHeader is the first row of the CSV export.
var CSVHeader = []string{"seq", "time", "tenant", "subject", "role", "credential", "action", "targets", "remote", "result", "detail", "criteria", "prev", "hash", "body"}

// WriteCSV writes one row per record; a redacted record has only its
// sequence number, digests and "redacted" in its tenant column. The
// anchors and the proof are in the JSON and HTML exports only.
func WriteCSV(w io.Writer, ev *Evidence) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for _, e := range ev.Records {
		row := make([]string, len(CSVHeader))
		row[0] = strconv.FormatUint(e.Seq, 10)
		if r := e.Record; r != nil {
			copy(row[1:], []string{r.Time, r.Tenant, r.Subject, r.Role, r.Credential, r.Action, strings.Join(r.Targets, " "), r.Remote, r.Result, r.Detail, strings.Join(e.Criteria, " ")})
		} else {
			row[2] = "redacted"
		}
		row[12], row[13], row[14] = e.Prev.String(), e.Hash.String(), e.Body.String()
		for i := range row {
			row[i] = csvSafe(row[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a cell from being read as a formula by a spreadsheet
// (CSV injection): a subject or target id is user-chosen text.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// htmlDataOpen starts the JSON report embedded in the HTML export.
const htmlDataOpen = `<script type="application/json" id="knhk-evidence">`

var page = template.Must(template.New("evidence").Funcs(template.FuncMap{
	"join": strings.Join,
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>KNHK audit evidence ({{.E.Scope}})</title>
<style>
body{font:14px system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f3f3f3}.bad{color:#b00}.ok{color:#070}code{font-size:12px}
</style></head><body>
<h1>Audit evidence</h1>
<p>Scope: {{.E.Scope}}. Generated {{.E.Generated}}. {{len .E.Records}} records, {{len .E.Anchors}} anchors.</p>
<h2>Verification</h2>
{{with .E.Found}}{{if .Problem}}<p class="bad" id="problem">First bad record: {{.Problem.Seq}}: {{.Problem.Reason}}</p>{{else if $.E.Tree}}<p class="ok" id="verified">The chain of {{.Records}} records verifies ({{.Redacted}} redacted); every record is proved in the Merkle tree of {{.TreeSize}} records, root <code>{{.TreeRoot}}</code>, whose head node {{.TreeNode}} signed{{if .Key}} with key {{.Key}}{{end}}.</p>{{else}}<p class="ok" id="verified">The chain of {{.Records}} records verifies ({{.Redacted}} redacted); {{.Anchors}} anchors match it; {{.Proved}} anchors, covering {{.Anchored}} records, are proved in the receipt checkpoint of size {{.Checkpoint}} signed by key {{.Key}}.</p>{{end}}{{if .ProofNote}}<p>{{.ProofNote}}</p>{{end}}{{end}}
{{if .E.Tree}}<p>To check offline: <code>knhk audit verify --evidence THIS_FILE --trust NODEKEYS</code>, NODEKEYS a directory of the cluster nodes' <code>audit.pub</code> (the report is embedded in this page).</p>{{else}}<p>To check offline: <code>knhk audit verify --evidence THIS_FILE --trust SIGNER.pub</code> (the report is embedded in this page), or extract the <code>proof</code> member of the JSON export and run <code>knhk receipts check-proof --trust SIGNER.pub</code>.</p>{{end}}
<h2>SOC 2 common criteria</h2>
<table id="criteria"><tr><th>criterion</th><th>what it requires</th><th>evidenced by</th><th>records</th></tr>
{{range .E.Criteria}}<tr><td>{{.ID}}</td><td>{{.Title}}</td><td>{{.Covers}}</td><td>{{len .Records}}</td></tr>
{{end}}</table>
<h2>Records</h2>
<table id="records"><tr><th>seq</th><th>time</th><th>tenant</th><th>subject</th><th>role</th><th>credential</th><th>action</th><th>targets</th><th>from</th><th>result</th><th>criteria</th><th>hash</th></tr>
{{range .E.Records}}{{if .Record}}{{with .Record}}<tr><td>{{.Seq}}</td><td>{{.Time}}</td><td>{{.Tenant}}</td><td>{{.Subject}}</td><td>{{.Role}}</td><td>{{.Credential}}</td><td>{{.Action}}</td><td>{{join .Targets " "}}</td><td>{{.Remote}}</td><td>{{.Result}}{{if .Detail}}: {{.Detail}}{{end}}</td>{{end}}<td>{{join .Criteria " "}}</td><td><code>{{.Hash}}</code></td></tr>
{{else}}<tr><td>{{.Seq}}</td><td colspan="10">redacted (another tenant's record)</td><td><code>{{.Hash}}</code></td></tr>
{{end}}{{end}}</table>
<h2>Anchors</h2>
<table id="anchors"><tr><th>records</th><th>head</th><th>time (ns)</th></tr>
{{range .E.Anchors}}<tr><td>{{.Size}}</td><td><code>{{.Head}}</code></td><td>{{.Time}}</td></tr>
{{end}}</table>
{{.Data}}{{.JSON}}</script>
</body></html>
`))

// WriteHTML writes ev as a page, with ev as JSON embedded in it.
func WriteHTML(w io.Writer, ev *Evidence) error {
	b, err := json.Marshal(ev) // escapes <, > and &: safe inside <script>
	if err != nil {
		return err
	}
	return page.Execute(w, struct {
		E    *Evidence
		Data template.HTML
		JSON template.HTML
	}{ev, template.HTML(htmlDataOpen), template.HTML(b)})
}
