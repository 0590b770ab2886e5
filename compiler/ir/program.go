// This file implements programs: everything compiled from one package.

package ir

// Program is a compiled package: the unit that is encoded, hashed and
// signed (the descriptor).
type Program struct {
	Package string
	Files   []File
	Types   []Type // composite types; Types[i] has TypeID FirstComposite+i
	Funcs   []*Func
	Kernels []*Kernel
	Tasks   []*Task
	Nets    []*Net
}

// File is a source file that locations point into. Size, when positive,
// bounds the spans the verifier accepts.
type File struct {
	Name string
	Size int64
}

// Kernel is a data-parallel function. Its parameters are kernel scalars or
// lists of them; its result is a list of a kernel scalar as long as its
// first list parameter. Body computes one element: its parameters are the
// kernel's followed by the element index i (i32), and it returns the
// element.
type Kernel struct {
	Name   string
	Params []Param
	Result TypeID
	Body   FuncID
	Loc    Loc
}

// BindKind says what implements a task.
type BindKind uint8

// The bindings.
const (
	BindExec   BindKind = iota // Target is the program, Args its arguments
	BindHTTP                   // Method and Target (the URL)
	BindStd                    // Target is "module.task"
	BindExtern                 // Target is the registered symbol
	// BindQueue: Target is the queue that external workers poll. It
	// comes last so that the encoding of the other kinds is unchanged.
	BindQueue
	numBindKinds
)

var bindNames = [...]string{"exec", "http", "std", "extern", "queue"}

func (b BindKind) String() string {
	if b < numBindKinds {
		return bindNames[b]
	}
	return "bind(?)"
}

// Binding says how a task is run.
type Binding struct {
	Kind   BindKind
	Method string
	Target string
	Args   []string
}

// Task is leaf work with effects, with its default clauses. Backoff,
// Timeout and the arguments of Undo are functions whose single parameter,
// when they have one, is the call's result.
type Task struct {
	Name    string
	Params  []Param
	Result  TypeID
	Binding Binding
	Retry   int32
	Backoff FuncID
	Timeout FuncID
	Undo    *Call
	Loc     Loc
}

// Net returns the net named name, or nil.
func (p *Program) Net(name string) *Net {
	for _, n := range p.Nets {
		if n.Name == name {
			return n
		}
	}
	return nil
}
