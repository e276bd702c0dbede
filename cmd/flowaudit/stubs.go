package main

import (
	"errors"

	"github.com/flowaudit/flowaudit/analyzer"
	"github.com/flowaudit/flowaudit/analyzer/inventory"
	"github.com/flowaudit/flowaudit/catalog"
)

// Placeholders replaced as each command lands.
func runRoles(e *env, args []string) int { return e.fail(errors.New("roles: not built yet")) }

// inferMissingHosts is written with the roles command (roles.go); until then
// --infer-roles adds nothing. Delete this stub when roles.go defines it.
func inferMissingHosts(res *analyzer.Result, inv *inventory.Inventory, cat *catalog.Catalog) {}
