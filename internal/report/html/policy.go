package html

// The tailoring and suppression files a report was made under.

import "github.com/kensa-dev/kensa/internal/report"

type tailoringView struct {
	File, SHA256, Title string
	Changes             []string
}

func tailoring(t *report.Tailoring) *tailoringView {
	if t == nil {
		return nil
	}
	v := &tailoringView{File: line(t.File), SHA256: line(t.SHA256), Title: line(t.Title)}
	for _, c := range t.Changes {
		v.Changes = append(v.Changes, line(c))
	}
	return v
}

type suppressionsView struct {
	File, SHA256    string
	Rules           int
	Expired, Unused []string
}

func suppressionsFile(s *report.Suppressions) *suppressionsView {
	if s == nil {
		return nil
	}
	v := &suppressionsView{File: line(s.File), SHA256: line(s.SHA256), Rules: s.Rules}
	for _, e := range s.Expired {
		v.Expired = append(v.Expired, line(e))
	}
	for _, u := range s.Unused {
		v.Unused = append(v.Unused, line(u))
	}
	return v
}
