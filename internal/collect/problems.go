package collect

import "fmt"

// Problems gathers what a parser meets in one file. It keeps the first few
// problems in full and counts the rest, so that a file of garbage costs a
// few messages and not memory in proportion to its size, and it says when
// a file has so many problems that it is garbage and not worth reading on.
type Problems struct {
	kept []error
	n    int
}

const (
	// KeptProblems is how many problems of a file are kept in full; it
	// leaves room within MaxErrors for the two summaries List may add.
	KeptProblems = MaxErrors - 4
	// MaxProblems ends the parse of a file: with this many problems it is
	// garbage, not a database.
	MaxProblems = 10_000
)

// Add records a problem and reports whether the file is still worth
// reading (fewer than MaxProblems so far).
func (p *Problems) Add(err error) bool {
	p.n++
	if len(p.kept) < KeptProblems {
		p.kept = append(p.kept, err)
	}
	return p.n < MaxProblems
}

// Addf is Add with a formatted message.
func (p *Problems) Addf(format string, args ...any) bool {
	return p.Add(fmt.Errorf(format, args...))
}

// Count is the number of problems recorded.
func (p *Problems) Count() int { return p.n }

// List returns the kept problems, then "N more problems" for those only
// counted, then stop (the reason the parse was given up) when not nil.
func (p *Problems) List(stop error) []error {
	errs := p.kept
	if more := p.n - len(p.kept); more > 0 {
		errs = append(errs, fmt.Errorf("%d more problems", more))
	}
	if stop != nil {
		errs = append(errs, stop)
	}
	return errs
}
