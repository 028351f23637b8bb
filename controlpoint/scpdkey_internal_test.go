package controlpoint

import "testing"

func TestSCPDKey(t *testing.T) {
	const head = `<?xml version="1.0"?>` + "\n"
	for _, tt := range []struct {
		doc, key string
		cid      int
		ok       bool
	}{
		{head + `<scpd xmlns="urn:schemas-upnp-org:service-1-0" configId="1234"><x/></scpd>`,
			head + `<scpd xmlns="urn:schemas-upnp-org:service-1-0" configId=""><x/></scpd>`, 1234, true},
		{`<scpd configId="0">`, `<scpd configId="">`, 0, true},
		{`<scpd configId="16777215"/>`, `<scpd configId=""/>`, 16777215, true},
		// Left whole: no configId, odd forms, a comment before the root.
		{`<scpd><x configId="5"/></scpd>`, "", 0, false},
		{`<scpd configId="123456789">`, "", 0, false},
		{`<scpd configId="">`, "", 0, false},
		{`<scpd configId="12a">`, "", 0, false},
		{`<scpd configId='12'>`, "", 0, false},
		{`<scpd x:configId="1" configId="2">`, "", 0, false},
		{`<scpd CONFIGID="1">`, "", 0, false},
		{`<!-- <scpd configId="1"> --><scpd configId="2">`, "", 0, false},
		{`<scpd configId="12`, "", 0, false},
		{`no root`, "", 0, false},
	} {
		key, cid, ok := scpdKey([]byte(tt.doc))
		want := tt.key
		if !tt.ok {
			want = tt.doc
		}
		if key != want || cid != tt.cid || ok != tt.ok {
			t.Errorf("scpdKey(%q) = %q, %d, %v; want %q, %d, %v", tt.doc, key, cid, ok, want, tt.cid, tt.ok)
		}
	}
}
