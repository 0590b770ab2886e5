// This file implements "knhk fsck": a read-only check of a data
// directory.

package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/knhk/knhk/runtime/store"
)

var fsckCmd = &command{
	name:      "fsck",
	usageLine: "knhk fsck [--data DIR]",
	short:     "check a data directory for damage without changing it",
	long: `Fsck reads the whole data directory (--data, default ./.knhk) and reports
damage: every record of the event log is read and its checksum and
sequence number checked, the log is checked against HEAD (the durable
record of what the log acknowledged, so that a deleted, cut or damaged
end of the log is told apart from a shorter intact one), and the latest
snapshot is checked. Each problem is printed with its file and byte
offset. It also lists case metadata files (cases/ID.json) that name no
case in the log: a case whose process died before its first event was
durable, whose id was never printed.

Fsck changes nothing and takes no lock: it works while cases run and on
a read-only copy. It exits with status 0 when the directory is sound and
1 when acknowledged records are damaged or lost; knhk repair then cuts
the log back to its intact part, for an operator who accepts the loss.
Bytes after the acknowledged end (a commit that never returned) are not
damage: the next knhk run drops them.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		data := fs.String("data", ".knhk", "the data `DIR` to check")
		return func(e *env, args []string) int { return runFsck(e, *data, args) }
	},
}

func runFsck(e *env, data string, args []string) int {
	if len(args) != 0 {
		return usageError(e, "want no arguments, got %d", len(args))
	}
	ctx := context.Background()
	rep, err := store.Check(ctx, data, store.Options{})
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	for _, d := range rep.Damage {
		fmt.Fprintf(e.stdout, "damage: %s at offset %d: %s\n", d.File, d.Offset, d.Reason)
	}
	fmt.Fprintf(e.stdout, "%s: %d segments, %d records readable (up to %d), %d acknowledged\n", data, rep.Segments, rep.Records, rep.LastSeq, rep.Acknowledged)
	if rep.Unacknowledged > 0 {
		fmt.Fprintf(e.stdout, "%d bytes after the acknowledged end (a commit that never returned; the next run drops them)\n", rep.Unacknowledged)
	}
	if len(rep.Damage) > 0 {
		fmt.Fprintf(e.stdout, "acknowledged records are damaged or lost; knhk repair --data %s cuts the log back to its intact part\n", data)
		return exitUser
	}
	ghosts, err := ghostCases(ctx, data)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	for _, g := range ghosts {
		fmt.Fprintf(e.stdout, "case %s has metadata (%s) but no event; knhk repair removes it\n", strings.TrimSuffix(filepath.Base(g), ".json"), g)
	}
	fmt.Fprintf(e.stdout, "ok\n")
	return exitOK
}

// ghostCases lists the metadata files of DIR/cases that name no case in
// the log.
func ghostCases(ctx context.Context, data string) ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(data, "cases"))
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	d, err := openData(data, false)
	if err != nil {
		return nil, err
	}
	defer d.close()
	_, byID, err := d.index(ctx)
	if err != nil {
		return nil, err
	}
	var ghosts []string
	for _, ent := range ents {
		id, ok := strings.CutSuffix(ent.Name(), ".json")
		if !ok || byID[id] != nil {
			continue
		}
		ghosts = append(ghosts, filepath.Join(data, "cases", ent.Name()))
	}
	return ghosts, nil
}
