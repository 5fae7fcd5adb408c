# This is a subpolicy to disable weak macs
mac = -*-64
