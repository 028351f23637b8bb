package upnp

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/beevik/etree"
)

// Helpers shared by the description and SCPD readers and writers.

// A vocabulary maps element and attribute names, exactly or lower-cased, to
// their UDA spelling, so that readers tolerate case differences.
type vocabulary map[string]string

func newVocabulary(names ...string) vocabulary {
	v := make(vocabulary, 2*len(names))
	for _, n := range names {
		v[n] = n
		v[strings.ToLower(n)] = n
	}
	return v
}

// name returns the UDA spelling of an element's local name (its namespace
// prefix is ignored), or "" if it is not in v.
func (v vocabulary) name(e *etree.Element) string {
	if n, ok := v[e.Tag]; ok {
		return n
	}
	return v[strings.ToLower(e.Tag)]
}

// text returns the character data directly inside e, trimmed of XML white
// space.
func text(e *etree.Element) string {
	var s string
	n := 0
	for _, c := range e.Child {
		if cd, ok := c.(*etree.CharData); ok {
			if n == 0 {
				s = cd.Data
			} else {
				s += cd.Data
			}
			n++
		}
	}
	return trimXML(s)
}

// atoi reads a lenient integer: white space is ignored, garbage is def.
func atoi(s string, def int) int {
	n, err := strconv.Atoi(trimXML(s))
	if err != nil {
		return def
	}
	return n
}

// attr returns the value of e's attribute named name in any case and with any
// prefix.
func attr(e *etree.Element, name string) (string, bool) {
	for _, a := range e.Attr {
		if strings.EqualFold(a.Key, name) && a.Space != "xmlns" {
			return a.Value, true
		}
	}
	return "", false
}

// readConfigID reads a configId attribute: -1 when absent or negative.
func readConfigID(e *etree.Element) int {
	s, ok := attr(e, "configId")
	if !ok {
		return -1
	}
	if n := atoi(s, -1); n >= 0 {
		return n
	}
	return -1
}

func readSpecVersion(e *etree.Element) SpecVersion {
	var v SpecVersion
	for _, c := range e.ChildElements() {
		switch strings.ToLower(c.Tag) {
		case "major":
			v.Major = atoi(text(c), 0)
		case "minor":
			v.Minor = atoi(text(c), 0)
		}
	}
	return v
}

// maxConfigID is the largest configId (UDA 1.1: 2^24-1).
const maxConfigID = 1<<24 - 1

func checkHeader(what string, configID int, v SpecVersion) error {
	var errs []error
	if configID > maxConfigID {
		errs = append(errs, fmt.Errorf("upnp: %s: configId %d above %d", what, configID, maxConfigID))
	}
	if v.Major < 1 || v.Minor < 0 {
		errs = append(errs, fmt.Errorf("upnp: %s: bad specVersion %d.%d", what, v.Major, v.Minor))
	}
	return errors.Join(errs...)
}

// A writer builds an XML document, keeping the first error: a value that XML
// cannot carry.
type writer struct {
	doc *etree.Document
	err error
}

func newWriter(root, xmlns string, configID int, v SpecVersion) (*writer, *etree.Element) {
	doc := etree.NewDocument()
	doc.WriteSettings.CanonicalText = true
	doc.WriteSettings.CanonicalAttrVal = true
	doc.WriteSettings.CanonicalEndTags = true // <x></x>, not <x/>, for naive readers
	doc.CreateProcInst("xml", `version="1.0" encoding="utf-8"`)
	r := doc.CreateElement(root)
	r.CreateAttr("xmlns", xmlns)
	if configID >= 0 {
		r.CreateAttr("configId", strconv.Itoa(configID))
	}
	w := &writer{doc: doc}
	sv := r.CreateElement("specVersion")
	w.int(sv, "major", v.Major)
	w.int(sv, "minor", v.Minor)
	return w, r
}

// elem appends <name>value</name> to parent.
func (w *writer) elem(parent *etree.Element, name, value string) *etree.Element {
	if !validXMLText(value) && w.err == nil {
		w.err = fmt.Errorf("upnp: <%s> value %q cannot be written in XML", name, value)
	}
	e := parent.CreateElement(name)
	if value != "" {
		e.SetText(value)
	}
	return e
}

// opt appends <name>value</name> to parent unless value is empty.
func (w *writer) opt(parent *etree.Element, name, value string) {
	if value != "" {
		w.elem(parent, name, value)
	}
}

func (w *writer) int(parent *etree.Element, name string, n int) {
	w.elem(parent, name, strconv.Itoa(n))
}

func (w *writer) bytes() ([]byte, error) {
	if w.err != nil {
		return nil, w.err
	}
	w.doc.Indent(2)
	return w.doc.WriteToBytes()
}
