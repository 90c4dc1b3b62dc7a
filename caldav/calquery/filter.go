package calquery

import (
	"fmt"
	"strings"
	"time"

	"github.com/emersion/go-ical"

	"github.com/quercus-dev/quercus/caldav/davxml"
)

// Error is a filter the server cannot evaluate; Cond names the CalDAV
// precondition it fails (valid-filter, supported-collation,
// supported-filter).
type Error struct {
	Cond string
	Msg  string
}

func (e *Error) Error() string { return "calquery: " + e.Msg }

func invalid(format string, args ...any) error {
	return &Error{Cond: "valid-filter", Msg: fmt.Sprintf(format, args...)}
}

// Filter is a parsed CALDAV:filter.
type Filter struct {
	root *CompFilter
}

// CompFilter is a comp-filter.
type CompFilter struct {
	Name         string
	IsNotDefined bool
	TimeRange    *TimeRange
	Props        []*PropFilter
	Comps        []*CompFilter
}

// PropFilter is a prop-filter.
type PropFilter struct {
	Name         string
	IsNotDefined bool
	TimeRange    *TimeRange
	Text         *TextMatch
	Params       []*ParamFilter
}

// ParamFilter is a param-filter.
type ParamFilter struct {
	Name         string
	IsNotDefined bool
	Text         *TextMatch
}

// TextMatch is a text-match.
type TextMatch struct {
	Text      string
	Collation string
	Negate    bool
}

// TimeRange is a time-range; a zero Start or End is unbounded.
type TimeRange struct {
	Start, End time.Time
}

// Parse reads a CALDAV:filter element. A nil n matches everything.
func Parse(n *davxml.Node) (*Filter, error) {
	if n == nil {
		return &Filter{}, nil
	}
	var comps []*davxml.Node
	for _, c := range n.Children {
		if c.Is(davxml.NSCalDAV, "comp-filter") {
			comps = append(comps, c)
		}
	}
	if len(comps) != 1 {
		return nil, invalid("a filter holds exactly one comp-filter")
	}
	root, err := parseComp(comps[0])
	if err != nil {
		return nil, err
	}
	if root.Name != ical.CompCalendar {
		return nil, invalid("the top comp-filter must name VCALENDAR")
	}
	return &Filter{root: root}, nil
}

func name(n *davxml.Node) (string, error) {
	v, ok := n.Attribute("name")
	if !ok || v == "" {
		return "", invalid("%s without a name", n.Name.Local)
	}
	return strings.ToUpper(v), nil
}

func parseComp(n *davxml.Node) (*CompFilter, error) {
	f := &CompFilter{}
	var err error
	if f.Name, err = name(n); err != nil {
		return nil, err
	}
	for _, c := range n.Children {
		switch {
		case c.Is(davxml.NSCalDAV, "is-not-defined"):
			f.IsNotDefined = true
		case c.Is(davxml.NSCalDAV, "time-range"):
			if f.TimeRange, err = ParseTimeRange(c); err != nil {
				return nil, err
			}
		case c.Is(davxml.NSCalDAV, "prop-filter"):
			p, err := parseProp(c)
			if err != nil {
				return nil, err
			}
			f.Props = append(f.Props, p)
		case c.Is(davxml.NSCalDAV, "comp-filter"):
			cf, err := parseComp(c)
			if err != nil {
				return nil, err
			}
			f.Comps = append(f.Comps, cf)
		}
	}
	return f, nil
}

func parseProp(n *davxml.Node) (*PropFilter, error) {
	f := &PropFilter{}
	var err error
	if f.Name, err = name(n); err != nil {
		return nil, err
	}
	for _, c := range n.Children {
		switch {
		case c.Is(davxml.NSCalDAV, "is-not-defined"):
			f.IsNotDefined = true
		case c.Is(davxml.NSCalDAV, "time-range"):
			if f.TimeRange, err = ParseTimeRange(c); err != nil {
				return nil, err
			}
		case c.Is(davxml.NSCalDAV, "text-match"):
			if f.Text, err = parseText(c); err != nil {
				return nil, err
			}
		case c.Is(davxml.NSCalDAV, "param-filter"):
			p := &ParamFilter{}
			if p.Name, err = name(c); err != nil {
				return nil, err
			}
			for _, cc := range c.Children {
				switch {
				case cc.Is(davxml.NSCalDAV, "is-not-defined"):
					p.IsNotDefined = true
				case cc.Is(davxml.NSCalDAV, "text-match"):
					if p.Text, err = parseText(cc); err != nil {
						return nil, err
					}
				}
			}
			f.Params = append(f.Params, p)
		}
	}
	return f, nil
}

func parseText(n *davxml.Node) (*TextMatch, error) {
	t := &TextMatch{Text: n.Text, Collation: "i;ascii-casemap"}
	if c, ok := n.Attribute("collation"); ok {
		t.Collation = c
	}
	switch t.Collation {
	case "i;ascii-casemap", "i;octet", "i;unicode-casemap":
	default:
		return nil, &Error{Cond: "supported-collation", Msg: "unsupported collation " + t.Collation}
	}
	if v, ok := n.Attribute("negate-condition"); ok {
		switch v {
		case "yes":
			t.Negate = true
		case "no":
		default:
			return nil, invalid("negate-condition is yes or no")
		}
	}
	return t, nil
}

// ParseTimeRange reads a time-range element's start and end (UTC).
func ParseTimeRange(n *davxml.Node) (*TimeRange, error) {
	tr := &TimeRange{}
	for _, a := range []struct {
		name string
		t    *time.Time
	}{{"start", &tr.Start}, {"end", &tr.End}} {
		v, ok := n.Attribute(a.name)
		if !ok {
			continue
		}
		t, err := time.Parse("20060102T150405Z", v)
		if err != nil {
			return nil, invalid("time-range %s %q is not a UTC date-time", a.name, v)
		}
		*a.t = t
	}
	if tr.Start.IsZero() && tr.End.IsZero() {
		return nil, invalid("time-range needs a start or an end")
	}
	if !tr.Start.IsZero() && !tr.End.IsZero() && !tr.End.After(tr.Start) {
		return nil, invalid("time-range ends before it starts")
	}
	return tr, nil
}

// Match reports whether cal passes the filter.
func (f *Filter) Match(cal *ical.Calendar) bool {
	if f.root == nil {
		return true
	}
	if f.root.IsNotDefined {
		return false
	}
	return f.root.matchComp(cal.Component, cal.Component)
}

// matchComp matches c, the component the filter names, inside the
// calendar cal.
func (f *CompFilter) matchComp(cal, c *ical.Component) bool {
	if f.TimeRange != nil && !componentOverlaps(cal, c, f.TimeRange) {
		return false
	}
	for _, p := range f.Props {
		if !p.match(c) {
			return false
		}
	}
	for _, cf := range f.Comps {
		if !cf.matchIn(cal, c) {
			return false
		}
	}
	return true
}

// matchIn matches the children of parent the filter names.
func (f *CompFilter) matchIn(cal, parent *ical.Component) bool {
	found := false
	for _, c := range parent.Children {
		if c.Name != f.Name {
			continue
		}
		found = true
		if !f.IsNotDefined && f.matchComp(cal, c) {
			return true
		}
	}
	return f.IsNotDefined && !found
}

func (f *PropFilter) match(c *ical.Component) bool {
	props := c.Props.Values(f.Name)
	if f.IsNotDefined {
		return len(props) == 0
	}
	for i := range props {
		if f.matchProp(&props[i]) {
			return true
		}
	}
	return false
}

func (f *PropFilter) matchProp(p *ical.Prop) bool {
	if f.TimeRange != nil {
		t, _, err := DateTime(p)
		if err != nil || !f.TimeRange.contains(t) {
			return false
		}
	}
	if f.Text != nil {
		v := p.Value
		if txt, err := p.Text(); err == nil {
			v = txt
		}
		if !f.Text.Match(v) {
			return false
		}
	}
	for _, pf := range f.Params {
		vals := p.Params.Values(pf.Name)
		if pf.IsNotDefined {
			if len(vals) != 0 {
				return false
			}
			continue
		}
		if len(vals) == 0 {
			return false
		}
		if pf.Text != nil {
			ok := false
			for _, v := range vals {
				ok = ok || pf.Text.Match(v)
			}
			if !ok {
				return false
			}
		}
	}
	return true
}

// Match reports whether s matches: contains the text under the
// collation, negated if asked.
func (t *TextMatch) Match(s string) bool {
	needle := t.Text
	switch t.Collation {
	case "i;ascii-casemap":
		s, needle = asciiLower(s), asciiLower(needle)
	case "i;unicode-casemap":
		s, needle = strings.ToLower(s), strings.ToLower(needle)
	}
	return strings.Contains(s, needle) != t.Negate
}

func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

func (tr *TimeRange) contains(t time.Time) bool {
	return (tr.Start.IsZero() || !t.Before(tr.Start)) && (tr.End.IsZero() || t.Before(tr.End))
}

// Overlaps reports whether [s, e) overlaps the range, as a filter does.
func (tr *TimeRange) Overlaps(s, e time.Time) bool { return tr.overlaps(s, e) }

// TimeRangeOnly reports whether the filter only asks for components of
// one kind overlapping a range (what most clients send), and which.
func (f *Filter) TimeRangeOnly() (kind string, tr *TimeRange, ok bool) {
	if f.root == nil || f.root.IsNotDefined || f.root.TimeRange != nil || len(f.root.Props) != 0 || len(f.root.Comps) != 1 {
		return "", nil, false
	}
	c := f.root.Comps[0]
	if c.IsNotDefined || c.TimeRange == nil || len(c.Props) != 0 || len(c.Comps) != 0 {
		return "", nil, false
	}
	return c.Name, c.TimeRange, true
}

// overlaps applies RFC 4791 §9.9: an interval [s, e) overlaps the range
// when s < End and e > Start; an instant when Start <= s < End.
func (tr *TimeRange) overlaps(s, e time.Time) bool {
	if !e.After(s) {
		return tr.contains(s)
	}
	return (tr.End.IsZero() || s.Before(tr.End)) && (tr.Start.IsZero() || e.After(tr.Start))
}
