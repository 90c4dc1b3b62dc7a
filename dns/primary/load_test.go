package primary

import (
	"testing"
	"unsafe"
)

// TestLoadZoneSharesOwners: records of one owner written one after another
// share one owner string, whether the file repeats the name or not; other
// spellings keep theirs.
func TestLoadZoneSharesOwners(t *testing.T) {
	z, _, err := loadZone("example.com", []byte(`$ORIGIN example.com.
$TTL 300
@    SOA   ns hostmaster 1 7200 900 1209600 300
@    NS    ns
ns   A     192.0.2.1
www  A     192.0.2.2
www  AAAA  2001:db8::2
     TXT   "blank owner"
www  MX    10 www
WWW  TXT   "other spelling"
`))
	if err != nil {
		t.Fatal(err)
	}
	owner := func(i int) *byte { return unsafe.StringData(z.Records[i].Header().Name) }
	for i := 4; i <= 6; i++ {
		if owner(i) != owner(3) {
			t.Errorf("record %d (%v) has its own owner string", i, z.Records[i])
		}
	}
	if owner(7) == owner(3) {
		t.Errorf("WWW shares www's string: its spelling is lost")
	}
	if z.Records[7].Header().Name != "WWW.example.com." {
		t.Errorf("record 7 owner %q", z.Records[7].Header().Name)
	}
}
