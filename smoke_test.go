package upnp_test
import ("testing";"os";"path/filepath";"strings";"github.com/seedb72249f9/upnp")
func TestSmoke(t *testing.T) {
	files, _ := filepath.Glob("testdata/descriptions/*/*.xml")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if strings.HasSuffix(f, "description.xml") {
			r, err := upnp.ParseDescription(b)
			if err != nil { t.Errorf("%s: %v", f, err); continue }
			if err := r.Validate(); err != nil { t.Errorf("%s: %v", f, err) }
			out, err := r.Marshal(); if err != nil { t.Error(err) }
			if strings.Contains(f, "IGD1") { t.Logf("%s", out) }
		} else {
			s, err := upnp.ParseSCPD(b)
			if err != nil { t.Errorf("%s: %v", f, err); continue }
			if err := s.Validate(); err != nil { t.Errorf("%s: %v", f, err) }
			out, err := s.Marshal(); if err != nil { t.Error(err) }
			if strings.Contains(f, "Layer3") { t.Logf("%s", out) }
		}
	}
}
