package device

import (
	"fmt"

	"github.com/seedb72249f9/upnp"
)

// Simulate builds a Device tree that mirrors a parsed description: the same
// types, names, UDNs and serviceIds, each service with the SCPD that scpd
// returns for it and StateHandler for every action, so that the simulator
// answers from state-variable defaults and from values set by earlier actions.
// Control-point authors use it to test against a device they do not have
// ("upnp serve mock"). Icons are not copied.
func Simulate(root *upnp.Root, scpd func(*upnp.Service) (*upnp.SCPD, error)) (*Device, error) {
	var conv func(d *upnp.Device) (*Device, error)
	conv = func(d *upnp.Device) (*Device, error) {
		out := &Device{
			Type: d.DeviceType, FriendlyName: d.FriendlyName, Manufacturer: d.Manufacturer,
			ManufacturerURL: d.ManufacturerURL, ModelDescription: d.ModelDescription, ModelName: d.ModelName,
			ModelNumber: d.ModelNumber, ModelURL: d.ModelURL, SerialNumber: d.SerialNumber, UPC: d.UPC, UDN: d.UDN,
		}
		for i := range d.Services {
			us := &d.Services[i]
			sc, err := scpd(us)
			if err != nil {
				return nil, fmt.Errorf("device: SCPD of %s: %w", us.ServiceType, err)
			}
			svc := &Service{Type: us.ServiceType, ID: us.ServiceID, SCPD: sc, Handlers: map[string]Handler{}}
			for _, a := range sc.Actions {
				svc.Handlers[a.Name] = StateHandler
			}
			out.Services = append(out.Services, svc)
		}
		for i := range d.Devices {
			e, err := conv(&d.Devices[i])
			if err != nil {
				return nil, err
			}
			out.Devices = append(out.Devices, e)
		}
		return out, nil
	}
	return conv(&root.Device)
}
