package proxy

import "syscall"

// errTooManyFiles is the accept error that means "out of descriptors":
// transient, so Serve backs off instead of stopping.
var errTooManyFiles = syscall.EMFILE
