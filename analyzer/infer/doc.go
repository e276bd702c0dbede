// Package infer proposes catalog roles for the hosts seen in captures:
// services × catalog → role candidates per host. It is what `flowaudit
// roles` prints as a draft inventory and what `analyze --infer-roles` adds
// for hosts the inventory does not name.
//
// # Evidence
//
// For every address, the services it answered (it was the server and at
// least one connection was established: a refused or unanswered port says
// nothing about what listens) and the services it called (it was the
// client, whatever the outcome: a blocked call still says what the host
// is). Only unicast addresses get roles. Traffic to broadcast and
// multicast addresses is evidence about its sender only; loopback,
// link-local and unspecified addresses are never given a role.
//
// # Items
//
// The catalog is read as items: (direction, protocol, port range). A rule
// gives its To role an "answered" item and its From role a "called" item
// for each of its protocols and port ranges; a bidirectional rule gives
// each side both. A group role's rules count for every member; "Any", host
// patterns and address lists count for no role. A role's items are those
// of all its rules; a role with modes is also a candidate in each mode that
// documents fewer items than the plain role (its own rules and the plain
// ones), so "RAS Secure Gateway (Forwarding mode)" can win when only the
// forwarding ports were seen.
//
// # Weights
//
// Each item weighs
//
//	w(i) = ln(N / df(i)) × (1 − log2(W) / 16)
//
// The first factor is an inverse document frequency: N is the number of
// roles documenting anything, df(i) the number documenting item i, so a
// port one role documents (tcp/1494 answered: the Virtual Delivery Agent)
// weighs ln N ≈ 4.8 and one many roles document (tcp/443) about 1. The
// second is the share of a port number's 16 bits a range of W ports pins
// down: 1 for a single port, 0.8 for a range of ten, almost 0 for
// 1024-65535, so wide dynamic ranges explain traffic without carrying
// evidence.
//
// # Score
//
// A host's observations activate the items whose range holds the port
// (observations no role documents are listed, not scored). The score of a
// candidate role is the cosine between the host's and the role's weighted
// item vectors:
//
//	score(R) = Σ_{i ∈ H∩R} w(i)² / ( √(Σ_{i ∈ H} w(i)² + κ²) · √(Σ_{i ∈ R} w(i)²) )
//
// The numerator is the evidence the role explains. The role's norm
// normalises by what the role documents, so a role documenting everything
// does not win by explaining everything; the host's norm counts what the
// host did that the role leaves unexplained. κ is one pseudo-item of the
// catalog's mean weight that no role explains, so sparse evidence cannot
// score high: a host seen only answering tcp/443 scores at most 0.25,
// however well one role fits.
//
// # Proposals
//
// The best candidate becomes the host's role when it scores at least
// MinScore. If a different role scores exactly the same (the two document
// the same items, or the evidence touches only items they share), the host
// is ambiguous: the tied roles are reported in Host.Tied and no role is
// proposed. Further roles (up to MaxRoles) are added greedily for answered
// items the roles so far leave unexplained, when such a role scores at
// least MinScore on them and explains at least 15% of the host's squared
// weight; calls alone never add a role, since every host calls directory,
// name and time services. Up to Runners other roles are kept as runners-up.
//
// Everything is deterministic: hosts come out sorted by address,
// observations by direction, protocol and port, and candidates by score,
// then explained weight, then role name.
//
// # Limits
//
// Roles that document the same items cannot be told apart (Unified Access
// Gateway and Horizon Security Server; vCenter, JMP Server and the cloud
// services that only answer tcp/443). Evidence is binary: a port seen once
// counts as much as one seen a thousand times. The peer's role is not used:
// answering tcp/443 to a Horizon Client counts the same as answering it to
// anyone.
package infer
