package caldav

import "testing"

// FuzzParseObject: any body is accepted or refused with a precondition,
// never a panic.
func FuzzParseObject(f *testing.F) {
	f.Add(event)
	f.Add("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
	f.Add("0;0=") // go-ical panics on this line
	f.Fuzz(func(t *testing.T, body string) {
		if _, err := parseObject([]byte(body)); err != nil {
			if _, ok := err.(*httpError); !ok {
				t.Errorf("error %v is not a precondition", err)
			}
		}
	})
}
