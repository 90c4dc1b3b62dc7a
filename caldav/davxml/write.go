package davxml

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
)

// prefixes are declared on every document's root element.
var prefixes = map[string]string{NSDAV: "D", NSCalDAV: "C", NSCS: "CS", NSApple: "A"}

const rootDecl = ` xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CS="http://calendarserver.org/ns/" xmlns:A="http://apple.com/ns/ical/"`

// Elem encodes the element name around inner, which is already encoded
// XML (use Text to escape character data).
func Elem(name xml.Name, inner string) string {
	var b strings.Builder
	writeElem(&b, name, inner)
	return b.String()
}

func writeElem(b *strings.Builder, name xml.Name, inner string) {
	p, known := prefixes[name.Space]
	switch {
	case known:
		fmt.Fprintf(b, "<%s:%s", p, name.Local)
	case name.Space == "":
		fmt.Fprintf(b, "<%s", name.Local)
	default:
		fmt.Fprintf(b, `<x:%s xmlns:x="%s"`, name.Local, Text(name.Space))
		p = "x"
	}
	if inner == "" {
		b.WriteString("/>")
		return
	}
	b.WriteByte('>')
	b.WriteString(inner)
	if p != "" {
		fmt.Fprintf(b, "</%s:%s>", p, name.Local)
	} else {
		fmt.Fprintf(b, "</%s>", name.Local)
	}
}

// Text escapes character data.
func Text(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// Href is a DAV:href element.
func Href(href string) string { return "<D:href>" + Text(href) + "</D:href>" }

// DAV names an element in the DAV: namespace.
func DAV(local string) xml.Name { return xml.Name{Space: NSDAV, Local: local} }

// CalDAV names an element in the CalDAV namespace.
func CalDAV(local string) xml.Name { return xml.Name{Space: NSCalDAV, Local: local} }

// Prop is one property with its encoded value.
type Prop struct {
	Name  xml.Name
	Value string
}

// Propstat groups properties by status.
type Propstat struct {
	Status int
	Props  []Prop
	// Error, if set, is the encoded content of a DAV:error element.
	Error string
}

// Multistatus builds a 207 body.
type Multistatus struct {
	b strings.Builder
}

// NewMultistatus starts a multistatus body.
func NewMultistatus() *Multistatus {
	m := &Multistatus{}
	m.b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n<D:multistatus" + rootDecl + ">")
	return m
}

// Response adds a response for href with its propstats; those with no
// properties are left out.
func (m *Multistatus) Response(href string, stats ...Propstat) {
	writeResponse(&m.b, href, stats)
}

// Response encodes one DAV:response, for the value of a property that
// holds responses (RFC 3253's expand-property).
func Response(href string, stats ...Propstat) string {
	var b strings.Builder
	writeResponse(&b, href, stats)
	return b.String()
}

// StatusResponse encodes a DAV:response giving only a status for href.
func StatusResponse(href string, code int) string {
	return "<D:response>" + Href(href) + status(code) + "</D:response>"
}

func writeResponse(b *strings.Builder, href string, stats []Propstat) {
	b.WriteString("<D:response>")
	b.WriteString(Href(href))
	empty := true
	for _, s := range stats {
		empty = empty && len(s.Props) == 0
	}
	if empty { // a response needs a propstat or a status
		b.WriteString("<D:propstat><D:prop/>" + status(http.StatusOK) + "</D:propstat>")
	}
	for _, s := range stats {
		if len(s.Props) == 0 {
			continue
		}
		b.WriteString("<D:propstat><D:prop>")
		for _, p := range s.Props {
			writeElem(b, p.Name, p.Value)
		}
		b.WriteString("</D:prop>")
		b.WriteString(status(s.Status))
		if s.Error != "" {
			b.WriteString("<D:error>" + s.Error + "</D:error>")
		}
		b.WriteString("</D:propstat>")
	}
	b.WriteString("</D:response>")
}

// Status adds a response giving only a status for href, with an
// optional encoded DAV:error content.
func (m *Multistatus) Status(href string, code int, errContent string) {
	m.b.WriteString("<D:response>" + Href(href) + status(code))
	if errContent != "" {
		m.b.WriteString("<D:error>" + errContent + "</D:error>")
	}
	m.b.WriteString("</D:response>")
}

// Raw appends encoded XML after the responses (a DAV:sync-token).
func (m *Multistatus) Raw(s string) { m.b.WriteString(s) }

// Bytes ends the body and returns it.
func (m *Multistatus) Bytes() []byte {
	m.b.WriteString("</D:multistatus>\n")
	return []byte(m.b.String())
}

func status(code int) string {
	return fmt.Sprintf("<D:status>HTTP/1.1 %d %s</D:status>", code, http.StatusText(code))
}

// ErrorBody is a DAV:error document holding one precondition element
// with encoded content.
func ErrorBody(cond xml.Name, content string) []byte {
	return []byte(`<?xml version="1.0" encoding="utf-8"?>` + "\n<D:error" + rootDecl + ">" + Elem(cond, content) + "</D:error>\n")
}

// Name is an xml.Name.
func Name(space, local string) xml.Name { return xml.Name{Space: space, Local: local} }
