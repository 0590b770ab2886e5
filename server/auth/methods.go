// This file implements the table of the least role each API method and
// console page needs.

package auth

import (
	"net/http"
	"strings"
)

// ServicePath is the URL path prefix of the Connect API's methods.
const ServicePath = "/knhk.v1.KnhkService/"

// MethodRoles maps each method of knhk.v1.KnhkService to the least role
// that may call it. A method not in the table is refused for everyone
// (and TestEveryMethodHasARole fails).
var MethodRoles = map[string]Role{
	"ListPrograms": RoleViewer,
	"GetCase":      RoleViewer,
	"WaitCase":     RoleViewer,
	"GetHistory":   RoleViewer,
	"WatchHistory": RoleViewer,
	"ListCases":    RoleViewer,
	"QueryCase":    RoleViewer,
	"Export":       RoleViewer,

	"StartCase":            RoleOperator,
	"SignalCase":           RoleOperator,
	"CancelCase":           RoleOperator,
	"PollTask":             RoleOperator,
	"Heartbeat":            RoleOperator,
	"CompleteTask":         RoleOperator,
	"FailTask":             RoleOperator,
	"CompleteAndPollTask":  RoleOperator,
	"CompleteAndPollTasks": RoleOperator,
	"WorkTasks":            RoleOperator,

	"Deploy": RoleDeployer,
}

// PageRoles maps the console's and metrics' HTTP routes (method and path
// prefix) to the least role that may read them. The console's static
// assets are public: they hold no data.
var PageRoles = []struct {
	Method, Prefix string
	Role           Role
}{
	{"GET", "/console/api/", RoleViewer},
	{"GET", "/metrics", RoleViewer},
}

// Required returns the least role r needs, and false when no entry
// allows r (an unknown method: refuse it).
func Required(r *http.Request) (Role, bool) {
	if m, ok := strings.CutPrefix(r.URL.Path, ServicePath); ok {
		role, ok := MethodRoles[m]
		return role, ok
	}
	for _, p := range PageRoles {
		if (r.Method == p.Method || r.Method == http.MethodHead && p.Method == http.MethodGet) && strings.HasPrefix(r.URL.Path, p.Prefix) {
			return p.Role, true
		}
	}
	return RoleNone, false
}
