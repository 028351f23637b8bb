package soap_test

import (
	"encoding/xml"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/internal/soap"
)

const (
	envNS  = "http://schemas.xmlsoap.org/soap/envelope/"
	avType = "urn:schemas-upnp-org:service:AVTransport:1"
	cdType = "urn:schemas-upnp-org:service:ContentDirectory:1"
)

// env wraps body in the usual envelope.
func env(body string) string {
	return `<?xml version="1.0"?>` + "\n" +
		`<s:Envelope xmlns:s="` + envNS + `" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>` +
		body + `</s:Body></s:Envelope>`
}

// play wraps args in a Play action of AVTransport:1.
func play(args string) string {
	return env(`<u:Play xmlns:u="` + avType + `">` + args + `</u:Play>`)
}

var (
	errSyntax = &xml.SyntaxError{}      // any *xml.SyntaxError
	errAny    = errors.New("any error") // any error at all
)

// checkErr fails t unless err is what want asks for: nil, errAny,
// errSyntax, or a sentinel (by errors.Is).
func checkErr(t *testing.T, err, want error) {
	t.Helper()
	switch {
	case want == nil:
		if err != nil {
			t.Fatalf("err = %v, want nil", err)
		}
	case want == errAny:
		if err == nil {
			t.Fatal("err = nil, want an error")
		}
	case want == errSyntax:
		var se *xml.SyntaxError
		if !errors.As(err, &se) {
			t.Fatalf("err = %v, want a *xml.SyntaxError", err)
		}
	default:
		if !errors.Is(err, want) {
			t.Fatalf("err = %v, want %v", err, want)
		}
	}
	if err != nil && !strings.HasPrefix(err.Error(), "soap: ") {
		t.Errorf("error %q lacks the package prefix", err)
	}
}

func TestParseRequest(t *testing.T) {
	type args = []soap.Arg
	tests := []struct {
		name    string
		body    string
		st, act string
		args    args
		err     error
	}{
		{
			name: "canonical",
			body: env(`<u:SetVolume xmlns:u="urn:schemas-upnp-org:service:RenderingControl:1"><InstanceID>0</InstanceID><Channel>Master</Channel><DesiredVolume>40</DesiredVolume></u:SetVolume>`),
			st:   "urn:schemas-upnp-org:service:RenderingControl:1", act: "SetVolume",
			args: args{{"InstanceID", "0"}, {"Channel", "Master"}, {"DesiredVolume", "40"}},
		},
		{
			name: "curl soap.sh, no arguments",
			body: string(readFile(t, "testdata/requests/curl-soapsh-GetSystemUpdateID.xml")),
			st:   cdType, act: "GetSystemUpdateID",
		},
		{
			name: "miniupnpc",
			body: string(readFile(t, "testdata/requests/miniupnpc-AddPortMapping.xml")),
			st:   "urn:schemas-upnp-org:service:WANIPConnection:1", act: "AddPortMapping",
			args: args{{"NewRemoteHost", ""}, {"NewExternalPort", "8080"}, {"NewProtocol", "TCP"}, {"NewInternalPort", "8080"},
				{"NewInternalClient", "10.77.0.16"}, {"NewEnabled", "1"}, {"NewPortMappingDescription", "libminiupnpc"}, {"NewLeaseDuration", "0"}},
		},
		{
			name: "Windows SOAP-ENV and dt:dt attributes",
			body: string(readFile(t, "testdata/requests/windows-Browse.xml")),
			st:   cdType, act: "Browse",
			args: args{{"ObjectID", "0"}, {"BrowseFlag", "BrowseDirectChildren"}, {"Filter", "*"}, {"StartingIndex", "0"}, {"RequestedCount", "200"}, {"SortCriteria", ""}},
		},
		{
			name: "libupnp line breaks and escaped DIDL-Lite",
			body: string(readFile(t, "testdata/requests/libupnp-SetAVTransportURI.xml")),
			st:   avType, act: "SetAVTransportURI",
			args: args{{"InstanceID", "0"}, {"CurrentURI", "http://10.77.0.12:8200/MediaItems/28.mp3"},
				{"CurrentURIMetaData", `<DIDL-Lite xmlns="urn:schemas-upnp-org:metadata-1-0/DIDL-Lite/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:upnp="urn:schemas-upnp-org:metadata-1-0/upnp/"><item id="64$0$0" parentID="64$0" restricted="1"><dc:title>Lab Chime</dc:title><upnp:class>object.item.audioItem.musicTrack</upnp:class><res protocolInfo="http-get:*:audio/mpeg:DLNA.ORG_PN=MP3">http://10.77.0.12:8200/MediaItems/28.mp3</res></item></DIDL-Lite>`}},
		},
		{
			name: "Cling attribute order and standalone",
			body: string(readFile(t, "testdata/requests/cling-Seek.xml")),
			st:   avType, act: "Seek",
			args: args{{"InstanceID", "0"}, {"Unit", "REL_TIME"}, {"Target", "00:01:30"}},
		},
		{
			name: "no prefixes, default namespaces, indented",
			body: string(readFile(t, "testdata/requests/noprefix-Play.xml")),
			st:   avType, act: "Play",
			args: args{{"InstanceID", "0"}, {"Speed", "1"}},
		},
		{
			name: "soap: prefix, Header block, prefix declared on Envelope, prefixed arguments",
			body: string(readFile(t, "testdata/requests/soapprefix-header-SetVolume.xml")),
			st:   "urn:schemas-upnp-org:service:RenderingControl:1", act: "SetVolume",
			args: args{{"InstanceID", "0"}, {"Channel", "Master"}, {"DesiredVolume", "40"}},
		},
		{
			name: "wrong envelope namespace is accepted",
			body: `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><u:Play xmlns:u="` + avType + `"><InstanceID>0</InstanceID></u:Play></s:Body></s:Envelope>`,
			st:   avType, act: "Play", args: args{{"InstanceID", "0"}},
		},
		{
			name: "no envelope namespace at all",
			body: `<Envelope><Body><u:Play xmlns:u="` + avType + `"/></Body></Envelope>`,
			st:   avType, act: "Play",
		},
		{
			name: "BOM, comments and processing instructions",
			body: "\uFEFF" + `<?xml version="1.0" encoding="UTF-8"?><!-- c --><?pi x?>` + play(`<!-- c --><InstanceID><!--c-->0<?pi?></InstanceID>`),
			st:   avType, act: "Play", args: args{{"InstanceID", "0"}},
		},
		{
			name: "values are not trimmed; CR LF read as LF",
			body: play("<A>  two  spaces  </A><B>\n\tx\r\ny\rz\n</B><C>&#xD;&#13;</C><D>   </D>"),
			st:   avType, act: "Play", args: args{{"A", "  two  spaces  "}, {"B", "\n\tx\ny\nz\n"}, {"C", "\r\r"}, {"D", "   "}},
		},
		{
			name: "entities and character references",
			body: play(`<A>a &amp; b &lt;c&gt; &#x41;&#66;&#x1F600; &quot;&apos;</A><B>&#xd800;</B>`),
			st:   avType, act: "Play", args: args{{"A", "a & b <c> AB\U0001F600 \"'"}, {"B", "\uFFFD"}},
		},
		{
			name: "CDATA, alone and mixed with text and comments",
			body: play(`<A><![CDATA[<b>&amp;</b>]]></A><B>x<![CDATA[]]>y<!-- -->z<![CDATA[]]]]><![CDATA[>]]></B>`),
			st:   avType, act: "Play", args: args{{"A", "<b>&amp;</b>"}, {"B", "xyz]]>"}},
		},
		{
			name: "unicode and quotes",
			body: play(`<Title>Motörhead — "Ace" 'of' ♠</Title>`),
			st:   avType, act: "Play", args: args{{"Title", `Motörhead — "Ace" 'of' ♠`}},
		},
		{
			name: "empty arguments, both forms",
			body: play(`<A/><B></B><C />`),
			st:   avType, act: "Play", args: args{{"A", ""}, {"B", ""}, {"C", ""}},
		},
		{
			name: "duplicate arguments are kept for the caller to judge",
			body: play(`<A>1</A><A>2</A>`),
			st:   avType, act: "Play", args: args{{"A", "1"}, {"A", "2"}},
		},
		{
			name: "action prefix rebound on the action",
			body: `<s:Envelope xmlns:s="` + envNS + `" xmlns:u="urn:wrong"><s:Body><u:Play xmlns:u="` + avType + `"/></s:Body></s:Envelope>`,
			st:   avType, act: "Play",
		},
		{
			name: "action prefix declared on Body",
			body: `<s:Envelope xmlns:s="` + envNS + `"><s:Body xmlns:m="` + avType + `"><m:Play/></s:Body></s:Envelope>`,
			st:   avType, act: "Play",
		},
		{
			name: "same prefix as the envelope",
			body: `<s:Envelope xmlns:s="` + envNS + `"><s:Body><s:Play xmlns:s="` + avType + `"><s:InstanceID>0</s:InstanceID></s:Play></s:Body></s:Envelope>`,
			st:   avType, act: "Play", args: args{{"InstanceID", "0"}},
		},
		{
			name: "escaped service type",
			body: env(`<u:Play xmlns:u="urn:x&amp;y:service:A:1"/>`),
			st:   "urn:x&y:service:A:1", act: "Play",
		},
		{
			name: "an element named Body inside the Header is not the Body",
			body: `<s:Envelope xmlns:s="` + envNS + `"><s:Header><s:Body><u:Evil xmlns:u="urn:evil"/></s:Body></s:Header><s:Body><u:Play xmlns:u="` + avType + `"/></s:Body></s:Envelope>`,
			st:   avType, act: "Play",
		},
		{
			name: "elements after the Body are ignored",
			body: `<s:Envelope xmlns:s="` + envNS + `"><s:Body><u:Play xmlns:u="` + avType + `"/></s:Body><s:Body><u:Stop xmlns:u="` + avType + `"/></s:Body><x/></s:Envelope>`,
			st:   avType, act: "Play",
		},
		{
			name: "text outside arguments is ignored",
			body: env(`junk<u:Play xmlns:u="` + avType + `">more<A>1</A>junk</u:Play>`),
			st:   avType, act: "Play", args: args{{"A", "1"}},
		},
		{
			name: "what follows the envelope is not read",
			body: play(`<A>1</A>`) + `<garbage><!DOCTYPE x>&bad;`,
			st:   avType, act: "Play", args: args{{"A", "1"}},
		},
		{
			name: "ISO-8859-1",
			body: "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>" + strings.TrimPrefix(play("<Title>caf\xe9</Title>"), `<?xml version="1.0"?>`),
			st:   avType, act: "Play", args: args{{"Title", "café"}},
		},
		{
			name: "non-ASCII names",
			body: env(`<u:Lecture xmlns:u="urn:x"><Durée>1</Durée></u:Lecture>`),
			st:   "urn:x", act: "Lecture", args: args{{"Durée", "1"}},
		},

		{name: "empty input", body: "", err: soap.ErrNoEnvelope},
		{name: "only a declaration", body: `<?xml version="1.0"?>`, err: soap.ErrNoEnvelope},
		{name: "not an envelope", body: `<root><Play/></root>`, err: soap.ErrNoEnvelope},
		{name: "missing Body", body: `<s:Envelope xmlns:s="` + envNS + `"><s:Header/></s:Envelope>`, err: soap.ErrNoEnvelope},
		{name: "empty Body", body: env(""), err: soap.ErrBadBody},
		{name: "Body with only text", body: env("  text  "), err: soap.ErrBadBody},
		{name: "two actions", body: env(`<u:Play xmlns:u="` + avType + `"/><u:Stop xmlns:u="` + avType + `"/>`), err: soap.ErrBadBody},
		{name: "action in no namespace", body: env(`<Play><A>1</A></Play>`), err: soap.ErrBadBody},
		{name: "undeclared prefix", body: env(`<u:Play/>`), err: soap.ErrBadBody},
		{name: "prefix declared only in the Header", body: `<s:Envelope xmlns:s="` + envNS + `"><s:Header><h xmlns:u="urn:leak"/></s:Header><s:Body><u:Play/></s:Body></s:Envelope>`, err: soap.ErrBadBody},
		{name: "default namespace undeclared", body: `<Envelope xmlns="` + envNS + `"><Body><Play xmlns=""/></Body></Envelope>`, err: soap.ErrBadBody},
		{name: "argument holds elements", body: play(`<CurrentURIMetaData><DIDL-Lite/></CurrentURIMetaData>`), err: soap.ErrNestedArgument},

		{name: "mismatched end tag", body: play(`<A>1</B>`), err: errSyntax},
		{name: "truncated", body: play(`<A>1</A>`)[:120], err: errSyntax},
		{name: "unknown entity", body: play(`<A>&nbsp;</A>`), err: errSyntax},
		{name: "bare ampersand", body: play(`<A>a & b</A>`), err: errSyntax},
		{name: "NUL character", body: play("<A>\x00</A>"), err: errSyntax},
		{name: "NUL reference", body: play("<A>&#0;</A>"), err: errSyntax},
		{name: "invalid UTF-8", body: play("<A>\xff</A>"), err: errSyntax},
		{name: "]]> in text", body: play("<A>]]></A>"), err: errSyntax},
		{name: "unquoted attribute", body: env(`<u:Play xmlns:u=urn:x/>`), err: errSyntax},
		{name: "empty local name", body: env(`<u:Play xmlns:u="urn:x"><a:>1</a:></u:Play>`), err: errSyntax},
		{name: "XML 1.1", body: `<?xml version="1.1"?>` + play(""), err: errAny},

		{name: "DOCTYPE", body: `<?xml version="1.0"?><!DOCTYPE s:Envelope>` + play(""), err: upnp.ErrDTD},
		{name: "billion laughs", body: `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>` + play("<A>&lol2;</A>"), err: upnp.ErrDTD},
		{name: "DOCTYPE inside the envelope", body: play(`<!DOCTYPE x>`), err: upnp.ErrDTD},
		{name: "ENTITY inside an argument", body: play(`<A><!ENTITY x "y"></A>`), err: upnp.ErrDTD},
		{name: "too deep in the Header", body: `<s:Envelope xmlns:s="` + envNS + `"><s:Header>` + strings.Repeat("<h>", 40) + strings.Repeat("</h>", 40) + `</s:Header><s:Body/></s:Envelope>`, err: upnp.ErrTooDeep},
		{name: "too many tokens", body: `<s:Envelope xmlns:s="` + envNS + `"><s:Header>` + strings.Repeat("<h/>", 25_001) + `</s:Header><s:Body/></s:Envelope>`, err: upnp.ErrTooManyTokens},
		{name: "too many attributes", body: `<s:Envelope xmlns:s="` + envNS + `"><s:Header><h` + strings.Repeat(` a="1"`, 50_001) + `/></s:Header><s:Body/></s:Envelope>`, err: upnp.ErrTooManyTokens},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, act, args, err := soap.ParseRequest([]byte(tt.body))
			checkErr(t, err, tt.err)
			if err != nil {
				return
			}
			if st != tt.st || act != tt.act {
				t.Errorf("got %q#%q, want %q#%q", st, act, tt.st, tt.act)
			}
			if diff := cmp.Diff(tt.args, args, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("args (-want +got):\n%s", diff)
			}
		})
	}
}

// The fault templates of the three lab peers, as captured.
func TestParseResponseFaults(t *testing.T) {
	tests := []struct {
		file string
		want *upnp.Error
	}{
		{"minidlna-InvalidAction.xml", &upnp.Error{Code: 401, Description: "Invalid Action"}},
		{"gmediarender-InvalidAction.xml", &upnp.Error{Code: 501, Description: "Action Failed"}},
		{"miniupnpd-InvalidAction.xml", &upnp.Error{Code: 401, Description: "Invalid Action"}},
		{"miniupnpd-GetSpecificPortMappingEntry-missing.xml", &upnp.Error{Code: 714, Description: "NoSuchEntryInArray"}},
		{"miniupnpd-AddPortMapping-606-template.xml", &upnp.Error{Code: 606, Description: "Action not authorized"}},
		{"miniupnpd-AddPortMapping-718-template.xml", &upnp.Error{Code: 718, Description: "ConflictInMappingEntry"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			out, err := soap.ParseResponse(readFile(t, "testdata/responses/"+tt.file), "AnyAction")
			var got *upnp.Error
			if !errors.As(err, &got) {
				t.Fatalf("err = %v (%T), want *upnp.Error", err, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if !errors.Is(err, &upnp.Error{Code: tt.want.Code}) {
				t.Errorf("errors.Is(err, code %d) = false", tt.want.Code)
			}
			if out != nil {
				t.Errorf("out = %v with a fault", out)
			}
		})
	}
}

func TestParseResponse(t *testing.T) {
	type args = []soap.Arg
	fault := func(inner string) string {
		return env(`<s:Fault>` + inner + `</s:Fault>`)
	}
	upnpErr := func(code, desc string) string {
		return `<detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>` + code + `</errorCode><errorDescription>` + desc + `</errorDescription></UPnPError></detail>`
	}
	tests := []struct {
		name   string
		body   string
		action string
		want   args
		err    error
	}{
		{name: "gmediarender GetVolume", body: string(readFile(t, "testdata/responses/gmediarender-GetVolume.xml")), action: "GetVolume", want: args{{"CurrentVolume", "100"}}},
		{name: "gmediarender SetVolume, no out arguments", body: string(readFile(t, "testdata/responses/gmediarender-SetVolume-40.xml")), action: "SetVolume"},
		{name: "gmediarender GetMediaInfo, empty values", body: string(readFile(t, "testdata/responses/gmediarender-GetMediaInfo.xml")), action: "GetMediaInfo", want: args{
			{"NrTracks", "0"}, {"MediaDuration", ""}, {"CurrentURI", ""}, {"CurrentURIMetaData", ""}, {"NextURI", ""}, {"NextURIMetaData", ""},
			{"PlayMedium", "NOT_IMPLEMENTED"}, {"RecordMedium", "NOT_IMPLEMENTED"}, {"WriteStatus", "NOT_IMPLEMENTED"}}},
		{name: "minidlna GetSystemUpdateID", body: string(readFile(t, "testdata/responses/minidlna-GetSystemUpdateID.xml")), action: "GetSystemUpdateID", want: args{{"Id", "0"}}},
		{name: "minidlna IsAuthorized, Microsoft service", body: string(readFile(t, "testdata/responses/minidlna-IsAuthorized.xml")), action: "IsAuthorized", want: args{{"Result", "1"}}},
		{name: "miniupnpd GetExternalIPAddress", body: string(readFile(t, "testdata/responses/miniupnpd-GetExternalIPAddress.xml")), action: "GetExternalIPAddress", want: args{{"NewExternalIPAddress", "1.2.3.4"}}},
		{name: "miniupnpd GetStatusInfo", body: string(readFile(t, "testdata/responses/miniupnpd-GetStatusInfo.xml")), action: "GetStatusInfo", want: args{
			{"NewConnectionStatus", "Connected"}, {"NewLastConnectionError", "ERROR_NONE"}, {"NewUptime", "55"}}},
		{name: "missing Response suffix", body: env(`<u:GetVolume xmlns:u="urn:x"><CurrentVolume>7</CurrentVolume></u:GetVolume>`), action: "GetVolume", want: args{{"CurrentVolume", "7"}}},
		{name: "case differs", body: env(`<u:getvolumeRESPONSE xmlns:u="urn:x"><CurrentVolume>7</CurrentVolume></u:getvolumeRESPONSE>`), action: "GetVolume", want: args{{"CurrentVolume", "7"}}},
		{name: "no namespace needed", body: env(`<GetVolumeResponse><CurrentVolume>7</CurrentVolume></GetVolumeResponse>`), action: "GetVolume", want: args{{"CurrentVolume", "7"}}},
		{name: "undeclared prefix tolerated", body: env(`<u:GetVolumeResponse><CurrentVolume>7</CurrentVolume></u:GetVolumeResponse>`), action: "GetVolume", want: args{{"CurrentVolume", "7"}}},
		{name: "empty action accepts any", body: env(`<u:Whatever xmlns:u="urn:x"><A>1</A></u:Whatever>`), want: args{{"A", "1"}}},
		{name: "wrong response", body: env(`<u:GetMuteResponse xmlns:u="urn:x"><CurrentMute>0</CurrentMute></u:GetMuteResponse>`), action: "GetVolume", err: soap.ErrWrongResponse},
		{name: "response of a longer name", body: env(`<u:GetVolumeDBResponse xmlns:u="urn:x"/>`), action: "GetVolume", err: soap.ErrWrongResponse},

		{name: "fault, empty faultstring", body: fault(`<faultcode>s:Client</faultcode><faultstring></faultstring>` + upnpErr("402", "Invalid Args")), action: "X", err: &upnp.Error{Code: 402, Description: "Invalid Args"}},
		{name: "fault, no faultcode or faultstring", body: fault(upnpErr("501", "Action Failed")), action: "X", err: &upnp.Error{Code: 501, Description: "Action Failed"}},
		{name: "fault, odd prefixes", body: `<SOAP-ENV:Envelope xmlns:SOAP-ENV="` + envNS + `"><SOAP-ENV:Body><SOAP-ENV:Fault><SOAP-ENV:faultcode>SOAP-ENV:Client</SOAP-ENV:faultcode><SOAP-ENV:faultstring>UPnPError</SOAP-ENV:faultstring><SOAP-ENV:detail><e:UPnPError xmlns:e="urn:schemas-upnp-org:control-1-0"><e:errorCode>718</e:errorCode><e:errorDescription>ConflictInMappingEntry</e:errorDescription></e:UPnPError></SOAP-ENV:detail></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>`,
			action: "AddPortMapping", err: &upnp.Error{Code: 718, Description: "ConflictInMappingEntry"}},
		{name: "fault, white space and lower-case names", body: fault("\n <faultcode> s:Client </faultcode>\n <detail>\n  <upnperror>\n   <errorcode>\n 606 \n</errorcode>\n   <errordescription>\n Action not authorized \n</errordescription>\n  </upnperror>\n </detail>\n"), action: "X", err: &upnp.Error{Code: 606, Description: "Action not authorized"}},
		{name: "fault, no description", body: fault(`<detail><UPnPError><errorCode>401</errorCode></UPnPError></detail>`), action: "X", err: &upnp.Error{Code: 401}},
		{name: "fault, detail wrapped in more elements", body: fault(`<detail><x><y><UPnPError><errorCode>605</errorCode><errorDescription>too long</errorDescription></UPnPError></y></x></detail>`), action: "X", err: &upnp.Error{Code: 605, Description: "too long"}},
		{name: "fault, CDATA and entities", body: fault(`<detail><UPnPError><errorCode><![CDATA[800]]></errorCode><errorDescription>a &amp; b</errorDescription></UPnPError></detail>`), action: "X", err: &upnp.Error{Code: 800, Description: "a & b"}},
		{name: "fault without UPnPError", body: fault(`<faultcode>s:Server</faultcode><faultstring>Internal Error</faultstring>`), action: "X", err: &soap.FaultError{Code: "s:Server", String: "Internal Error"}},
		{name: "fault with a non-numeric errorCode", body: fault(`<faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring>` + upnpErr("abc", "x")), action: "X", err: &soap.FaultError{Code: "s:Client", String: "UPnPError"}},
		{name: "fault with a negative errorCode", body: fault(`<faultcode>s:Client</faultcode>` + upnpErr("-1", "x")), action: "X", err: &soap.FaultError{Code: "s:Client"}},
		{name: "empty fault", body: fault(``), action: "X", err: &soap.FaultError{}},

		{name: "nested argument", body: env(`<u:BrowseResponse xmlns:u="urn:x"><Result><DIDL-Lite/></Result></u:BrowseResponse>`), action: "Browse", err: soap.ErrNestedArgument},
		{name: "empty body", body: env(""), action: "X", err: soap.ErrBadBody},
		{name: "two responses", body: env(`<u:AResponse xmlns:u="urn:x"/><u:AResponse xmlns:u="urn:x"/>`), action: "A", err: soap.ErrBadBody},
		{name: "HTML error page", body: "<html><body>500 Internal Server Error</body></html>", action: "X", err: soap.ErrNoEnvelope},
		{name: "empty input", body: "", action: "X", err: soap.ErrNoEnvelope},
		{name: "DTD", body: `<!DOCTYPE x [<!ENTITY a "b">]>` + env(`<u:AResponse xmlns:u="urn:x"><R>&a;</R></u:AResponse>`), action: "A", err: upnp.ErrDTD},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := soap.ParseResponse([]byte(tt.body), tt.action)
			var wantUPnP *upnp.Error
			var wantFault *soap.FaultError
			switch {
			case errors.As(tt.err, &wantUPnP):
				var got *upnp.Error
				if !errors.As(err, &got) {
					t.Fatalf("err = %v (%T), want %v", err, err, tt.err)
				}
				if diff := cmp.Diff(wantUPnP, got); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			case errors.As(tt.err, &wantFault):
				var got *soap.FaultError
				if !errors.As(err, &got) {
					t.Fatalf("err = %v (%T), want %v", err, err, tt.err)
				}
				if diff := cmp.Diff(wantFault, got); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			default:
				checkErr(t, err, tt.err)
			}
			if diff := cmp.Diff(tt.want, out, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("out (-want +got):\n%s", diff)
			}
		})
	}
}

// Every captured response parses, and what holds XML holds it as text.
func TestParseResponseSamples(t *testing.T) {
	files := glob(t, "testdata/responses/*.xml")
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			out, err := soap.ParseResponse(readFile(t, f), "")
			var uerr *upnp.Error
			if err != nil && !errors.As(err, &uerr) {
				t.Fatal(err)
			}
			for _, a := range out {
				if a.Name == "Result" && strings.HasPrefix(a.Value, "<DIDL-Lite") && !strings.HasSuffix(a.Value, "</DIDL-Lite>") {
					t.Errorf("Result = %.80q...", a.Value)
				}
				if a.Name == "NewPortListing" && !strings.HasPrefix(a.Value, "<p:PortMappingList") {
					t.Errorf("NewPortListing (CDATA) = %.80q...", a.Value)
				}
			}
		})
	}
}

func TestParseResponseBrowse(t *testing.T) {
	out, err := soap.ParseResponse(readFile(t, "testdata/responses/minidlna-Browse-0.xml"), "Browse")
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(out))
	for i, a := range out {
		names[i] = a.Name
	}
	if diff := cmp.Diff([]string{"Result", "NumberReturned", "TotalMatches", "UpdateID"}, names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	const head = `<DIDL-Lite xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:upnp="urn:schemas-upnp-org:metadata-1-0/upnp/" xmlns="urn:schemas-upnp-org:metadata-1-0/DIDL-Lite/" xmlns:dlna="urn:schemas-dlna-org:metadata-1-0/">` +
		"\n" + `<container id="64" parentID="0" restricted="1" searchable="1" childCount="3"><dc:title>Browse Folders</dc:title>`
	if !strings.HasPrefix(out[0].Value, head) {
		t.Errorf("Result = %.200q", out[0].Value)
	}
	if out[1].Value != "4" || out[2].Value != "0" || out[3].Value != "0" {
		t.Errorf("counts = %v", out[1:])
	}
}

// Readers share pooled buffers; results must not leak between goroutines.
func TestParseConcurrent(t *testing.T) {
	bodies := glob(t, "testdata/*/*.xml")
	want := make([][]soap.Arg, len(bodies))
	for i, f := range bodies {
		want[i], _ = soap.ParseResponse(readFile(t, f), "")
	}
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for n := 0; n < 50; n++ {
				for i, f := range bodies {
					got, _ := soap.ParseResponse(readFile(t, f), "")
					if diff := cmp.Diff(want[i], got); diff != "" {
						t.Errorf("%s (-want +got):\n%s", f, diff)
						return
					}
				}
			}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}
