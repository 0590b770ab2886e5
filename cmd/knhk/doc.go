// Knhk is the command-line tool for KNHK workflows.
//
// Usage:
//
//	knhk <command> [flags] [arguments]
//
// The commands are:
//
//	check    parse and type-check .knhk files, printing diagnostics
//	fmt      format .knhk files (like gofmt: -l, -d, -w, --check)
//	ir       print the compiled IR of a .knhk file (--workflow W, --hash)
//	graph    draw the workflow nets of a .knhk file as DOT or SVG (-o OUT.svg)
//	run      run a workflow as a durable case (--input FILE.json, --data DIR)
//	build    compile a program to a standalone binary (-o APP, --emit-go DIR)
//	hls      write kernels or a workflow's dispatch as HLS C++ (-o DIR, --net W)
//	spirv    compile the kernels of a .knhk file to SPIR-V (-o OUT.spv)
//	devices  list the Vulkan devices kernels can run on (--json)
//	signal   send a signal to a waiting case and run it on (CASE NAME [JSON])
//	resume   resume a case: fire its due timers and run it on (CASE)
//	query    evaluate a case's queries and print them as JSON (CASE [NAME])
//	cases    list the cases of a data directory (--json)
//	history  print the events of a case in order (--json)
//	case     encrypt a data directory's cases and erase (crypto-shred) them
//	export   export case event logs as XES or CSV for process mining (--xes, --csv)
//	discover discover a workflow from an event log (LOG.xes|.csv, --noise N)
//	predict  predict a case's next activity and remaining time (CASE, --train LOG)
//	learn    show, reset or export the policies of learned routes
//	serve    run every case of a data directory and serve the API (--listen ADDR)
//	cluster  manage a cluster of knhk serve --node and its cases (status, add, remove)
//	keygen   generate a signing or sealing key (--alg ALG, -o FILE)
//	key      show a key's algorithm, class, id and public key (show FILE)
//	sign     sign a compiled descriptor (--key KEY FILE)
//	verify   verify a compiled descriptor's signature (--trust DIR FILE)
//	receipts verify the receipt log, prove a case's receipts, check a proof
//	audit    export and verify the audit log: SOC 2 evidence with offline proofs
//	license  issue, show and verify licence tokens
//	usage    signed monthly usage reports from the event log
//	tenant   create, list, suspend and delete tenants and issue their tokens
//	seal     seal a secret for a sealing key (--to KEY.pub)
//	fsck     check a data directory for damage without changing it (--data DIR)
//	repair   cut a damaged data directory back to its intact part (--data DIR)
//	lsp      run the language server on standard input and output
//	version  print the version of knhk
//	help     print help for a command
//
// Every command accepts -h and --help. The exit status is 0 on success, 1 for
// a user error (bad input, a failed check, a usage error) and 2 for an
// internal error, which also prints a stack trace to standard error.
//
// Diagnostics are printed as "file:line:col: message [code]", followed by
// the source line and a caret line under the offending span. Lines and
// columns are 1-based; columns count bytes.
package main
