package zone

import "testing"

// Parse sizes Records for a record a line; a file of few records on many
// lines must not keep the room, and one without records has none.
func TestParseRecordsRoom(t *testing.T) {
	for _, tt := range []struct {
		src      string
		records  int
		maxSpare int
	}{
		{src: "", records: 0},
		{src: "; nothing\n\n\n", records: 0},
		{src: base + "\n\n\n\n\n\n\n\n\n\n\n\n; x\n; y\n", records: 4, maxSpare: 1},
		{src: base, records: 4, maxSpare: 2},
	} {
		z, err := Parse("example.com", []byte(tt.src))
		if err != nil {
			t.Fatal(err)
		}
		if len(z.Records) != tt.records || cap(z.Records)-len(z.Records) > tt.maxSpare {
			t.Errorf("Parse(%q): %d records, room for %d", tt.src, len(z.Records), cap(z.Records))
		}
		if tt.records == 0 && z.Records != nil {
			t.Errorf("Parse(%q): Records not nil", tt.src)
		}
	}
}
