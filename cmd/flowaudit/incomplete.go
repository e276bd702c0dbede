package main

import (
	"errors"
	"fmt"

	"github.com/flowaudit/flowaudit/analyzer"
	"github.com/flowaudit/flowaudit/analyzer/report"
)

// incompleteness is what leaves an analysis incomplete beyond its
// captures' own status (analyzer.Run makes a damaged or unreadable
// capture, and nothing analysed at all, errors of the read): connections
// past --max-services counted, not analysed (their services were never
// audited); host names of Zeek's ssl.log and http.log past the uid bound,
// and answers of its dns.log past the same bound, not kept (their
// connections are unnamed, so a host-name rule may have left a service
// undocumented). analyze, rules, roles and diff (of a saved report) say
// so and exit 1 whatever the findings, as for a damaged capture, after
// writing what they have.
type incompleteness struct {
	unaggregated uint64 // connections not analysed
	maxServices  int    // --max-services
	nameOverflow uint64 // ssl.log and http.log host names not kept
	dnsOverflow  uint64 // dns.log answers not kept
	nameMax      int    // the bound of both
}

// resultIncompleteness is the incompleteness of what analyzer.Run read
// (rules, roles), with --max-services.
func resultIncompleteness(res *analyzer.Result, maxServices int) incompleteness {
	in := incompleteness{unaggregated: res.Stats.Unaggregated, maxServices: maxServices}
	if zn := res.ZeekNames; zn != nil {
		in.nameOverflow, in.dnsOverflow, in.nameMax = zn.Overflow, zn.DNSOverflow, zn.Max
	}
	return in
}

// limitsIncompleteness is the incompleteness of a report's limits (analyze).
func limitsIncompleteness(l report.Limits) incompleteness {
	return incompleteness{unaggregated: l.UnaggregatedConnections, maxServices: l.MaxServices,
		nameOverflow: l.NameLogOverflow, dnsOverflow: l.DNSLogOverflow, nameMax: l.NameLogMax}
}

// documentIncompleteness is the incompleteness of a saved JSON report's
// limits (diff); the JSON keeps no bound of the name logs.
func documentIncompleteness(doc *report.Document) incompleteness {
	l := doc.Limits
	return incompleteness{unaggregated: l.UnaggregatedConnections, maxServices: l.MaxServices,
		nameOverflow: l.NameLogOverflow, dnsOverflow: l.DNSLogOverflow}
}

// incompleteReason is one reason, as each command words it.
type incompleteReason struct {
	err     error  // what the command exits 1 with (stderr)
	request string // what rules' change request says of it (a warning)
	brief   string // what diff says of a saved report with it
}

// reasons are why the analysis is incomplete, in a fixed order; none when
// it is not.
func (in incompleteness) reasons() []incompleteReason {
	var out []incompleteReason
	if n := in.unaggregated; n > 0 {
		out = append(out, incompleteReason{err: unaggregatedError(n, in.maxServices),
			request: fmt.Sprintf("INCOMPLETE analysis: %d connections were not analysed (more than --max-services=%d services: a scan?): a rule listed as missing may have been used by them, and rules they needed are not in this request", n, in.maxServices),
			brief:   fmt.Sprintf("%d connections were not analysed: more than --max-services=%d services (a scan?)", n, in.maxServices)})
	}
	if n := in.nameOverflow; n > 0 {
		err := nameOverflowError(n, in.nameMax)
		out = append(out, incompleteReason{err: err, request: "INCOMPLETE analysis: " + err.Error(),
			brief: fmt.Sprintf("%d host names of the ssl.log and http.log were not kept (their connections are unnamed)", n)})
	}
	if n := in.dnsOverflow; n > 0 {
		err := dnsOverflowError(n, in.nameMax)
		out = append(out, incompleteReason{err: err, request: "INCOMPLETE analysis: " + err.Error(),
			brief: fmt.Sprintf("%d DNS answers of the dns.log were not kept (the addresses they named may be unnamed)", n)})
	}
	return out
}

// err joins the reasons' errors: nil when the analysis is not incomplete.
func (in incompleteness) err() error {
	var errs []error
	for _, r := range in.reasons() {
		errs = append(errs, r.err)
	}
	return errors.Join(errs...)
}
