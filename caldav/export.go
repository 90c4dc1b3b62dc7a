package caldav

import (
	"bytes"
	"io"
	"net/http"

	"github.com/emersion/go-ical"
)

// exportCalendar answers a GET of a calendar collection with all its
// objects as one iCalendar stream, each time zone once, as Radicale and
// Xandikos do: what calendar subscriptions (ICSx5, webcal://) and
// exports fetch. Its ETag is the collection's CTag.
//
// Unlike a PUT body, a calendar has no size limit, so the answer is
// streamed: its memory is one object's, whatever the calendar's size.
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
	head := ical.NewCalendar()
	head.Props.SetText(ical.PropVersion, "2.0")
	head.Props.SetText(ical.PropProductID, "-//quercus//caldav//EN")
	if name, ok := res.meta.Props[clark(pDisplayName)]; ok {
		head.Props.SetText("X-WR-CALNAME", unescapeText(name))
		head.Props.Get("X-WR-CALNAME").Params.Del(ical.ParamValue)
	}
	var buf bytes.Buffer
	encode(&buf, head.Component)
	h := r.w.Header()
	h.Set("ETag", etag)
	h.Set("Content-Type", "text/calendar; charset=utf-8")
	r.w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodGet {
		return nil
	}
	// The objects go out one at a time as they are read and parsed, so
	// a large calendar is never held whole; the length is not known
	// beforehand.
	r.w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("END:VCALENDAR\r\n")))
	zones := map[string]bool{}
	for _, e := range files {
		b, err := r.snap.Get(r.ctx, e.Key)
		if err != nil {
			// Too late for an error status: cut the answer short, so
			// that the client sees it incomplete.
			if r.ctx.Err() == nil {
				r.h.log.Error("calendar export", "path", r.URL.Path, "err", err)
			}
			panic(http.ErrAbortHandler)
		}
		cal, err := decode(b)
		if err != nil {
			continue // not iCalendar: a calendar holds only what PUT checked, but git may hold anything
		}
		buf.Reset()
		for _, c := range cal.Children {
			if c.Name == ical.CompTimezone {
				id, _ := c.Props.Text(ical.PropTimezoneID)
				if zones[id] {
					continue
				}
				zones[id] = true
			}
			encode(&buf, c)
		}
		r.w.Write(buf.Bytes())
	}
	io.WriteString(r.w, "END:VCALENDAR\r\n")
	return nil
}
