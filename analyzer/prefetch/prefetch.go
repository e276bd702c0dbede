// Package prefetch asks the CPU to bring memory into its caches ahead of
// use, without waiting for it and without faulting: the capture reader
// for the bytes of its next buffer, the flow tracker for the table slots
// and entries of a finishing connection's service (amd64 only; elsewhere
// the calls do nothing).
package prefetch

// LineSize is the unit Lines works in: it asks for every LineSize bytes.
const LineSize = 64
