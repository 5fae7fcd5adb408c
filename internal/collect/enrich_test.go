package collect

import (
	"testing"

	"github.com/kensa-dev/kensa/internal/host"
)

func TestOSPURL(t *testing.T) {
	deb := &host.OSRelease{ID: "debian", Release: "12", Major: "12"}
	alma := &host.OSRelease{ID: "almalinux", Release: "8.8", Major: "8"}
	alpine := &host.OSRelease{ID: "alpine", Release: "3.18", Major: "3.18"}
	for _, c := range []struct {
		os   *host.OSRelease
		p    host.Package
		want string
	}{
		{deb, host.Package{Manager: "dpkg", Name: "libssl3", Version: "3.0.15-1~deb12u1", Arch: "amd64", SourceName: "openssl"},
			"pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=amd64&distro=debian-12&upstream=openssl"},
		{deb, host.Package{Manager: "dpkg", Name: "bash", Version: "5.2.15-2+b8", Arch: "amd64", SourceName: "bash"},
			"pkg:deb/debian/bash@5.2.15-2%2Bb8?arch=amd64&distro=debian-12"},
		{alma, host.Package{Manager: "rpm", Name: "libuuid", Version: "2.32.1-42.el8_8", Arch: "x86_64", SourceName: "util-linux", SourceVersion: "2.32.1-42.el8_8"},
			"pkg:rpm/almalinux/libuuid@2.32.1-42.el8_8?arch=x86_64&distro=almalinux-8.8&sourcerpm=util-linux-2.32.1-42.el8_8.src.rpm"},
		{alpine, host.Package{Manager: "apk", Name: "musl", Version: "1.2.4-r0", Arch: "x86_64", SourceName: "musl"},
			"pkg:apk/alpine/musl@1.2.4-r0?arch=x86_64&distro=alpine-3.18"},
		{nil, host.Package{Manager: "dpkg", Name: "x", Version: "1"}, ""},
	} {
		if got := osPURL(c.os, &c.p); got != c.want {
			t.Errorf("osPURL(%s) = %s\n want %s", c.p.Name, got, c.want)
		}
	}
}
