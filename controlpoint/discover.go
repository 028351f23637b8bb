package controlpoint

import (
	"context"
	"errors"
	"iter"
	"net/url"
	"strings"

	"github.com/seedb72249f9/upnp/ssdp"
)

// maxLocations caps the distinct LOCATIONs one discovery describes: the
// answers to a search are attacker-controlled, and each costs a fetch.
const maxLocations = 4096

// Discover searches with req (multicast on the Client's interfaces, or
// unicast when req.To is set) and yields each root device as soon as its
// description and SCPDs are in, while the search goes on. Answers are
// de-duplicated by LOCATION, so a device answering for its embedded devices
// and services is described once; descriptions are fetched concurrently
// within MaxFetches, each retried once after a transport error.
//
// A device that cannot be described is yielded as a *DescribeError, and the
// sequence goes on. The sequence ends when the search window has closed and
// every description under way is in, or when ctx is done; a search that
// cannot start (no usable interface, socket error) is yielded as the only
// element. Breaking out of the loop cancels the fetches under way.
func (c *Client) Discover(ctx context.Context, req ssdp.SearchRequest) iter.Seq2[*Device, error] {
	return func(yield func(*Device, error) bool) {
		c.init()
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		type result struct {
			d   *Device
			err error
		}
		results := make(chan result)
		searchErr := make(chan error, 1)
		pending := 0
		sc := &ssdp.Client{Interfaces: c.Interfaces, Network: c.Network, Logger: c.Logger}
		packets := make(chan *ssdp.Packet)
		go func() {
			defer close(packets)
			for p, err := range sc.Search(ctx, req) {
				if err != nil {
					searchErr <- err
					return
				}
				select {
				case packets <- p:
				case <-ctx.Done():
					return
				}
			}
		}()
		seen := map[string]bool{}
		for packets != nil || pending > 0 {
			select {
			case p, ok := <-packets:
				if !ok {
					packets = nil
					continue
				}
				key := strings.TrimSpace(p.Location)
				if key == "" || seen[key] || len(seen) >= maxLocations {
					continue
				}
				seen[key] = true
				pending++
				go func() {
					d, err := c.describePacket(ctx, p)
					select {
					case results <- result{d, err}:
					case <-ctx.Done():
					}
				}()
			case r := <-results:
				pending--
				if r.err != nil {
					c.logger().Debug("controlpoint: describe", "err", r.err)
				}
				if !yield(r.d, r.err) {
					return
				}
			case err := <-searchErr:
				if !yield(nil, err) {
					return
				}
			case <-ctx.Done():
				return
			}
		}
		select {
		case err := <-searchErr:
			yield(nil, err)
		default:
		}
	}
}

// describePacket describes the device an SSDP message announced.
func (c *Client) describePacket(ctx context.Context, p *ssdp.Packet) (*Device, error) {
	// Copies, so that a Device kept for long does not keep the whole parsed
	// datagram (see ssdp.Parse).
	d := &Device{Location: strings.Clone(strings.TrimSpace(p.Location)), USN: strings.Clone(p.USN),
		Server: strings.Clone(p.Server), BootID: p.BootID,
		ConfigID: p.ConfigID, Addr: p.From.Addr().Unmap(), Interface: p.Interface, Local: p.Local, Found: p.Time}
	if d.Local.Zone() != "" {
		d.Local = d.Local.WithZone("")
	}
	derr := func(err error) error {
		return &DescribeError{Location: d.Location, From: p.From.String(), Err: err}
	}
	u, err := url.Parse(d.Location)
	if err != nil {
		return nil, derr(err)
	}
	if _, err := c.describe(ctx, u, d); err != nil {
		return nil, derr(err)
	}
	return d, nil
}

// DiscoverAll runs Discover to its end and returns the devices described.
// The error joins the search's failure, if any, with every
// *DescribeError; the devices returned are good even when it is not nil.
func (c *Client) DiscoverAll(ctx context.Context, req ssdp.SearchRequest) ([]*Device, error) {
	var out []*Device
	var errs []error
	for d, err := range c.Discover(ctx, req) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, d)
	}
	return out, errors.Join(errs...)
}
