package outarg_test

import (
	"testing"

	"github.com/seedb72249f9/upnp/internal/netlab"
)

// TestMain fails the run if the tests leave a goroutine behind.
func TestMain(m *testing.M) { netlab.Main(m, nil) }
