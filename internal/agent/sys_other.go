//go:build !linux

package agent

import "errors"

func kernelRelease() string { return "" }

var errNotLinux = errors.New("only on Linux")

func setNice(int) error       { return errNotLinux }
func setIOClass(string) error { return errNotLinux }
