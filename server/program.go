// This file implements deployed programs: a source checked, proven sound
// and lowered (knhk run's gate), or a compiled descriptor, stored once
// per hash with one engine each.

package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/knhk/knhk/accel"
	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/internal/atomicfile"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/worker"
)

// Program is one deployed version of a program.
type Program struct {
	Hash      string    `json:"hash"`
	Name      string    `json:"name"` // the source's file name, if any
	Workflows []string  `json:"workflows"`
	Deployed  time.Time `json:"deployed"`

	prog  *ir.Program
	files map[int32]*source.File // nil for a descriptor
	eng   *engine.Engine
}

// Prog returns the compiled program.
func (p *Program) Prog() *ir.Program { return p.prog }

// DeployResult is what Deploy returns.
type DeployResult struct {
	Program  *Program
	Warnings source.Diagnostics
}

// maxSource bounds a deployed source or descriptor, as knhk reads files.
const maxSource = 8 << 20

// Deploy checks and stores a program given as source (name is its file
// name in messages) or as a compiled descriptor. The errors of a source
// that does not check or is not sound are an [*Error] with Diags, the
// diagnostics knhk check prints.
func (s *Service) Deploy(name string, src, descriptor []byte) (*DeployResult, error) {
	return s.DeploySigned(name, src, descriptor, nil)
}

// DeploySigned is Deploy with the signature file sigs the deploy
// carried, for Options.AdmitSigned.
func (s *Service) DeploySigned(name string, src, descriptor, sigs []byte) (*DeployResult, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	var prog *ir.Program
	var files map[int32]*source.File
	var warnings source.Diagnostics
	switch {
	case len(src) > 0 && len(descriptor) > 0:
		return nil, errf(CodeInvalidArgument, "descriptor", "give a source or a descriptor, not both")
	case len(src) > maxSource || len(descriptor) > maxSource:
		return nil, errf(CodeInvalidArgument, "source", "the program is larger than 8 MiB")
	case len(descriptor) > 0:
		p, err := ir.Decode(descriptor)
		if err != nil {
			return nil, errf(CodeInvalidArgument, "descriptor", "bad descriptor: %v", err)
		}
		if err := p.Verify(); err != nil {
			return nil, errf(CodeInvalidArgument, "descriptor", "the descriptor does not verify: %v", err)
		}
		if _, ds := compiler.ProgramSoundness(p, nil, nil); ds.HasErrors() {
			return nil, &Error{Code: CodeInvalidArgument, Field: "descriptor", Message: errorsOnly(ds).Error(), Diags: errorsOnly(ds)}
		}
		prog = p
	case len(src) > 0:
		if name == "" {
			name = "main.knhk"
		}
		cfg := &check.Config{ReadFile: func(path string) ([]byte, error) {
			return nil, fmt.Errorf("a deployed source cannot import files (%s); deploy the compiled descriptor (knhk ir --encode) instead", path)
		}}
		pkg, info, ds := check.CheckSource(name, src, cfg)
		if ds.HasErrors() || pkg == nil {
			return nil, &Error{Code: CodeInvalidArgument, Field: "source", Message: errorsOnly(ds).Error(), Diags: errorsOnly(ds)}
		}
		b, gds := compiler.Gate(pkg, info, nil)
		if gds.HasErrors() || b.Program == nil {
			return nil, &Error{Code: CodeInvalidArgument, Field: "source", Message: errorsOnly(gds).Error(), Diags: errorsOnly(gds)}
		}
		prog, files = b.Program, b.Files
		warnings = append(ds, gds...)
	default:
		return nil, errf(CodeInvalidArgument, "source", "give a program: its source or its descriptor")
	}
	hash, err := prog.Hash()
	if err != nil {
		return nil, &Error{Code: CodeInternal, Message: err.Error(), Err: err}
	}
	if s.opts.AdmitSigned != nil {
		if err := s.opts.AdmitSigned(hash, sigs); err != nil {
			return nil, errf(CodeFailedPrecondition, "descriptor", "%v", err)
		}
	} else if s.opts.Admit != nil {
		if err := s.opts.Admit(hash); err != nil {
			return nil, errf(CodeFailedPrecondition, "descriptor", "%v", err)
		}
	}
	if s.opts.AdmitDeploy != nil {
		if err := s.opts.AdmitDeploy(hash); err != nil {
			return nil, errf(CodeFailedPrecondition, "descriptor", "%v", err)
		}
	}
	s.mu.Lock()
	p := s.progs[hash]
	s.mu.Unlock()
	if p != nil {
		// Known: deployed before, or loaded for a case knhk run started.
		return s.listDeployed(p, name, warnings)
	}
	if err := s.storeDescriptor(hash, prog); err != nil {
		return nil, &Error{Code: CodeInternal, Message: err.Error(), Err: err}
	}
	if files != nil {
		if err := s.storeSource(hash, name, src); err != nil {
			return nil, &Error{Code: CodeInternal, Message: err.Error(), Err: err}
		}
	}
	p, err = s.newProgram(hash, prog, files)
	if err != nil {
		return nil, &Error{Code: CodeInternal, Message: err.Error(), Err: err}
	}
	s.mu.Lock()
	if q := s.progs[hash]; q != nil {
		p = q
	} else {
		s.progs[hash] = p
	}
	s.mu.Unlock()
	return s.listDeployed(p, name, warnings)
}

// listDeployed adds p to the deployed programs unless it is there.
func (s *Service) listDeployed(p *Program, name string, warnings source.Diagnostics) (*DeployResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.Deployed.IsZero() {
		p.Name, p.Deployed = name, time.Now().UTC()
		s.deployed = append(s.deployed, p)
		if err := s.saveProgramsLocked(); err != nil {
			return nil, &Error{Code: CodeInternal, Message: err.Error(), Err: err}
		}
	}
	return &DeployResult{Program: p, Warnings: warnings}, nil
}

func errorsOnly(ds source.Diagnostics) source.Diagnostics {
	var out source.Diagnostics
	for _, d := range ds {
		if d.Severity == source.Error {
			out = append(out, d)
		}
	}
	return out
}

// Programs lists the deployed programs, newest first.
func (s *Service) Programs() []*Program {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]*Program(nil), s.deployed...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Deployed.After(out[j].Deployed) })
	return out
}

// newProgram builds the engine of a program; every program's engine
// appends to the Service's one log.
func (s *Service) newProgram(hash string, prog *ir.Program, files map[int32]*source.File) (*Program, error) {
	var wfs []string
	for _, n := range prog.Nets {
		if n != nil && !strings.Contains(n.Name, ".") {
			wfs = append(wfs, n.Name)
		}
	}
	sort.Strings(wfs)
	var w engine.Worker = worker.New(prog, worker.Options{
		DataDir:  s.dir,
		BaseDir:  s.opts.BaseDir,
		Log:      s.opts.Log,
		GroupDir: filepath.Join(s.dir, "procs"),
		Queue:    s.broker,
		Mining:   s.opts.Mining,
	})
	if s.opts.Observer != nil {
		w = s.opts.Observer.Worker(w)
	}
	policy := s.learnPolicy(prog)
	w = gate{w: w, log: s.log, early: !s.opts.DispatchAfterDurable && policy == nil}
	var log engine.EventLog = s.log
	if s.opts.LogFor != nil {
		log = s.opts.LogFor(log, hash)
	}
	eng, err := engine.New(engine.Config{
		Program: prog,
		Eval:    &host.Evaluator{Kernels: s.kernels()}, // KNHK_DEVICE, as knhk run
		Worker:  w,
		Log:     log,
		Policy:  policy,
	})
	if err != nil {
		return nil, err
	}
	return &Program{Hash: hash, Workflows: wfs, prog: prog, files: files, eng: eng}, nil
}

// descriptorHash matches the name of a descriptor.
var descriptorHash = regexp.MustCompile(`^[0-9a-zA-Z]+$`)

func (s *Service) descriptorPath(hash string) string {
	return filepath.Join(s.dir, "descriptors", hash+".ir")
}

// storeDescriptor writes DIR/descriptors/HASH.ir as knhk run does.
func (s *Service) storeDescriptor(hash string, prog *ir.Program) error {
	if _, err := os.Stat(s.descriptorPath(hash)); err == nil {
		return nil
	}
	b, err := prog.Encode()
	if err != nil {
		return err
	}
	return writeIn(filepath.Join(s.dir, "descriptors"), hash+".ir", b)
}

// program returns the program of hash, loading its descriptor when no
// deploy named it (a case knhk run started, say).
func (s *Service) program(hash string) (*Program, error) {
	s.mu.Lock()
	p := s.progs[hash]
	s.mu.Unlock()
	if p != nil {
		return p, nil
	}
	if !descriptorHash.MatchString(hash) {
		return nil, fmt.Errorf("bad descriptor hash %q", hash)
	}
	b, err := os.ReadFile(s.descriptorPath(hash))
	if err != nil {
		return nil, fmt.Errorf("descriptor %s: %w", hash, err)
	}
	prog, err := ir.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("descriptor %s: %w", hash, err)
	}
	if h, err := prog.Hash(); err != nil || h != hash {
		return nil, fmt.Errorf("descriptor %s is damaged: its hash does not match", hash)
	}
	if err := prog.Verify(); err != nil {
		return nil, fmt.Errorf("descriptor %s does not verify: %v", hash, err)
	}
	p, err = s.newProgram(hash, prog, s.loadSource(hash, prog))
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.progs[hash]; q != nil {
		return q, nil
	}
	s.progs[hash] = p
	return p, nil
}

// programsFile lists the deployed programs, in deploy order.
func (s *Service) programsFile() string { return filepath.Join(s.dir, "server", "programs.json") }

func (s *Service) saveProgramsLocked() error {
	b, err := json.Marshal(s.deployed)
	if err != nil {
		return err
	}
	return writeIn(filepath.Join(s.dir, "server"), "programs.json", b)
}

// loadPrograms reads the deployed programs of an earlier run.
func (s *Service) loadPrograms() error {
	b, err := os.ReadFile(s.programsFile())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var list []*Program
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("%s: %v", s.programsFile(), err)
	}
	for _, d := range list {
		p, err := s.program(d.Hash)
		if err != nil {
			return err
		}
		p.Name, p.Deployed = d.Name, d.Deployed
		s.deployed = append(s.deployed, p)
	}
	return nil
}

// latest returns the newest deployed program declaring workflow wf.
func (s *Service) latest(wf string) *Program {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.deployed) - 1; i >= 0; i-- {
		for _, w := range s.deployed[i].Workflows {
			if w == wf {
				return s.deployed[i]
			}
		}
	}
	return nil
}

// writeIn creates dir if needed and replaces dir/name with b atomically.
func writeIn(dir, name string, b []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, name), b, 0o644)
}

// deployedSource is DIR/server/sources/HASH.json: the source a program
// was deployed from, so that failures keep their source positions (and
// the console its text) across restarts.
type deployedSource struct {
	Name   string `json:"name"`
	Source string `json:"source"`
}

func (s *Service) storeSource(hash, name string, src []byte) error {
	b, err := json.Marshal(deployedSource{Name: name, Source: string(src)})
	if err != nil {
		return err
	}
	return writeIn(filepath.Join(s.dir, "server", "sources"), hash+".json", b)
}

// loadSource returns the source files of program hash, nil when it was
// not deployed from a source or the source no longer checks.
func (s *Service) loadSource(hash string, prog *ir.Program) map[int32]*source.File {
	b, err := os.ReadFile(filepath.Join(s.dir, "server", "sources", hash+".json"))
	if err != nil {
		return nil
	}
	var d deployedSource
	if json.Unmarshal(b, &d) != nil {
		return nil
	}
	pkg, _, ds := check.CheckSource(d.Name, []byte(d.Source), &check.Config{ReadFile: func(string) ([]byte, error) { return nil, os.ErrNotExist }})
	if pkg == nil || ds.HasErrors() {
		return nil
	}
	return compiler.SourceFiles(pkg, prog)
}

// kernels is the runner of the programs' kernel calls: Options.Kernels,
// or the process's device runner.
func (s *Service) kernels() eval.KernelRunner {
	if s.opts.Kernels != nil {
		return s.opts.Kernels
	}
	return accel.Shared()
}
