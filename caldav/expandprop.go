package caldav

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/quercus-dev/quercus/caldav/davxml"
)

// maxExpandDepth bounds how deep expand-property nests.
const maxExpandDepth = 3

// expandProperty answers RFC 3253 §3.8's expand-property report: the
// properties asked for on the target, and for those whose value is a
// list of hrefs and that name properties inside them, the named
// properties of each resource the hrefs point at, as DAV:response
// elements in place of the hrefs. Apple Calendar asks a principal this
// way (for its delegates); InfCloud stops working if it is refused.
func (r *request) expandProperty(res *resource, n *davxml.Node) error {
	stats, err := r.expandProps(res, n, 0)
	if err != nil {
		return err
	}
	ms := davxml.NewMultistatus()
	ms.Response(res.href(), stats...)
	return r.multistatus(ms)
}

func (r *request) expandProps(res *resource, n *davxml.Node, depth int) ([]davxml.Propstat, error) {
	ok := davxml.Propstat{Status: http.StatusOK}
	missing := davxml.Propstat{Status: http.StatusNotFound}
	for _, p := range n.Children {
		if !p.Is(davxml.NSDAV, "property") {
			continue
		}
		local, _ := p.Attribute("name")
		space, has := p.Attribute("namespace")
		if !has {
			space = davxml.NSDAV
		}
		name := xml.Name{Space: space, Local: local}
		if local == "" {
			continue
		}
		if r.expandLookups++; r.expandLookups > maxExpandProps {
			return nil, errorf(http.StatusInsufficientStorage, "expand-property asks for more than %d property lookups", maxExpandProps)
		}
		value, has, err := r.propValue(res, name)
		if err != nil {
			return nil, err
		}
		if !has {
			missing.Props = append(missing.Props, davxml.Prop{Name: name})
			continue
		}
		if inner := p.Child(davxml.NSDAV, "property"); inner != nil && depth < maxExpandDepth {
			if hrefs := hrefsOf(value); hrefs != nil {
				var b strings.Builder
				for _, h := range hrefs {
					s, err := r.expandHref(h, p, depth+1)
					if err != nil {
						return nil, err
					}
					b.WriteString(s)
				}
				value = b.String()
			}
		}
		ok.Props = append(ok.Props, davxml.Prop{Name: name, Value: value})
	}
	if r.minimal() {
		return []davxml.Propstat{ok}, nil
	}
	return []davxml.Propstat{ok, missing}, nil
}

// expandHref is the DAV:response for one href of an expanded property.
func (r *request) expandHref(href string, p *davxml.Node, depth int) (string, error) {
	u, err := url.Parse(href)
	if err != nil || u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https" {
		return davxml.StatusResponse(href, http.StatusNotFound), nil
	}
	segs, err := splitPath(u.Path)
	if err != nil {
		return davxml.StatusResponse(href, http.StatusNotFound), nil
	}
	res, err := r.resolve(segs)
	if err != nil {
		if _, ok := err.(*httpError); ok {
			return davxml.StatusResponse(href, http.StatusNotFound), nil
		}
		return "", err
	}
	if res.kind == kMissing || (res.kind == kPrincipal && r.dir.User(res.owner) == nil) || r.access(res) < readAccess {
		return davxml.StatusResponse(href, http.StatusNotFound), nil
	}
	stats, err := r.expandProps(res, p, depth)
	if err != nil {
		return "", err
	}
	return davxml.Response(res.href(), stats...), nil
}

// propValue is a property's encoded value: dead or live.
func (r *request) propValue(res *resource, name xml.Name) (string, bool, error) {
	if v, ok := r.deadProps(res)[clark(name)]; ok {
		return v, true, nil
	}
	return r.live(res, name)
}

var hrefListRE = regexp.MustCompile(`^(?:<D:href>([^<]*)</D:href>)+$`)
var oneHrefRE = regexp.MustCompile(`<D:href>([^<]*)</D:href>`)

// hrefsOf returns the hrefs of a live property's value made only of
// DAV:href elements, nil if it is anything else.
func hrefsOf(value string) []string {
	if !hrefListRE.MatchString(value) {
		return nil
	}
	var out []string
	for _, m := range oneHrefRE.FindAllStringSubmatch(value, -1) {
		out = append(out, unescapeText(m[1]))
	}
	return out
}

var textUnescaper = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&#x9;", "\t", "&#xA;", "\n", "&#xD;", "\r")

// unescapeText undoes davxml.Text.
func unescapeText(s string) string { return textUnescaper.Replace(s) }

// maxExpandProps bounds the property lookups of one expand-property
// report: each href followed multiplies the properties asked below it.
const maxExpandProps = 10000
