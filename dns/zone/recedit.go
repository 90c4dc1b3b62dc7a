package zone

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// ErrNoSuchRecord is wrapped by the error of EditRecords when a record to
// delete is not in the zone.
var ErrNoSuchRecord = errors.New("record not in the zone")

// errLostTrack means the text of a file and the records miekg read from it
// could not be matched up: EditRecords does not know which bytes to change.
var errLostTrack = errors.New("zone: could not match the text of the file to its records")

// EditRecords returns src with the records in del removed and those in add
// added, changing as little text as possible: comments, blank lines,
// directives, relative names, parentheses and the order of everything else
// stay as written, so that people and the server can share the file in git
// and its diff shows just the change. origin is the zone's FQDN.
//
// Each record in del must exist in the zone, compared as dns.IsDuplicate
// does (owner ignoring case, class, type, data; TTL ignored); otherwise the
// error wraps ErrNoSuchRecord. Every entry holding such a record (a line,
// or several joined by parentheses) is removed with the comments on its
// lines. If the next record left its owner blank to inherit the deleted
// one's, it gets that owner written out, spelled as before; likewise its
// TTL, in a file without $TTL where it took the deleted record's TTL.
//
// Each record in add becomes one line with its own TTL: owner, TTL, class,
// type and data separated by tabs, names relative to the origin in effect
// there, as Write does. It replaces a deleted record with the same owner,
// class and type (so a changed record changes one line), else follows the
// last record with its owner (so a name's records stay together), else goes
// at the end of the file. A line that takes the place of, or follows, a line
// with a blank owner leaves its owner blank too. New lines end as the
// file's first line does (CRLF or LF). Records after a new line whose TTL
// they would take are given theirs, as above.
//
// The result is parsed again: its records must be the old ones minus those
// deleted plus add, TTLs included, ignoring order; otherwise EditRecords
// returns an error and no text. Files Parse refuses (with $INCLUDE or
// $GENERATE, for instance) cannot be edited.
func EditRecords(origin string, src []byte, add, del []dns.RR) ([]byte, error) {
	before, err := Parse(origin, src)
	if err != nil {
		return nil, err
	}
	wire := make([]byte, 256+dns.MaxMsgSize)
	for _, rr := range add {
		if rr == nil {
			return nil, errors.New("zone: nil record to add")
		}
		if msg := badRecord(rr, wire); msg != "" {
			return nil, fmt.Errorf("zone: cannot add %s: %s", rr, msg)
		}
	}
	entries, err := readEntries(src, before)
	if err != nil {
		return nil, err
	}
	deleted, err := findDeleted(entries, del)
	if err != nil {
		return nil, err
	}
	after, tail := placeAdded(entries, deleted, add)

	out, err := rewrite(src, entries, deleted, after, tail, before.Origin)
	if err != nil {
		return nil, err
	}

	// Prove the edit: exactly the intended records, TTLs included.
	got, err := Parse(origin, out)
	if err != nil {
		return nil, fmt.Errorf("zone: the edit broke the file: %w", err)
	}
	want := &Zone{Origin: before.Origin}
	for i, e := range entries {
		if e.kind == recordEntry && !deleted[i] {
			want.Records = append(want.Records, e.rr)
		}
	}
	want.Records = append(want.Records, add...)
	if added, removed := Diff(want, got); len(added) > 0 || len(removed) > 0 {
		var rr dns.RR
		if len(added) > 0 {
			rr = added[0]
		} else {
			rr = removed[0]
		}
		return nil, fmt.Errorf("zone: the edit would also change %s", rr)
	}
	return out, nil
}

type entryKind int

const (
	blankEntry  entryKind = iota // blank lines and comments
	ttlEntry                     // $TTL
	originEntry                  // $ORIGIN
	recordEntry
)

// token is a word of a master file as miekg's lexer passes it on: escapes
// kept, parentheses and carriage returns left out.
type token struct {
	at   int // offset in src of its first byte
	text string
}

// maxTokens is as many tokens of an entry as are needed to read it: owner,
// TTL, class and type.
const maxTokens = 4

// entry is a directive, a record, or blank lines and comments: whole lines
// of the file, several when parentheses or quotes span lines.
type entry struct {
	start, end int // bytes of src, with the line break that ends the entry
	kind       entryKind
	blankFirst bool    // the entry starts with a blank: a record's owner is the previous one
	toks       []token // the first maxTokens tokens
	origin     string  // the origin in effect after the entry

	// For records only:
	rr          dns.RR // the record the entry denotes
	ownerText   string // the owner as written here or, if inherited, where it was last written
	ownerOrigin string // the origin ownerText is relative to
	restAt      int    // offset in src of the first token after the owner, where a TTL would go
	hasTTL      bool
}

// splitEntries cuts src into entries, reading quotes, escapes, comments and
// parentheses as Parse does (miekg's lexer after prepare), so that an entry
// is what miekg reads as one record or directive.
func splitEntries(src []byte) []entry {
	var (
		entries                []entry
		cur                    entry
		word                   []byte
		wordAt                 = -1 // offset of the word being read, -1 if none
		quote, escape, comment bool
		depth                  int
	)
	endWord := func() {
		if wordAt >= 0 && len(cur.toks) < maxTokens {
			cur.toks = append(cur.toks, token{at: wordAt, text: string(word)})
		}
		wordAt, word = -1, word[:0]
	}
	addByte := func(i int, c byte) {
		if wordAt < 0 {
			wordAt = i
		}
		if len(cur.toks) < maxTokens {
			word = append(word, c)
		}
	}
	blank := func() {
		if wordAt < 0 && len(cur.toks) == 0 {
			cur.blankFirst = true
		}
		endWord()
	}
	for i, c := range src {
		switch {
		case comment && c != '\n':
		case escape && c != '\n' && c != '\r':
			addByte(i, c)
			escape = false
		case c == '\n':
			comment, escape = false, false
			switch {
			case quote:
				addByte(i, c)
			case depth > 0:
				blank() // prepare puts a blank before a line break in parentheses
			default:
				endWord()
				cur.end = i + 1
				entries = append(entries, cur)
				cur = entry{start: i + 1}
			}
		case c == '\r':
			escape = false
			if quote {
				addByte(i, c)
			}
		case quote:
			addByte(i, c)
			if c == '\\' {
				escape = true
			} else if c == '"' {
				quote = false
				endWord()
			}
		case c == ' ' || c == '\t':
			blank()
		case c == ';':
			endWord()
			comment = true
		case c == '(':
			depth++
		case c == ')':
			if depth > 0 {
				depth--
			}
		case c == '"':
			endWord()
			addByte(i, c)
			quote = true
		default:
			addByte(i, c)
			escape = c == '\\'
		}
	}
	endWord()
	if cur.start < len(src) {
		cur.end = len(src)
		entries = append(entries, cur)
	}
	return entries
}

// readEntries splits src into entries and says what each means: z is src
// parsed, whose records are in the order of the record entries.
func readEntries(src []byte, z *Zone) ([]entry, error) {
	entries := splitEntries(src)
	origin := z.Origin
	n := 0 // records matched so far
	var owner, ownerOrigin string
	for i := range entries {
		e := &entries[i]
		switch {
		case len(e.toks) == 0:
			e.kind = blankEntry
		case !e.blankFirst && isDirective(e.toks[0].text):
			switch strings.ToUpper(e.toks[0].text) {
			case "$TTL":
				e.kind = ttlEntry
			case "$ORIGIN":
				if len(e.toks) < 2 {
					return nil, errLostTrack
				}
				abs, ok := absoluteName(e.toks[1].text, origin)
				if !ok {
					return nil, errLostTrack
				}
				e.kind, origin = originEntry, abs
			default: // Parse refuses the others
				return nil, fmt.Errorf("zone: %s is not supported", e.toks[0].text)
			}
		default:
			if n == len(z.Records) {
				return nil, errLostTrack
			}
			e.kind, e.rr = recordEntry, z.Records[n]
			n++
			rest := e.toks
			if !e.blankFirst {
				owner, ownerOrigin = e.toks[0].text, origin
				rest = rest[1:]
				name, ok := absoluteName(owner, origin)
				if !ok || nameKey(name) != nameKey(e.rr.Header().Name) {
					return nil, errLostTrack
				}
			}
			e.ownerText, e.ownerOrigin = owner, ownerOrigin
			if len(rest) == 0 {
				return nil, errLostTrack
			}
			e.restAt = rest[0].at
			typed := false
			for _, t := range rest {
				class, typ := classOrType(t.text)
				if typ {
					typed = true
					break
				}
				if !class {
					e.hasTTL = true
				}
			}
			if !typed {
				return nil, errLostTrack
			}
		}
		e.origin = origin
	}
	if n != len(z.Records) {
		return nil, errLostTrack
	}
	return entries, nil
}

func isDirective(word string) bool {
	switch strings.ToUpper(word) {
	case "$TTL", "$ORIGIN", "$INCLUDE", "$GENERATE":
		return true
	}
	return false
}

// classOrType says whether miekg's lexer reads tok, before a record's type,
// as a class or as the type; anything else there is a TTL.
func classOrType(tok string) (class, typ bool) {
	u := strings.ToUpper(tok)
	if _, ok := dns.StringToClass[u]; ok || strings.HasPrefix(u, "CLASS") {
		return true, false
	}
	if _, ok := dns.StringToType[u]; ok || strings.HasPrefix(u, "TYPE") {
		return false, true
	}
	return false, false
}

// absoluteName returns name, written where origin is in effect, fully
// qualified, as miekg's parser does.
func absoluteName(name, origin string) (string, bool) {
	if name == "@" {
		return origin, true
	}
	if _, ok := dns.IsDomainName(name); !ok || name == "" {
		return "", false
	}
	switch {
	case dns.IsFqdn(name):
		return name, true
	case origin == ".":
		return name + ".", true
	}
	return name + "." + origin, true
}

// rrsetKey identifies an RRset: owner ignoring case, class and type.
type rrsetKey struct {
	owner      string
	class, typ uint16
}

func keyOf(rr dns.RR) rrsetKey {
	h := rr.Header()
	return rrsetKey{nameKey(h.Name), h.Class, h.Rrtype}
}

// findDeleted marks the record entries holding a record of del.
func findDeleted(entries []entry, del []dns.RR) ([]bool, error) {
	deleted := make([]bool, len(entries))
	if len(del) == 0 {
		return deleted, nil
	}
	byKey := make(map[rrsetKey][]int)
	for i, e := range entries {
		if e.kind == recordEntry {
			byKey[keyOf(e.rr)] = append(byKey[keyOf(e.rr)], i)
		}
	}
	for _, rr := range del {
		if rr == nil {
			return nil, errors.New("zone: nil record to delete")
		}
		found := false
		for _, i := range byKey[keyOf(rr)] {
			if dns.IsDuplicate(entries[i].rr, rr) {
				deleted[i], found = true, true
			}
		}
		if !found {
			return nil, fmt.Errorf("zone: cannot delete %s: %w", rr, ErrNoSuchRecord)
		}
	}
	return deleted, nil
}

// placeAdded says where each record of add goes: after[i] are written after
// entry i (in its place, if it is deleted), tail at the end of the file.
func placeAdded(entries []entry, deleted []bool, add []dns.RR) (after map[int][]dns.RR, tail []dns.RR) {
	after = make(map[int][]dns.RR)
	if len(add) == 0 {
		return after, nil
	}
	freed := make(map[rrsetKey][]int) // deleted entries not yet replaced
	lastOfOwner := make(map[string]int)
	for i, e := range entries {
		if e.kind != recordEntry {
			continue
		}
		if deleted[i] {
			freed[keyOf(e.rr)] = append(freed[keyOf(e.rr)], i)
		}
		lastOfOwner[nameKey(e.rr.Header().Name)] = i
	}
	for _, rr := range add {
		k := keyOf(rr)
		if free := freed[k]; len(free) > 0 {
			after[free[0]] = append(after[free[0]], rr)
			freed[k] = free[1:]
		} else if i, ok := lastOfOwner[k.owner]; ok {
			after[i] = append(after[i], rr)
		} else {
			tail = append(tail, rr)
		}
	}
	return after, tail
}

// editor writes the new text, keeping track of what miekg's parser will
// carry from one record to the next when it reads it: the owner, and the
// TTL of records without one.
type editor struct {
	src   []byte
	out   []byte
	eol   string
	owner string // of the last record written
	ttl   uint32 // the TTL of a record without one, unless byTTL
	byTTL bool   // a $TTL line set the TTL of records without one: records do not change it
	// miekg's parser reads the line after an IPSECKEY as part of it: a
	// new line right after one needs a blank line before it.
	gap bool
}

// rewrite copies src entry by entry, leaving out deleted entries and adding
// new lines where placeAdded put them. Copying forward from the original
// keeps every offset valid whatever was changed before it.
func rewrite(src []byte, entries []entry, deleted []bool, after map[int][]dns.RR, tail []dns.RR, origin string) ([]byte, error) {
	ed := &editor{src: src, out: make([]byte, 0, len(src)+256), eol: "\n", ttl: DefaultTTL}
	if i := bytes.IndexByte(src, '\n'); i > 0 && src[i-1] == '\r' {
		ed.eol = "\r\n"
	}
	for i := range entries {
		e := &entries[i]
		switch {
		case e.kind == recordEntry && !deleted[i]:
			ed.keep(e)
		case e.kind == recordEntry:
		default:
			ed.out = append(ed.out, src[e.start:e.end]...)
			ed.byTTL = ed.byTTL || e.kind == ttlEntry
			ed.gap = false
		}
		for _, rr := range after[i] {
			if err := ed.add(rr, e, e.origin); err != nil {
				return nil, err
			}
		}
		origin = e.origin
	}
	for _, rr := range tail {
		if err := ed.add(rr, nil, origin); err != nil {
			return nil, err
		}
	}
	return ed.out, nil
}

// keep copies the record entry e, writing out its owner or TTL if what it
// inherited has changed.
func (ed *editor) keep(e *entry) {
	h := e.rr.Header()
	pinOwner := e.blankFirst && nameKey(ed.owner) != nameKey(h.Name)
	pinTTL := !e.hasTTL && !ed.byTTL && ed.ttl != h.Ttl
	if pinOwner {
		owner := e.ownerText
		if nameKey(e.ownerOrigin) != nameKey(e.origin) { // written under another $ORIGIN
			owner = ownerText(h.Name, e.origin)
		}
		ed.out = append(ed.out, owner...)
		if c := ed.src[e.start]; c != ' ' && c != '\t' { // it starts with a parenthesis
			ed.out = append(ed.out, ' ')
		}
	}
	if pinTTL {
		// Put the TTL before the next token, with the blanks before that.
		j := e.restAt
		for j > e.start && (ed.src[j-1] == ' ' || ed.src[j-1] == '\t') {
			j--
		}
		sep := string(ed.src[j:e.restAt])
		if sep == "" {
			sep = " "
		}
		ed.out = append(ed.out, ed.src[e.start:e.restAt]...)
		ed.out = strconv.AppendUint(ed.out, uint64(h.Ttl), 10)
		ed.out = append(ed.out, sep...)
		ed.out = append(ed.out, ed.src[e.restAt:e.end]...)
	} else {
		ed.out = append(ed.out, ed.src[e.start:e.end]...)
	}
	ed.owner = h.Name
	if (e.hasTTL || pinTTL) && !ed.byTTL {
		ed.ttl = h.Ttl
	}
	ed.gap = h.Rrtype == dns.TypeIPSECKEY
}

// add writes rr as a new line, in the place of or after the entry anchor
// (nil at the end of the file), where origin is in effect.
func (ed *editor) add(rr dns.RR, anchor *entry, origin string) error {
	text, err := recordText(rr, origin)
	if err != nil {
		return err
	}
	h := rr.Header()
	if anchor != nil && anchor.kind == recordEntry && anchor.blankFirst && nameKey(ed.owner) == nameKey(h.Name) {
		// Follow the style of the anchor: the owner left blank.
		lead := anchor.start
		for lead < anchor.end && (ed.src[lead] == ' ' || ed.src[lead] == '\t') {
			lead++
		}
		if _, rest, ok := strings.Cut(text, "\t"); ok && lead > anchor.start {
			text = string(ed.src[anchor.start:lead]) + rest
		}
	}
	if len(ed.out) > 0 && ed.out[len(ed.out)-1] != '\n' {
		ed.out = append(ed.out, ed.eol...)
	}
	if ed.gap {
		ed.out = append(ed.out, ed.eol...)
		ed.gap = false
	}
	ed.out = append(ed.out, text...)
	ed.out = append(ed.out, ed.eol...)
	ed.owner = h.Name
	if !ed.byTTL {
		ed.ttl = h.Ttl
	}
	return nil
}
