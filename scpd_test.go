package upnp_test

import (
	"errors"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/seedb72249f9/upnp"
)

func parseSCPD(t testing.TB, name string) *upnp.SCPD {
	t.Helper()
	s, err := upnp.ParseSCPD(readFile(t, name))
	if err != nil {
		t.Fatalf("ParseSCPD(%s): %v", name, err)
	}
	return s
}

func scpdFiles(t testing.TB) []string {
	files, err := filepath.Glob("testdata/descriptions/*/*.scpd.xml")
	if err != nil || len(files) < 14 {
		t.Fatalf("SCPD samples: %d, %v", len(files), err)
	}
	return files
}

func TestParseSCPDFull(t *testing.T) {
	want := &upnp.SCPD{
		ConfigID:    -1,
		SpecVersion: upnp.SpecVersion{Major: 1, Minor: 1},
		Actions: []upnp.Action{
			{Name: "SetDefaultConnectionService", Arguments: []upnp.Argument{
				{Name: "NewDefaultConnectionService", Direction: "in", RelatedStateVariable: "DefaultConnectionService"},
			}},
			{Name: "GetDefaultConnectionService", Arguments: []upnp.Argument{
				{Name: "NewDefaultConnectionService", Direction: "out", RelatedStateVariable: "DefaultConnectionService"},
			}},
		},
		StateVariables: []upnp.StateVariable{
			{Name: "DefaultConnectionService", DataType: upnp.TypeString, SendEvents: true},
		},
	}
	got := parseSCPD(t, "testdata/descriptions/miniupnpd-InternetGatewayDevice1/Layer3Forwarding-1.scpd.xml")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseSCPD (-want +got):\n%s", diff)
	}
}

// TestParseSCPDSamples checks every captured SCPD against counts taken
// independently with regular expressions, and validates it.
func TestParseSCPDSamples(t *testing.T) {
	actionRE := regexp.MustCompile(`<action>`)
	varRE := regexp.MustCompile(`<stateVariable[ >]`)
	argRE := regexp.MustCompile(`<argument>`)
	for _, f := range scpdFiles(t) {
		t.Run(filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f), func(t *testing.T) {
			b := readFile(t, f)
			s := parseSCPD(t, f)
			if err := s.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
			if n := len(actionRE.FindAll(b, -1)); len(s.Actions) != n {
				t.Errorf("%d actions, want %d", len(s.Actions), n)
			}
			if n := len(varRE.FindAll(b, -1)); len(s.StateVariables) != n {
				t.Errorf("%d state variables, want %d", len(s.StateVariables), n)
			}
			args := 0
			for _, a := range s.Actions {
				args += len(a.Arguments)
				for _, g := range a.Arguments {
					if s.StateVariable(g.RelatedStateVariable) == nil {
						t.Errorf("%s.%s: no variable %q", a.Name, g.Name, g.RelatedStateVariable)
					}
				}
			}
			if n := len(argRE.FindAll(b, -1)); args != n {
				t.Errorf("%d arguments, want %d", args, n)
			}
			for _, v := range s.StateVariables {
				if !v.DataType.Valid() {
					t.Errorf("%s: data type %q", v.Name, v.DataType)
				}
			}
		})
	}
}

func TestSCPDSampleDetails(t *testing.T) {
	rc := parseSCPD(t, "testdata/descriptions/gmediarender-MediaRenderer1/RenderingControl-1.scpd.xml")
	a := rc.Action("GetVolume")
	if a == nil {
		t.Fatal("no GetVolume")
	}
	var in, out []string
	for g := range a.In() {
		in = append(in, g.Name)
	}
	for g := range a.Out() {
		out = append(out, g.Name)
	}
	if diff := cmp.Diff([]string{"InstanceID", "Channel"}, in); diff != "" {
		t.Errorf("In (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"CurrentVolume"}, out); diff != "" {
		t.Errorf("Out (-want +got):\n%s", diff)
	}
	for range a.In() {
		break
	}
	vol := rc.StateVariable("Volume")
	wantVol := &upnp.StateVariable{Name: "Volume", DataType: upnp.TypeUI2,
		Range: &upnp.AllowedRange{Minimum: "0", Maximum: "100", Step: "1"}}
	if diff := cmp.Diff(wantVol, vol); diff != "" {
		t.Errorf("Volume (-want +got):\n%s", diff)
	}
	if rc.Action("getvolume") != nil || rc.StateVariable("none") != nil {
		t.Error("lookup of absent names succeeded")
	}

	ip := parseSCPD(t, "testdata/descriptions/miniupnpd-InternetGatewayDevice2/WANIPConnection-2.scpd.xml")
	proto := ip.StateVariable("PortMappingProtocol")
	if diff := cmp.Diff([]string{"TCP", "UDP"}, proto.AllowedValues); diff != "" {
		t.Errorf("PortMappingProtocol (-want +got):\n%s", diff)
	}
	lease := ip.StateVariable("PortMappingLeaseDuration")
	wantLease := &upnp.StateVariable{Name: "PortMappingLeaseDuration", DataType: upnp.TypeUI4, Default: "3600",
		Range: &upnp.AllowedRange{Minimum: "0", Maximum: "604800"}}
	if diff := cmp.Diff(wantLease, lease); diff != "" {
		t.Errorf("PortMappingLeaseDuration (-want +got):\n%s", diff)
	}
	if v := ip.StateVariable("ConnectionStatus"); v == nil || !v.SendEvents {
		t.Errorf("ConnectionStatus = %+v, want evented", v)
	}
	// miniupnpd names the out argument of AddAnyPortMapping like an in one.
	add := ip.Action("AddAnyPortMapping")
	if n := len(add.Arguments); n != 9 || add.Arguments[8].Name != "NewExternalPort" || add.Arguments[8].Direction != "out" {
		t.Errorf("AddAnyPortMapping arguments: %+v", add.Arguments)
	}
}

func TestSCPDGoldenAndRoundTrip(t *testing.T) {
	for _, f := range scpdFiles(t) {
		name := filepath.Base(filepath.Dir(f)) + "." + filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			s := parseSCPD(t, f)
			out, err := s.Marshal()
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			golden(t, name, out)
			s2, err := upnp.ParseSCPD(out)
			if err != nil {
				t.Fatalf("ParseSCPD(Marshal()): %v", err)
			}
			if diff := cmp.Diff(s, s2); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMarshalSCPD(t *testing.T) {
	s := &upnp.SCPD{
		ConfigID:    1,
		SpecVersion: upnp.SpecVersion{Major: 1, Minor: 1},
		Actions: []upnp.Action{
			{Name: "SetTarget", Arguments: []upnp.Argument{{Name: "newTargetValue", Direction: "in", RelatedStateVariable: "Target"}}},
			{Name: "GetStatus", Arguments: []upnp.Argument{{Name: "ResultStatus", Direction: "out", RetVal: true, RelatedStateVariable: "Status"}}},
			{Name: "Toggle"},
		},
		StateVariables: []upnp.StateVariable{
			{Name: "Target", DataType: upnp.TypeBoolean, Default: "0"},
			{Name: "Status", DataType: upnp.TypeBoolean, Default: "0", SendEvents: true, Multicast: true},
			{Name: "Mode", DataType: upnp.TypeString, AllowedValues: []string{"Auto", "Manual"}, Default: "Auto"},
			{Name: "Level", DataType: upnp.TypeUI1, Range: &upnp.AllowedRange{Minimum: "0", Maximum: "100", Step: "5"}},
		},
	}
	out, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "minimal.scpd.xml", out)
	s2, err := upnp.ParseSCPD(out)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, s2); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestParseSCPDLenient(t *testing.T) {
	in := `<?xml version="1.0"?>
<s:SCPD xmlns:s="urn:schemas-upnp-org:service-1-0" configid=" 12 ">
 <s:specVersion><s:major>1</s:major><s:minor>0</s:minor></s:specVersion>
 <s:actionList>
  <s:action><s:name> Play </s:name><s:argumentList>
    <s:argument><s:name>Speed</s:name><s:direction> IN </s:direction><s:relatedStateVariable>TransportPlaySpeed</s:relatedStateVariable></s:argument>
    <s:argument><s:Name>Result</s:Name><s:Direction>Out</s:Direction><s:retval/><s:RelatedStateVariable>Status</s:RelatedStateVariable></s:argument>
  </s:argumentList><vendor/></s:action>
 </s:actionList>
 <s:serviceStateTable>
  <s:stateVariable><s:name>TransportPlaySpeed</s:name><s:dataType> String </s:dataType>
    <s:allowedValueList><s:allowedValue> 1 </s:allowedValue><other/></s:allowedValueList></s:stateVariable>
  <s:stateVariable sendEvents="NO" multicast="Yes"><s:name>Status</s:name><s:dataType type="xsd:int">i4</s:dataType>
    <s:defaultValue> 0 </s:defaultValue>
    <s:allowedValueRange><s:minimum>-5</s:minimum><s:maximum> 5 </s:maximum></s:allowedValueRange></s:stateVariable>
  <s:stateVariable sendEvents="bogus"><s:name>X</s:name><s:dataType>int32</s:dataType></s:stateVariable>
  <s:stateVariable><s:name>Empty</s:name><s:dataType>datetime.tz</s:dataType><s:allowedValueList/></s:stateVariable>
 </s:serviceStateTable>
</s:SCPD>`
	want := &upnp.SCPD{
		ConfigID:    12,
		SpecVersion: upnp.SpecVersion{Major: 1},
		Actions: []upnp.Action{{Name: "Play", Arguments: []upnp.Argument{
			{Name: "Speed", Direction: "in", RelatedStateVariable: "TransportPlaySpeed"},
			{Name: "Result", Direction: "out", RelatedStateVariable: "Status", RetVal: true},
		}}},
		StateVariables: []upnp.StateVariable{
			{Name: "TransportPlaySpeed", DataType: upnp.TypeString, AllowedValues: []string{"1"}, SendEvents: true},
			{Name: "Status", DataType: upnp.TypeI4, Default: "0", Range: &upnp.AllowedRange{Minimum: "-5", Maximum: "5"}, Multicast: true},
			{Name: "X", DataType: "int32", SendEvents: true},
			{Name: "Empty", DataType: upnp.TypeDateTimeTZ, AllowedValues: []string{}, SendEvents: true},
		},
	}
	got, err := upnp.ParseSCPD([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseSCPD (-want +got):\n%s", diff)
	}
	if err := got.Validate(); err == nil || !strings.Contains(err.Error(), `unknown data type "int32"`) {
		t.Errorf("Validate() = %v", err)
	}
}

func TestParseSCPDErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, upnp.ErrNotSCPD},
		{"description", readFile(t, "testdata/descriptions/gmediarender-MediaRenderer1/description.xml"), upnp.ErrNotSCPD},
		{"truncated", readFile(t, "testdata/descriptions/minidlna-MediaServer1/ContentDirectory-1.scpd.xml")[:700], errSyntax},
		{"DTD", []byte(`<!DOCTYPE scpd><scpd/>`), upnp.ErrDTD},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := upnp.ParseSCPD(tt.in)
			if err == nil {
				t.Fatalf("ParseSCPD = %+v, want an error", s)
			}
			checkErr(t, err, tt.want)
		})
	}
}

func TestValidateSCPD(t *testing.T) {
	valid := func() *upnp.SCPD {
		return parseSCPD(t, "testdata/descriptions/miniupnpd-InternetGatewayDevice2/WANIPConnection-2.scpd.xml")
	}
	v := func(s *upnp.SCPD, name string) *upnp.StateVariable { return s.StateVariable(name) }
	tests := []struct {
		name   string
		break_ func(s *upnp.SCPD)
		want   string
	}{
		{"no spec version", func(s *upnp.SCPD) { s.SpecVersion.Major = 0 }, "specVersion"},
		{"no state variables", func(s *upnp.SCPD) { s.StateVariables = nil; s.Actions = nil }, "no state variables"},
		{"unnamed action", func(s *upnp.SCPD) { s.Actions[0].Name = "" }, "no name"},
		{"duplicate action", func(s *upnp.SCPD) { s.Actions[1].Name = s.Actions[0].Name }, "defined twice"},
		{"duplicate variable", func(s *upnp.SCPD) { s.StateVariables[1].Name = s.StateVariables[0].Name }, "defined twice"},
		{"duplicate in argument", func(s *upnp.SCPD) {
			a := s.Action("AddPortMapping")
			a.Arguments[1].Name = a.Arguments[0].Name
		}, "in argument"},
		{"bad direction", func(s *upnp.SCPD) { s.Actions[0].Arguments[0].Direction = "inout" }, "direction"},
		{"in after out", func(s *upnp.SCPD) {
			a := s.Action("GetConnectionTypeInfo")
			a.Arguments = append(a.Arguments, upnp.Argument{Name: "Late", Direction: "in", RelatedStateVariable: "ConnectionType"})
		}, "after an out"},
		{"retval not first", func(s *upnp.SCPD) { s.Action("GetConnectionTypeInfo").Arguments[1].RetVal = true }, "retval"},
		{"retval on in", func(s *upnp.SCPD) { s.Actions[0].Arguments[0].RetVal = true }, "retval"},
		{"missing related variable", func(s *upnp.SCPD) { s.Actions[0].Arguments[0].RelatedStateVariable = "Nope" }, `"Nope"`},
		{"unknown type", func(s *upnp.SCPD) { v(s, "Uptime").DataType = "int32" }, "unknown data type"},
		{"list on number", func(s *upnp.SCPD) { v(s, "Uptime").AllowedValues = []string{"1"} }, "allowedValueList on"},
		{"empty list", func(s *upnp.SCPD) { v(s, "PortMappingProtocol").AllowedValues = []string{} }, "empty allowedValueList"},
		{"range on string", func(s *upnp.SCPD) {
			v(s, "RemoteHost").Range = &upnp.AllowedRange{Minimum: "1", Maximum: "2"}
		}, "allowedValueRange on"},
		{"bad minimum", func(s *upnp.SCPD) { v(s, "InternalPort").Range.Minimum = "x" }, "minimum"},
		{"minimum above maximum", func(s *upnp.SCPD) { v(s, "InternalPort").Range.Minimum = "70000" }, "minimum"},
		{"zero step", func(s *upnp.SCPD) { v(s, "InternalPort").Range.Step = "0" }, "step"},
		{"bad default", func(s *upnp.SCPD) { v(s, "PortMappingLeaseDuration").Default = "forever" }, "defaultValue"},
		{"default outside range", func(s *upnp.SCPD) { v(s, "PortMappingLeaseDuration").Default = "604801" }, "defaultValue"},
		{"default not allowed", func(s *upnp.SCPD) { v(s, "PortMappingProtocol").Default = "SCTP" }, "defaultValue"},
		{"configId", func(s *upnp.SCPD) { s.ConfigID = 1 << 30 }, "configId"},
	}
	if err := valid().Validate(); err != nil {
		t.Fatalf("Validate(valid) = %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := valid()
			tt.break_(s)
			err := s.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want an error mentioning %q", err, tt.want)
			}
			if _, merr := s.Marshal(); merr == nil {
				t.Error("Marshal wrote an invalid SCPD")
			}
		})
	}
}

func TestStateVariableCheck(t *testing.T) {
	proto := &upnp.StateVariable{Name: "Protocol", DataType: upnp.TypeString, AllowedValues: []string{"TCP", "UDP"}}
	port := &upnp.StateVariable{Name: "Port", DataType: upnp.TypeUI2, Range: &upnp.AllowedRange{Minimum: "1", Maximum: "65535"}}
	vol := &upnp.StateVariable{Name: "Volume", DataType: upnp.TypeUI2, Range: &upnp.AllowedRange{Minimum: "0", Maximum: "100", Step: "5"}}
	offset := &upnp.StateVariable{Name: "Offset", DataType: upnp.TypeI8, Range: &upnp.AllowedRange{Minimum: "-9223372036854775808", Maximum: "9223372036854775807", Step: "3"}}
	gain := &upnp.StateVariable{Name: "Gain", DataType: upnp.TypeR8, Range: &upnp.AllowedRange{Minimum: "-1.5", Maximum: "1.5", Step: "0.1"}}
	big := &upnp.StateVariable{Name: "Big", DataType: upnp.TypeUI8, Range: &upnp.AllowedRange{Minimum: "18446744073709551610", Maximum: "18446744073709551615"}}
	sloppy := &upnp.StateVariable{Name: "Sloppy", DataType: upnp.TypeUI4, Range: &upnp.AllowedRange{Minimum: "x", Maximum: "10", Step: "y"}}
	flags := &upnp.StateVariable{Name: "Flag", DataType: upnp.TypeBoolean, AllowedValues: []string{"1"}}
	free := &upnp.StateVariable{Name: "Free", DataType: upnp.TypeString}
	tests := []struct {
		v   *upnp.StateVariable
		in  any
		res int
	}{
		{proto, "TCP", ok},
		{proto, "UDP", ok},
		{proto, "tcp", invalid},
		{proto, " TCP", invalid},
		{proto, "SCTP", invalid},
		{port, 1, ok},
		{port, uint16(65535), ok},
		{port, 0, outOfRange},
		{port, 65536, outOfRange}, // the type's range
		{port, "80", ok},
		{port, "0", outOfRange},
		{port, "http", invalid},
		{vol, 0, ok},
		{vol, 45, ok},
		{vol, 100, ok},
		{vol, 47, outOfRange},
		{vol, 105, outOfRange},
		{offset, int64(-9223372036854775808), ok},
		{offset, int64(-9223372036854775805), ok},
		{offset, int64(-9223372036854775806), outOfRange},
		{offset, int64(9223372036854775807), ok}, // 2^64-1 steps of... (max-min) = 2^64-1 = 3*6148914691236517205
		{gain, 0.3, ok},
		{gain, -1.5, ok},
		{gain, 1.5, ok},
		{gain, 0.35, outOfRange},
		{gain, 1.6, outOfRange},
		{gain, "1e-6", outOfRange}, // not on a step
		{gain, "1e-12", ok},        // within float error of a step
		{big, uint64(18446744073709551615), ok},
		{big, uint64(18446744073709551609), outOfRange},
		{sloppy, 5, ok}, // a bad bound is ignored
		{sloppy, 11, outOfRange},
		{flags, true, ok},
		{flags, "yes", ok},
		{flags, false, invalid},
		{free, "anything", ok},
	}
	for _, tt := range tests {
		t.Run(tt.v.Name, func(t *testing.T) {
			err := tt.v.Check(tt.in)
			if res := outcome(t, err); res != tt.res {
				t.Fatalf("Check(%#v) = %v, want %s", tt.in, err, outcomeName[tt.res])
			}
			enc, err := tt.v.Encode(tt.in)
			if res := outcome(t, err); res != tt.res {
				t.Fatalf("Encode(%#v) = %q, %v, want %s", tt.in, enc, err, outcomeName[tt.res])
			}
			if s, isString := tt.in.(string); isString {
				_, err := tt.v.Decode(s)
				if res := outcome(t, err); res != tt.res {
					t.Fatalf("Decode(%q) = %v, want %s", s, err, outcomeName[tt.res])
				}
			}
		})
	}
	var ve *upnp.ValueError
	err := vol.Check(47)
	if !errors.As(err, &ve) || ve.Type != upnp.TypeUI2 || ve.Value != "47" || !strings.Contains(err.Error(), "Volume") {
		t.Errorf("Check(47) = %#v", err)
	}
}

func TestSCPDLookupPointers(t *testing.T) {
	s := parseSCPD(t, "testdata/descriptions/minidlna-MediaServer1/ContentDirectory-1.scpd.xml")
	a := s.Action("Browse")
	if a == nil {
		t.Fatal("no Browse")
	}
	ins := slices.Collect(a.In())
	outs := slices.Collect(a.Out())
	if len(ins) != 6 || len(outs) != 4 || ins[0].Name != "ObjectID" || outs[0].Name != "Result" {
		t.Errorf("Browse: %d in, %d out", len(ins), len(outs))
	}
	v := s.StateVariable(ins[0].RelatedStateVariable)
	if v == nil || v.DataType != upnp.TypeString {
		t.Errorf("ObjectID variable = %+v", v)
	}
}
