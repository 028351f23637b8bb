package device

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/seedb72249f9/upnp/internal/gena"
)

// Namespaces of the LastChange Event element, for LastChange.Namespace.
const (
	LastChangeAVT = gena.NamespaceAVT // AVTransport
	LastChangeRCS = gena.NamespaceRCS // RenderingControl
)

// DefaultLastChangeInterval is how long a LastChange gathers changes by
// default before setting its variable.
const DefaultLastChangeInterval = 200 * time.Millisecond

// LastChange aggregates the changes of the instances of a service into its
// LastChange state variable, as AVTransport and RenderingControl do: the
// changes reported by Change within Interval are set together, so
// subscribers get one event with all of them. Set the fields before the
// first Change and do not change them afterwards; the methods are safe for
// concurrent use. The zero value needs only Service.
type LastChange struct {
	// Service holds the state variable. Required.
	Service *Service
	// Var is the name of the state variable; zero means "LastChange".
	Var string
	// Namespace is the namespace of the Event element, such as
	// LastChangeAVT or LastChangeRCS; zero writes no xmlns attribute.
	Namespace string
	// Interval is how long changes are gathered, from the first one, before
	// they are set; zero means DefaultLastChangeInterval.
	Interval time.Duration

	mu      sync.Mutex
	pending []gena.InstanceChange // in the order instances were first changed
	timer   *time.Timer
}

// Change reports that the variable name of instance instanceID took value
// (on channel, for RenderingControl; "" for none). A later change of the same
// name and channel of the instance replaces an earlier one not yet set. It
// fails, changing nothing, when name is not an XML name without a colon or
// name, value or channel holds a character XML cannot carry.
func (l *LastChange) Change(instanceID uint32, name, value, channel string) error {
	id := strconv.FormatUint(uint64(instanceID), 10)
	vc := gena.VarChange{Name: name, Value: value, Channel: channel}
	if _, err := gena.AppendLastChange(nil, "", []gena.InstanceChange{{InstanceID: id, Vars: []gena.VarChange{vc}}}); err != nil {
		return fmt.Errorf("device: LastChange: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	i := 0
	for i < len(l.pending) && l.pending[i].InstanceID != id {
		i++
	}
	if i == len(l.pending) {
		l.pending = append(l.pending, gena.InstanceChange{InstanceID: id})
	}
	ic := &l.pending[i]
	j := 0
	for j < len(ic.Vars) && (ic.Vars[j].Name != name || ic.Vars[j].Channel != channel) {
		j++
	}
	if j == len(ic.Vars) {
		ic.Vars = append(ic.Vars, vc)
	} else {
		ic.Vars[j] = vc
	}
	if l.timer == nil {
		d := l.Interval
		if d <= 0 {
			d = DefaultLastChangeInterval
		}
		l.timer = time.AfterFunc(d, func() { l.Flush() })
	}
	return nil
}

// Flush sets the state variable to the changes gathered so far at once,
// without waiting for the end of the interval. It does nothing when there
// are none.
func (l *LastChange) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	if len(l.pending) == 0 {
		return nil
	}
	value, err := gena.AppendLastChange(nil, l.Namespace, l.pending)
	l.pending = nil
	if err != nil {
		return fmt.Errorf("device: LastChange: %w", err)
	}
	name := l.Var
	if name == "" {
		name = "LastChange"
	}
	// Set under l.mu keeps the values set in the order they were gathered.
	return l.Service.Set(name, string(value))
}
