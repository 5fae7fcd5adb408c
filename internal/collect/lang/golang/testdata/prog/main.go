// Command prog is built by the tests of package golang: a Go binary with a
// known dependency.
package main

import (
	"fmt"

	"github.com/google/go-cmp/cmp"
)

func main() { fmt.Println(cmp.Diff(1, 2)) }
