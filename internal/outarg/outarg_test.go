package outarg

import "testing"

func TestText(t *testing.T) {
	for _, tt := range []struct {
		in   any
		want string
	}{
		{nil, ""}, {" a b ", "a b"}, {true, "1"}, {false, "0"}, {uint16(8080), "8080"}, {int32(-1), "-1"}, {1.5, "1.5"},
	} {
		if got := Text(tt.in); got != tt.want {
			t.Errorf("Text(%#v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
