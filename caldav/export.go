package caldav

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/emersion/go-ical"
)

// exportCalendar answers a GET of a calendar collection with all its
// objects as one iCalendar stream, each time zone once, as Radicale and
// Xandikos do: what calendar subscriptions (ICSx5, webcal://) and
// exports fetch. Its ETag is the collection's CTag.
func (r *request) exportCalendar(res *resource) error {
	tag, err := r.snap.Digest(r.ctx, res.key)
	if err != nil {
		return err
	}
	etag := quote(tag)
	if inm := r.Header.Get("If-None-Match"); inm != "" && matchETag(inm, etag) {
		r.w.Header().Set("ETag", etag)
		r.w.WriteHeader(http.StatusNotModified)
		return nil
	}
	entries, err := r.snap.List(r.ctx, res.key)
	if err != nil {
		return err
	}
	files, _ := members(entries, res.key)
	out := ical.NewCalendar()
	out.Props.SetText(ical.PropVersion, "2.0")
	out.Props.SetText(ical.PropProductID, "-//quercus//caldav//EN")
	if name, ok := res.meta.Props[clark(pDisplayName)]; ok {
		out.Props.SetText("X-WR-CALNAME", unescapeText(name))
		out.Props.Get("X-WR-CALNAME").Params.Del(ical.ParamValue)
	}
	zones := map[string]bool{}
	for _, e := range files {
		b, err := r.snap.Get(r.ctx, e.Key)
		if err != nil {
			return err
		}
		cal, err := decode(b)
		if err != nil {
			continue // not iCalendar: a calendar holds only what PUT checked, but git may hold anything
		}
		for _, c := range cal.Children {
			if c.Name == ical.CompTimezone {
				id, _ := c.Props.Text(ical.PropTimezoneID)
				if zones[id] {
					continue
				}
				zones[id] = true
			}
			out.Children = append(out.Children, c)
		}
	}
	var buf bytes.Buffer
	encode(&buf, out.Component)
	h := r.w.Header()
	h.Set("ETag", etag)
	h.Set("Content-Type", "text/calendar; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	r.w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		r.w.Write(buf.Bytes())
	}
	return nil
}
