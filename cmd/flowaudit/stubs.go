package main

import "errors"

// Placeholders replaced as each command lands.
func runFlows(e *env, args []string) int   { return e.fail(errors.New("flows: not built yet")) }
func runAnalyze(e *env, args []string) int { return e.fail(errors.New("analyze: not built yet")) }
func runRoles(e *env, args []string) int   { return e.fail(errors.New("roles: not built yet")) }
