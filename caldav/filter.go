package caldav

import (
	"net/http"

	"github.com/quercus-dev/quercus/caldav/davxml"
)

// filter is a calendar-query filter.
type filter struct{}

func parseFilter(n *davxml.Node) (*filter, error) { return &filter{}, nil }

func (f *filter) match(o *object) bool { return true }

// dataRequest is a calendar-data element of a REPORT's prop.
type dataRequest struct{}

func parseDataRequest(n *davxml.Node) (*dataRequest, error) { return &dataRequest{}, nil }

func (r *request) calendarData(res *resource, d *dataRequest, body func() ([]byte, error)) (string, error) {
	b, err := body()
	if err != nil {
		return "", err
	}
	return davxml.Text(string(b)), nil
}

func (r *request) freeBusy(res *resource, n *davxml.Node) error {
	return errorf(http.StatusNotImplemented, "free-busy-query is not implemented")
}
