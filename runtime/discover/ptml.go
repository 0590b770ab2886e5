// This file implements reading PTML, the XML form of process trees that
// ProM and pm4py write.

package discover

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

type ptmlDoc struct {
	Tree struct {
		Root  string     `xml:"root,attr"`
		Nodes []ptmlNode `xml:",any"`
	} `xml:"processTree"`
}

type ptmlNode struct {
	XMLName xml.Name
	ID      string `xml:"id,attr"`
	Name    string `xml:"name,attr"`
	Source  string `xml:"sourceId,attr"`
	Target  string `xml:"targetId,attr"`
}

// ptmlOps maps PTML element names to operators. An automaticTask is a
// silent step; xorLoop's children are do, redo and exit.
var ptmlOps = map[string]Op{
	"manualTask": Activity, "automaticTask": Tau,
	"sequence": Seq, "xor": Xor, "and": And, "xorLoop": Loop,
}

// ReadPTML reads a process tree in PTML. Children are in the order of
// their parentsNode elements. An unknown element kind (or, def, ...) or
// a dangling reference is an error naming it.
func ReadPTML(r io.Reader) (*Node, error) {
	d := xml.NewDecoder(r)
	d.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		if strings.EqualFold(label, "utf-8") {
			return in, nil
		}
		return &byteRunes{r: in}, nil
	}
	var doc ptmlDoc
	if err := d.Decode(&doc); err != nil {
		return nil, fmt.Errorf("bad ptml: %v", err)
	}
	nodes := map[string]*Node{}
	for _, x := range doc.Tree.Nodes {
		if x.XMLName.Local == "parentsNode" {
			continue
		}
		op, ok := ptmlOps[x.XMLName.Local]
		if !ok {
			return nil, fmt.Errorf("bad ptml: node %s: unsupported kind <%s>", x.ID, x.XMLName.Local)
		}
		n := &Node{Op: op}
		if op == Activity {
			n.Label = x.Name
		}
		nodes[x.ID] = n
	}
	for _, x := range doc.Tree.Nodes {
		if x.XMLName.Local != "parentsNode" {
			continue
		}
		p, c := nodes[x.Source], nodes[x.Target]
		if p == nil || c == nil {
			return nil, fmt.Errorf("bad ptml: parentsNode %s: unknown node %q or %q", x.ID, x.Source, x.Target)
		}
		p.Children = append(p.Children, c)
	}
	root := nodes[doc.Tree.Root]
	if root == nil {
		return nil, fmt.Errorf("bad ptml: no root node %q", doc.Tree.Root)
	}
	if err := checkTree(root, map[*Node]bool{}); err != nil {
		return nil, err
	}
	return root, nil
}

// checkTree rejects a node reached twice (a cycle or a shared child)
// and operators without the children they need.
func checkTree(n *Node, seen map[*Node]bool) error {
	if seen[n] {
		return fmt.Errorf("bad ptml: a node has two parents or is its own ancestor")
	}
	seen[n] = true
	switch {
	case (n.Op == Activity || n.Op == Tau) && len(n.Children) > 0:
		return fmt.Errorf("bad ptml: task %q has children", n.Label)
	case n.Op == Loop && len(n.Children) < 2:
		return fmt.Errorf("bad ptml: xorLoop with %d children, want 2 or 3", len(n.Children))
	case n.Op != Activity && n.Op != Tau && len(n.Children) == 0:
		return fmt.Errorf("bad ptml: operator without children")
	}
	for _, c := range n.Children {
		if err := checkTree(c, seen); err != nil {
			return err
		}
	}
	return nil
}

// byteRunes decodes a single-byte encoding (ISO-8859-1) to UTF-8.
type byteRunes struct {
	r   io.Reader
	out []byte
}

func (b *byteRunes) Read(p []byte) (int, error) {
	for len(b.out) == 0 {
		buf := make([]byte, 4096)
		n, err := b.r.Read(buf)
		for _, c := range buf[:n] {
			b.out = append(b.out, string(rune(c))...)
		}
		if n == 0 && err != nil {
			return 0, err
		}
	}
	n := copy(p, b.out)
	b.out = b.out[n:]
	return n, nil
}
