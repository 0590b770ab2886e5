// Package tenant implements the tenants (namespaces) of knhk serve
// --tenants: a registry of tenants in the data directory, one data
// directory and one [server.Service] per tenant, and an HTTP front that
// authenticates each call (server/auth), picks the caller's tenant from
// its verified token and hands the call to that tenant's own API and
// console, with the tenant's quotas applied.
//
// Isolation is by construction rather than by filtering: a tenant's
// cases, programs, queues, event log and index live in its own directory
// (DIR/tenants/ID/data) served by its own Service, and a call only ever
// reaches the Service of the tenant its token names. Another tenant's
// case id, program hash, task id or queue name is simply unknown there,
// so it answers "not found" (or an empty poll), never data. The default
// tenant is the data directory itself, so a server without tenants and
// its --token-file keep working unchanged.
//
// On a raft cluster (knhk serve --node --tenants) a tenant is served by
// a [Group] instead ([Options.OpenGroup]): the tenant's own raft group on
// the cluster's nodes, whose API the front reaches after the same
// checks, so that isolation stays by construction there too.
package tenant
