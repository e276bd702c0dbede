package main

import (
	"errors"
	"strings"
	"testing"
)

// TestIncompletenessReasons: the one place that says why an analysis is
// incomplete past its captures gives each command its words, in a fixed
// order (services, ssl.log/http.log names, dns.log answers), and nothing
// when nothing was left out.
func TestIncompletenessReasons(t *testing.T) {
	if r := (incompleteness{maxServices: 3, nameMax: 9}).reasons(); len(r) != 0 {
		t.Errorf("nothing left out: %d reasons", len(r))
	}
	if err := (incompleteness{}).err(); err != nil {
		t.Errorf("nothing left out: %v", err)
	}
	in := incompleteness{unaggregated: 5, maxServices: 3, nameOverflow: 2, dnsOverflow: 4, nameMax: 1}
	want := []incompleteReason{
		{err: errors.New("5 connections were not analysed: more than --max-services=3 services (a scan?): the analysis is incomplete; raise --max-services to analyse them"),
			request: "INCOMPLETE analysis: 5 connections were not analysed (more than --max-services=3 services: a scan?): a rule listed as missing may have been used by them, and rules they needed are not in this request",
			brief:   "5 connections were not analysed: more than --max-services=3 services (a scan?)"},
		{err: errors.New("2 host names of the ssl.log and http.log were not kept: more than 1 uids: their connections are unnamed and a host-name rule may have left their service undocumented: the analysis is incomplete"),
			request: "INCOMPLETE analysis: 2 host names of the ssl.log and http.log were not kept: more than 1 uids: their connections are unnamed and a host-name rule may have left their service undocumented: the analysis is incomplete",
			brief:   "2 host names of the ssl.log and http.log were not kept (their connections are unnamed)"},
		{err: errors.New("4 DNS answers of the dns.log were not kept: more than 1 answers: the addresses they named may be unnamed and a host-name rule may have left their service undocumented: the analysis is incomplete"),
			request: "INCOMPLETE analysis: 4 DNS answers of the dns.log were not kept: more than 1 answers: the addresses they named may be unnamed and a host-name rule may have left their service undocumented: the analysis is incomplete",
			brief:   "4 DNS answers of the dns.log were not kept (the addresses they named may be unnamed)"},
	}
	got := in.reasons()
	if len(got) != len(want) {
		t.Fatalf("%d reasons, want %d", len(got), len(want))
	}
	var errs []string
	for i := range want {
		if got[i].err.Error() != want[i].err.Error() || got[i].request != want[i].request || got[i].brief != want[i].brief {
			t.Errorf("reason %d:\n got %v | %s | %s\nwant %v | %s | %s", i, got[i].err, got[i].request, got[i].brief, want[i].err, want[i].request, want[i].brief)
		}
		errs = append(errs, want[i].err.Error())
	}
	if err := in.err(); err == nil || err.Error() != strings.Join(errs, "\n") {
		t.Errorf("err %v", err)
	}
}

// TestRolesNameOverflow: unlike analyze, rules and diff, roles does not
// exit 1 when host names of the ssl.log and http.log were not kept: its
// inference uses none, so its proposals are the same as within the bound.
func TestRolesNameOverflow(t *testing.T) {
	t.Chdir(sampleRoot)
	conn, _, _ := writeZeekLogs(t, "testdata/names/cloud-connector.pcapng", t.TempDir(), true)
	code, out, errs := analyzeCmd(t, "roles", "--product", "citrix", conn)
	if code != exitOK || out == "" {
		t.Fatalf("within the bound: exit %d: %s", code, errs)
	}
	maxNames = 1
	t.Cleanup(func() { maxNames = 0 })
	// Inference uses no host names: names not kept change nothing it
	// says, so the proposals are whole and the exit code is 0.
	code, out2, errs := analyzeCmd(t, "roles", "--product", "citrix", conn)
	if code != exitOK || out2 != out {
		t.Errorf("exit %d, want %d with the same proposals: %s", code, exitOK, errs)
	}
}
