// Package binarylight is the standard UPnP example device, BinaryLight:1, with
// its SwitchPower:1 and Dimming:1 services, written with package device. It is
// a complete device in a screenful of code: read it as documentation. The
// upnp command serves it with "upnp serve light".
package binarylight

import (
	"context"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/device"
)

// SwitchPower:1 (UPnP Lighting Controls V1.0): a target and a status.
const switchPowerSCPD = `<?xml version="1.0"?>
<scpd xmlns="urn:schemas-upnp-org:service-1-0">
 <specVersion><major>1</major><minor>0</minor></specVersion>
 <actionList>
  <action><name>SetTarget</name><argumentList>
   <argument><name>newTargetValue</name><direction>in</direction><relatedStateVariable>Target</relatedStateVariable></argument>
  </argumentList></action>
  <action><name>GetTarget</name><argumentList>
   <argument><name>RetTargetValue</name><direction>out</direction><retval/><relatedStateVariable>Target</relatedStateVariable></argument>
  </argumentList></action>
  <action><name>GetStatus</name><argumentList>
   <argument><name>ResultStatus</name><direction>out</direction><retval/><relatedStateVariable>Status</relatedStateVariable></argument>
  </argumentList></action>
 </actionList>
 <serviceStateTable>
  <stateVariable sendEvents="no"><name>Target</name><dataType>boolean</dataType><defaultValue>0</defaultValue></stateVariable>
  <stateVariable sendEvents="yes"><name>Status</name><dataType>boolean</dataType><defaultValue>0</defaultValue></stateVariable>
 </serviceStateTable>
</scpd>`

// Dimming:1, its required actions and the step ones.
const dimmingSCPD = `<?xml version="1.0"?>
<scpd xmlns="urn:schemas-upnp-org:service-1-0">
 <specVersion><major>1</major><minor>0</minor></specVersion>
 <actionList>
  <action><name>SetLoadLevelTarget</name><argumentList>
   <argument><name>newLoadlevelTarget</name><direction>in</direction><relatedStateVariable>LoadLevelTarget</relatedStateVariable></argument>
  </argumentList></action>
  <action><name>GetLoadLevelTarget</name><argumentList>
   <argument><name>GetLoadlevelTarget</name><direction>out</direction><retval/><relatedStateVariable>LoadLevelTarget</relatedStateVariable></argument>
  </argumentList></action>
  <action><name>GetLoadLevelStatus</name><argumentList>
   <argument><name>retLoadlevelStatus</name><direction>out</direction><retval/><relatedStateVariable>LoadLevelStatus</relatedStateVariable></argument>
  </argumentList></action>
  <action><name>SetStepDelta</name><argumentList>
   <argument><name>newStepDelta</name><direction>in</direction><relatedStateVariable>StepDelta</relatedStateVariable></argument>
  </argumentList></action>
  <action><name>GetStepDelta</name><argumentList>
   <argument><name>OldStepDelta</name><direction>out</direction><retval/><relatedStateVariable>StepDelta</relatedStateVariable></argument>
  </argumentList></action>
  <action><name>StepUp</name></action>
  <action><name>StepDown</name></action>
 </actionList>
 <serviceStateTable>
  <stateVariable sendEvents="no"><name>LoadLevelTarget</name><dataType>ui1</dataType><defaultValue>0</defaultValue>
   <allowedValueRange><minimum>0</minimum><maximum>100</maximum></allowedValueRange></stateVariable>
  <stateVariable sendEvents="yes"><name>LoadLevelStatus</name><dataType>ui1</dataType><defaultValue>0</defaultValue>
   <allowedValueRange><minimum>0</minimum><maximum>100</maximum></allowedValueRange></stateVariable>
  <stateVariable sendEvents="yes"><name>StepDelta</name><dataType>ui1</dataType><defaultValue>10</defaultValue>
   <allowedValueRange><minimum>1</minimum><maximum>100</maximum></allowedValueRange></stateVariable>
 </serviceStateTable>
</scpd>`

// New returns a BinaryLight named name with the given UDN ("" for a random
// one). The light turns on and off with SwitchPower's SetTarget, and its
// level follows Dimming's SetLoadLevelTarget, StepUp and StepDown.
func New(name, udn string) *device.Device {
	power := &device.Service{
		Type: "urn:schemas-upnp-org:service:SwitchPower:1",
		ID:   "urn:upnp-org:serviceId:SwitchPower",
		SCPD: mustSCPD(switchPowerSCPD),
	}
	power.Handlers = map[string]device.Handler{
		"SetTarget": func(ctx context.Context, r *device.Request) (map[string]any, error) {
			on := r.Args["newTargetValue"].(bool)
			// A real light would switch here; ours changes state at once.
			return nil, r.Service.Set("Target", on, "Status", on)
		},
		"GetTarget": device.StateHandler,
		"GetStatus": device.StateHandler,
	}

	dimming := &device.Service{
		Type: "urn:schemas-upnp-org:service:Dimming:1",
		ID:   "urn:upnp-org:serviceId:Dimming",
		SCPD: mustSCPD(dimmingSCPD),
	}
	setLevel := func(s *device.Service, level int) error {
		return s.Set("LoadLevelTarget", max(0, min(100, level)), "LoadLevelStatus", max(0, min(100, level)))
	}
	level := func(s *device.Service, name string) int {
		v, _ := s.Get(name)
		n, _ := v.(uint8)
		return int(n)
	}
	dimming.Handlers = map[string]device.Handler{
		"SetLoadLevelTarget": func(ctx context.Context, r *device.Request) (map[string]any, error) {
			return nil, setLevel(r.Service, int(r.Args["newLoadlevelTarget"].(uint8)))
		},
		"GetLoadLevelTarget": device.StateHandler,
		"GetLoadLevelStatus": device.StateHandler,
		"SetStepDelta":       device.StateHandler,
		"GetStepDelta":       device.StateHandler,
		"StepUp": func(ctx context.Context, r *device.Request) (map[string]any, error) {
			return nil, setLevel(r.Service, level(r.Service, "LoadLevelTarget")+level(r.Service, "StepDelta"))
		},
		"StepDown": func(ctx context.Context, r *device.Request) (map[string]any, error) {
			return nil, setLevel(r.Service, level(r.Service, "LoadLevelTarget")-level(r.Service, "StepDelta"))
		},
	}

	return &device.Device{
		Type:             "urn:schemas-upnp-org:device:BinaryLight:1",
		FriendlyName:     name,
		Manufacturer:     "upnp-go",
		ManufacturerURL:  "https://github.com/seedb72249f9/upnp",
		ModelDescription: "The UPnP example light, in Go",
		ModelName:        "BinaryLight",
		ModelNumber:      "1",
		UDN:              udn,
		Services:         []*device.Service{power, dimming},
	}
}

func mustSCPD(s string) *upnp.SCPD {
	scpd, err := upnp.ParseSCPD([]byte(s))
	if err != nil {
		panic("binarylight: bad built-in SCPD: " + err.Error())
	}
	return scpd
}
