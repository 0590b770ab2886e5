// Package auth implements who may call knhk serve: bearer tokens that are
// OIDC-style JWTs verified offline against configured public keys (or the
// static token of --token-file), the tenant and role each one carries,
// and the table of the least role each API method and console page needs.
//
// Roles are ordered: viewer < operator < deployer < admin. A viewer reads
// cases, programs and history; an operator also starts, signals and
// cancels cases and runs workers; a deployer also deploys programs; an
// admin may do everything, tenant administration included. A method
// missing from [MethodRoles] is refused, and a test fails until it has an
// entry, so a new method cannot ship unguarded.
package auth
