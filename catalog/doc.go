// Package catalog holds the vendors' documented flows: roles (which
// component is which, under every name the documents use) and rules (which
// role talks to which, over which protocol and port, and where the document
// says so).
//
// The built-in catalog is one YAML file per source document, embedded from
// data/. User catalog files use the same format and are checked the same
// way: unknown fields, unknown roles, bad ports and duplicate ids are errors
// that name the file and line. The package imports nothing else of
// flowaudit's.
package catalog
