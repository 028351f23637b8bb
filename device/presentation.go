package device

import (
	"html/template"
	"net/http"
)

var page = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Root.FriendlyName}}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}h2{margin-top:1.5em}</style>
</head><body>
{{range .Devices}}<h1>{{.Dev.FriendlyName}}</h1>
<p>{{.Dev.Type}}<br>{{.Dev.Manufacturer}} {{.Dev.ModelName}} {{.Dev.ModelNumber}}<br><code>{{.Dev.UDN}}</code></p>
{{range .Services}}<h2>{{.ID}}</h2><p>{{.Type}} · <a href="{{.SCPD}}">SCPD</a> · actions: {{range .Actions}}{{.}} {{end}}</p>
<table><tr><th>state variable</th><th>type</th><th>value</th></tr>
{{range .Vars}}<tr><td>{{.Name}}</td><td>{{.Type}}</td><td>{{.Value}}</td></tr>
{{end}}</table>{{end}}{{end}}
</body></html>
`))

type pageVar struct{ Name, Type, Value string }

type pageService struct {
	ID, Type, SCPD string
	Actions        []string
	Vars           []pageVar
}

type pageDevice struct {
	Dev      *Device
	Services []pageService
}

// presentation serves a page a person can read: the devices, their services
// and the current values of the state variables (UDA section 5).
func (s *Server) presentation(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	data := struct {
		Root    *Device
		Devices []pageDevice
	}{Root: s.Device}
	for d := range s.Device.All() {
		pd := pageDevice{Dev: d}
		for _, svc := range d.Services {
			ps := pageService{ID: svc.id(), Type: svc.Type, SCPD: s.paths[svc] + "scpd.xml"}
			for _, a := range svc.SCPD.Actions {
				ps.Actions = append(ps.Actions, a.Name)
			}
			for _, v := range svc.SCPD.StateVariables {
				ps.Vars = append(ps.Vars, pageVar{v.Name, string(v.DataType), svc.Value(v.Name)})
			}
			pd.Services = append(pd.Services, ps)
		}
		data.Devices = append(data.Devices, pd)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := page.Execute(w, data); err != nil {
		s.logger().Debug("device: presentation page", "err", err)
	}
}
