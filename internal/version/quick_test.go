package version

import "testing"

func TestQuick(t *testing.T) {
	for _, c := range []struct{ eco, a, b string; want int }{
		{"Debian:12", "3.0.19-1~deb12u2", "3.0.19-1", -1},
		{"Go", "v1.22.1", "1.22.2", -1},
		{"Amazon Linux:2023", "1:2.0-1.amzn2023", "2.0-1.amzn2023", 1},
		{"PyPI", "2.0.0rc1", "2.0.0", -1},
	} {
		got, err := Compare(c.eco, c.a, c.b)
		if err != nil || got != c.want {
			t.Errorf("%s %s vs %s = %d, %v", c.eco, c.a, c.b, got, err)
		}
	}
}
