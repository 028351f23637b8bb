module github.com/seedb72249f9/upnp

go 1.26.8

require (
	github.com/beevik/etree v1.8.1
	github.com/google/go-cmp v0.7.0
	github.com/huin/goupnp v1.3.1
	github.com/spf13/pflag v1.0.10
	golang.org/x/net v0.62.0
	golang.org/x/sys v0.49.0
)

require golang.org/x/sync v0.0.0-20210220032951-036812b2e83c // indirect
