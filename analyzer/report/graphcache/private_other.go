//go:build !unix

package graphcache

// Elsewhere (Windows) the temporary directory is the user's own.
const supported = false

func private(string) bool { return false }

func heldSafe(string) bool { return false }
