package av_test

import (
	"context"
	"log"
	"time"

	"github.com/seedb72249f9/upnp/av"
	"github.com/seedb72249f9/upnp/ssdp"
)

// Play a song on the first renderer that answers, at volume 30.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const song = "http://192.168.1.10:8000/song.mp3" // served by you, reachable by the renderer
	for r, err := range av.Discover(ctx, nil, ssdp.SearchRequest{}) {
		if err != nil {
			continue // a device that could not be described
		}
		if err := r.Load(ctx, song, av.Metadata("Song", song, "audio/mpeg", "")); err != nil {
			log.Fatal(err)
		}
		if err := r.SetVolume(ctx, 30); err != nil {
			log.Print(err) // av.ErrNoRenderingControl, or the renderer's *upnp.Error
		}
		if err := r.Play(ctx); err != nil {
			log.Fatal(err)
		}
		return
	}
}
