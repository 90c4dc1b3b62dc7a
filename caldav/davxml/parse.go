package davxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Namespaces the server speaks.
const (
	NSDAV    = "DAV:"
	NSCalDAV = "urn:ietf:params:xml:ns:caldav"
	NSCS     = "http://calendarserver.org/ns/"
	NSApple  = "http://apple.com/ns/ical/"
)

const nsXML = "http://www.w3.org/XML/1998/namespace"

// Limits bound what Parse accepts. The zero value uses the defaults.
type Limits struct {
	MaxBytes    int64 // default 1 MiB
	MaxDepth    int   // default 32
	MaxElements int   // default 10000
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = 1 << 20
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = 32
	}
	if l.MaxElements <= 0 {
		l.MaxElements = 10000
	}
	return l
}

// Node is one element of a parsed body.
type Node struct {
	Name     xml.Name
	Attr     []xml.Attr
	Children []*Node
	// Text is the element's character data, concatenated.
	Text string
	// Inner is the element's content re-encoded with every namespace
	// declared where it is used, so it can be stored and written back
	// inside another document (dead property values).
	Inner string
}

// Error is a request body the server refuses; Parse's errors are all
// of this type.
type Error struct {
	Reason   string
	TooLarge bool // the body exceeded MaxBytes
}

func (e *Error) Error() string { return "davxml: " + e.Reason }

// ErrEmpty is returned (wrapped in *Error) for a body with no element.
var ErrEmpty = errors.New("empty body")

// Parse reads one XML document from r within the limits.
func Parse(r io.Reader, lim Limits) (*Node, error) {
	lim = lim.withDefaults()
	lr := &io.LimitedReader{R: r, N: lim.MaxBytes + 1}
	d := xml.NewDecoder(lr)
	d.Strict = true
	var (
		stack []*node
		root  *Node
		count int
	)
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if lr.N <= 0 {
			return nil, &Error{Reason: fmt.Sprintf("body larger than %d bytes", lim.MaxBytes), TooLarge: true}
		}
		if err != nil {
			return nil, &Error{Reason: err.Error()}
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, &Error{Reason: "DTDs are not accepted"}
		case xml.StartElement:
			count++
			if count > lim.MaxElements {
				return nil, &Error{Reason: fmt.Sprintf("more than %d elements", lim.MaxElements)}
			}
			if len(stack) >= lim.MaxDepth {
				return nil, &Error{Reason: fmt.Sprintf("nested deeper than %d", lim.MaxDepth)}
			}
			if root != nil && len(stack) == 0 {
				return nil, &Error{Reason: "more than one root element"}
			}
			n, err := start(stack, t.Copy())
			if err != nil {
				return nil, err
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n.Node)
			} else {
				root = n.Node
			}
			stack = append(stack, n)
		case xml.EndElement:
			if len(stack) == 0 {
				return nil, &Error{Reason: "unbalanced end element"}
			}
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			n.Text = n.text.String()
			n.Inner = n.inner.String()
			if len(stack) > 0 {
				// The parent's inner XML holds this whole element.
				p := stack[len(stack)-1]
				writeStart(&p.inner, n.Node)
				p.inner.WriteString(n.Inner)
				writeEnd(&p.inner, n.Node)
			}
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) != 0 {
					return nil, &Error{Reason: "text outside the root element"}
				}
				continue
			}
			n := stack[len(stack)-1]
			n.text.Write(t)
			xml.EscapeText(&n.inner, t)
		}
	}
	if len(stack) != 0 {
		return nil, &Error{Reason: "unexpected end of body"}
	}
	if root == nil {
		return nil, &Error{Reason: ErrEmpty.Error()}
	}
	return root, nil
}

// node is a Node under construction, with the namespace prefixes in
// scope.
type node struct {
	*Node
	prefixes    map[string]string
	text, inner bytes.Buffer
}

// start resolves a raw start element's prefixes against the stack.
func start(stack []*node, t xml.StartElement) (*node, error) {
	var parent map[string]string
	if len(stack) > 0 {
		parent = stack[len(stack)-1].prefixes
	}
	prefixes := parent
	copied := false
	bind := func(prefix, ns string) {
		if !copied {
			prefixes = make(map[string]string, len(parent)+1)
			for k, v := range parent {
				prefixes[k] = v
			}
			copied = true
		}
		prefixes[prefix] = ns
	}
	var attrs []xml.Attr
	for _, a := range t.Attr {
		switch {
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			bind("", a.Value)
		case a.Name.Space == "xmlns":
			if a.Value == "" {
				return nil, &Error{Reason: fmt.Sprintf("prefix %q bound to the empty namespace", a.Name.Local)}
			}
			bind(a.Name.Local, a.Value)
		default:
			attrs = append(attrs, a)
		}
	}
	resolve := func(n xml.Name, isAttr bool) (xml.Name, error) {
		if n.Space == "" {
			if isAttr {
				return n, nil
			}
			return xml.Name{Space: prefixes[""], Local: n.Local}, nil
		}
		if n.Space == "xml" {
			return xml.Name{Space: nsXML, Local: n.Local}, nil
		}
		ns, ok := prefixes[n.Space]
		if !ok {
			return n, &Error{Reason: fmt.Sprintf("undeclared namespace prefix %q", n.Space)}
		}
		return xml.Name{Space: ns, Local: n.Local}, nil
	}
	name, err := resolve(t.Name, false)
	if err != nil {
		return nil, err
	}
	for i := range attrs {
		if attrs[i].Name, err = resolve(attrs[i].Name, true); err != nil {
			return nil, err
		}
	}
	return &node{Node: &Node{Name: name, Attr: attrs}, prefixes: prefixes}, nil
}

// writeStart writes n's start tag declaring its own namespace as the
// default one and a prefix per namespaced attribute.
func writeStart(b *bytes.Buffer, n *Node) {
	b.WriteByte('<')
	b.WriteString(n.Name.Local)
	b.WriteString(` xmlns="`)
	xml.EscapeText(b, []byte(n.Name.Space))
	b.WriteByte('"')
	for i, a := range n.Attr {
		b.WriteByte(' ')
		switch a.Name.Space {
		case "":
		case nsXML:
			b.WriteString("xml:")
		default:
			p := fmt.Sprintf("a%d", i)
			fmt.Fprintf(b, `xmlns:%s="`, p)
			xml.EscapeText(b, []byte(a.Name.Space))
			fmt.Fprintf(b, `" %s:`, p)
		}
		b.WriteString(a.Name.Local)
		b.WriteString(`="`)
		xml.EscapeText(b, []byte(a.Value))
		b.WriteByte('"')
	}
	b.WriteByte('>')
}

func writeEnd(b *bytes.Buffer, n *Node) {
	b.WriteString("</")
	b.WriteString(n.Name.Local)
	b.WriteByte('>')
}

// Is reports whether n is the element {space}local.
func (n *Node) Is(space, local string) bool {
	return n != nil && n.Name.Space == space && n.Name.Local == local
}

// Child returns n's first child named {space}local, or nil.
func (n *Node) Child(space, local string) *Node {
	if n == nil {
		return nil
	}
	for _, c := range n.Children {
		if c.Is(space, local) {
			return c
		}
	}
	return nil
}

// Attribute returns the value of the unqualified attribute name.
func (n *Node) Attribute(name string) (string, bool) {
	for _, a := range n.Attr {
		if a.Name.Space == "" && a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

// TrimText is n's text without surrounding white space.
func (n *Node) TrimText() string { return strings.TrimSpace(n.Text) }

// Elements is n's children, or none for a nil n.
func (n *Node) Elements() []*Node {
	if n == nil {
		return nil
	}
	return n.Children
}
