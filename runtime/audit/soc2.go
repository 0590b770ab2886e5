// This file implements the mapping of audit records to the SOC 2 common
// criteria (AICPA Trust Services Criteria, 2017, revised 2022) that
// they evidence.

package audit

import "strings"

// Criterion is one SOC 2 common criterion of an evidence report, with
// the records that evidence it.
type Criterion struct {
	ID      string   `json:"id"`
	Title   string   `json:"title"`
	Covers  string   `json:"covers"` // which records evidence it, in words
	Records []uint64 `json:"records"`
}

// criteria lists the criteria a report maps records to, in report order.
var criteria = []Criterion{
	{ID: "CC6.1", Title: "Logical access security: identification, authentication and authorisation of every access", Covers: "every API call and admin command, with the tenant, subject, role and kind of credential it was made with"},
	{ID: "CC6.2", Title: "Registration and authorisation of new users before credentials are issued", Covers: "tenants created and credentials (tokens) issued"},
	{ID: "CC6.3", Title: "Role-based access: access granted, changed and removed", Covers: "tenants suspended, resumed, deleted or given new quotas, and calls refused for a role too low"},
	{ID: "CC6.5", Title: "Disposal: data and keys no longer needed are made unreadable", Covers: "cases and tenants crypto-shredded (data keys destroyed) and tenants deleted"},
	{ID: "CC7.2", Title: "Monitoring of system components for anomalies and security events", Covers: "refused calls (unauthenticated, permission denied, over quota), every read of the audit evidence itself, and the server's starts and stops (where the audit's coverage begins and ends)"},
	{ID: "CC8.1", Title: "Change management: changes authorised, recorded and traceable", Covers: "programs deployed, licences issued, quotas changed, tenants created and deleted"},
}

// Criteria returns the criteria record r evidences.
func Criteria(r *Record) []string {
	a := r.Action
	var out []string
	add := func(ids ...string) {
		for _, id := range ids {
			dup := false
			for _, o := range out {
				dup = dup || o == id
			}
			if !dup {
				out = append(out, id)
			}
		}
	}
	add("CC6.1")
	switch r.Result {
	case ResultOK:
	case "unauthenticated", "resource_exhausted":
		add("CC7.2")
	case "permission_denied":
		add("CC6.3", "CC7.2")
	}
	verb := a
	if i := strings.LastIndexByte(a, '/'); i >= 0 {
		verb = a[i+1:]
	}
	switch {
	case a == "knhk tenant create":
		add("CC6.2", "CC8.1")
	case a == "knhk tenant token":
		add("CC6.2")
	case a == "knhk tenant set":
		add("CC6.3", "CC8.1")
	case a == "knhk tenant suspend", a == "knhk tenant resume":
		add("CC6.3")
	case a == "knhk tenant delete":
		add("CC6.3", "CC6.5", "CC8.1")
	case strings.HasPrefix(a, "knhk tenant erase"), strings.HasPrefix(a, "knhk case erase"), verb == "EraseCase", strings.HasPrefix(a, "POST /erase"):
		add("CC6.5")
	case a == "knhk case encrypt":
		add("CC8.1")
	case strings.HasPrefix(a, "knhk license issue"):
		add("CC8.1")
	case verb == "Deploy":
		add("CC8.1")
	case strings.HasPrefix(a, "knhk audit"), strings.HasPrefix(a, "GET /audit"), strings.HasPrefix(a, "knhk serve "):
		add("CC7.2")
	}
	return out
}

// mapCriteria returns the criteria with the sequence numbers of the
// records (not redacted) that evidence each.
func mapCriteria(es []Entry) []Criterion {
	out := make([]Criterion, len(criteria))
	idx := map[string]int{}
	for i, c := range criteria {
		out[i] = c
		out[i].Records = []uint64{}
		idx[c.ID] = i
	}
	for i := range es {
		for _, id := range es[i].Criteria {
			if k, ok := idx[id]; ok {
				out[k].Records = append(out[k].Records, es[i].Seq)
			}
		}
	}
	return out
}
