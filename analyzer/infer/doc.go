// Package infer proposes catalog roles for the hosts seen in captures:
// services × catalog → role candidates per host. It is what `flowaudit
// roles` prints as a draft inventory and what `analyze --infer-roles` adds
// for hosts the inventory does not name.
//
// # Hosts
//
// A host is an address, or the addresses the capture ties to one machine
// (Options.MACs, TieAddresses): those that sent their Ethernet frames from
// one source MAC and no other, when that MAC sent for at most one IPv4
// address and MaxTiedAddrs in all (a dual-stack machine; a router's MAC
// sends for every host behind it and ties nothing), and a VRRP group's
// virtual address with the only router that sent both from the group's
// virtual MAC and from its own. Their evidence is scored together under
// the first address (Host.Addrs, Host.TiedBy); an address left untied for
// sharing its MAC or using several gets Host.Note, and so does, when the
// captures show MACs, one they show none for (NoMACNote). A gateway's inside
// address is tied to its front address after the roles are assigned,
// when the capture shows it passing on its clients' connections (see
// Inside addresses).
//
// # Evidence
//
// For every address, the services it answered (it was the server and at
// least one connection was established: a refused or unanswered port says
// nothing about what listens) and the services it called (it was the
// client, whatever the outcome: a blocked call still says what the host
// is). Only unicast addresses get roles. Traffic to broadcast and
// multicast addresses is evidence about its sender only; loopback,
// link-local and unspecified addresses are never given a role. Evidence is
// binary: a service seen once counts as much as one seen a thousand times.
//
// # Items
//
// The catalog is read as items: (direction, protocol, port range). A rule
// gives its To role an "answered" item and its From role a "called" item
// for each of its protocols and port ranges; a bidirectional rule gives
// each side both. A group role's rules count for every member; "Any", host
// patterns and address lists count for no role. Items and weights come from
// the whole catalog; NewModel's products only narrow the candidates to
// those products' roles and the shared infrastructure roles. A candidate's
// items are those of all its role's rules. A role with modes is also a
// candidate in each mode (its mode's rules and the mode-less ones), but
// only for hosts showing an item that mode's own rules document, so a mode
// never wins over its plain role by what was not seen.
//
// # Weights
//
// Each item weighs
//
//	w(i) = ln(N / n(i)) × (1 − log2(W) / 16)
//
// The first factor is an inverse document frequency per (protocol, port
// range): N is the number of roles documenting anything, n(i) the number
// naming the item's protocol and range on either side of a rule. tcp/1494,
// named only by Citrix ICA roles, weighs about 3.4; tcp/443, named by half
// the catalog, about 0.5; udp/53, called by many roles, less than the
// distinctive 22443, 4172, 2598, 20002, 30004 or 5061. The second factor is
// the share of a port number's 16 bits a range of W ports pins down: 1 for
// a single port, 0.8 for a range of ten, almost 0 for 1024-65535, so wide
// dynamic ranges explain traffic without carrying evidence.
//
// # Score
//
// A host's observations activate the items whose range holds their port
// (observations no role documents are listed, not scored). For a candidate
// role R, with dot the squared weight of the host's items R documents:
//
//	precision = dot / (host mass + κ²)
//	recall    = dot / Σ_{i ∈ R} w(i)²
//	score     = precision^(2/3) × recall^(1/3)
//
// Precision is the share of what the host did that the role explains;
// recall the share of what the role documents that the host did. The score
// is their geometric mean weighted 2:1 towards precision, because a
// capture shows everything a host did but only part of what its role
// documents (optional features, failover paths, consoles nobody opened).
// Weighted 1:1 it would be the cosine of the two weighted item vectors.
//
// The host mass is the squared weight of every answered item and of every
// called item except calls, unexplained by R, to a service a shared
// infrastructure role (product "shared": domain controller, DNS, NTP, SQL
// Server, vCenter, web and cloud services …) answers: every host calls its
// directory, name and time servers and the web whether its vendor's table
// says so or not, and those calls must not count against the roles whose
// tables are silent about them. For the same reason such calls alone make
// no candidate: a role must explain something else the host did, so a
// domain member calling its domain controller gets no role. κ is one
// pseudo-item of the catalog's mean weight that no role explains, so sparse
// evidence cannot score high: a host seen only answering tcp/443 scores
// below 0.1 however well a role fits.
//
// # Products
//
// Infer first decides which products the capture shows. An item is
// distinctive of a product when it is a single port that only that
// product's roles name, in at least two rules not marked optional
// (tcp/1494 and 2598 Citrix, tcp and udp 4172 and 22443 Horizon,
// tcp/20002, 20009, 30004 RAS, tcp/5061, 5067, 444 Lync): a port one rule
// names (4001/tcp to a Citrix ADC's lights-out board, which Horizon agents
// use for JMS) is a generic service a table happens to mention.
// A product is present when at least two of its distinctive services
// (protocol and port) were answered or called by any host; when no
// product reaches two, one is enough; when none shows anything
// distinctive, every product stays. Only the present products' roles and
// shared infrastructure are candidates, and of the shared roles only
// those that the rules of a present product (or of shared itself, or of
// several products) name: a report server only the RAS table documents
// is not proposed in a Horizon capture. NewModel's products, when given,
// replace the decision; Options.AllProducts (roles --all-products) keeps
// every product. Result.Products gives the decision with its evidence.
//
// # Joint assignment
//
// Roles are then given to all hosts together, round by round. The first
// round scores each host on its own evidence, as above. Each later round
// rescores every host knowing what its peers were given the round before
// (their proposed roles, or all their tied roles): an observation is
// documented with a peer when a rule names the candidate on one side and
// the peer's role (or Any) on the other for that protocol and port; an
// observation's credit is the share of its peers with a role for which
// it is documented. An item's weight w becomes
//
//	w + credit × κ
//
// for the candidate, so a flow the documents name between the two roles
// counts at least as much as an average item however common its port: a
// host a Connection Server calls on tcp/443 is a vCenter, not one of the
// many roles that answer 443. In the host's mass each item weighs as much
// as the most any candidate makes of it (a flow documented with the peer
// must be explained by the role that wins), and recall counts the boost
// on both sides, (Σ w² + B) / (role mass + B) with B the candidate's
// added squared weight: a role with a big table is right when what it
// documents with these peers was seen. Rounds stop when no host's roles
// change (at most six); Candidate.Alone keeps the first round's score,
// Candidate.Score is the joint one, and Result.Score is the mean best
// score of the hosts given a role.
//
// Options.Known gives roles known beforehand (analyze --infer-roles passes
// the inventory's): from the second round on, the other hosts see those
// addresses with those roles.
//
// Between two roles that score the same only thanks to their peers, the
// one more products' rules name wins (vCenter, which the Horizon, Citrix
// and RAS tables name, over the JMP Server only Horizon's names).
//
// # Equivalent roles
//
// Roles that take part in exactly the same rules on the same sides (the
// Unified Access Gateway and the Horizon Security Server, both reached
// only through the document's "UAG o Security server") cannot be told
// apart by any capture, and an analysis gives them the same flows. The
// first in catalog order is proposed and the others are listed in
// Candidate.Equivalent, instead of proposing nothing.
//
// # Load balancers
//
// A role fronts another when it calls nothing it does not also answer (a
// load balancer or gateway passes on what it receives), both are of the
// same product, and the other answers, by rules of its own, some of the
// same services from the same callers, and more: a Lync pool's hardware
// load balancer fronts its Front End, Director or Mediation servers, the
// RAS HALB its Secure Gateways, the UAG (through the document's "UAG o
// Security server") the Horizon Agents and Connection Server. When a
// host's evidence is the same for both (the server explains every
// observation the front explains, calls to infrastructure aside, each as
// well documented with the peers), the server is preferred, unless the
// host was seen forwarding: calling, on a service the front answers, a
// peer given the server's role. A host seen forwarding keeps the front
// and drops the server when the front explains all the server explains.
//
// # Inside addresses
//
// A two-armed gateway (a UAG with an internal and an external NIC, each
// with its own MAC) shows its clients one address and its servers
// another, and no document lists the calls of the inside one: it calls
// the Connection Server and the agents as a Horizon Client does. After the
// joint assignment, with Options.Flows (the services with their
// connections' spans, flow.Service.Spans), an address B is tied to a
// front address A as its inside address when all of these hold:
//
//   - A's best role fronts servers (see Load balancers: the Unified
//     Access Gateway, a load balancer) and A makes no calls other than
//     neutral ones: calls no role documents, and calls to what shared
//     infrastructure answers (directory, name, time, web) at hosts with no
//     role or only infrastructure roles;
//   - B answers no service a role of the products in scope documents,
//     does not call A and is not called by it;
//   - B calls, besides neutral calls, only hosts given a role of A's
//     product that the documents have A's own callers reach directly on
//     that service (a Horizon Client reaches the Connection Server on
//     tcp/443 and an agent on 22443, as it reaches the UAG), and nothing
//     else;
//   - at least two of B's connections to those servers each started
//     within InsideWindow (1 s) after an answered connection of a client
//     to a service of A's role on A began, and before that connection
//     ended;
//   - that is unlikely by chance: with f the share of the capture's time
//     span the clients' windows cover, and M of B's connections to the
//     servers, N of which follow, P(X ≥ N) for X binomial (M, f) is at
//     most 0.001;
//   - B follows most of the clients: more than half of those clients'
//     connections to A each have one of B's connections starting in their
//     window (a gateway passes on every client; an internal client that
//     happened to start a session right after one remote user's does not
//     follow the others, and a client's own connections, which come in a
//     fixed pattern, are not independent as the binomial assumes);
//   - the pairing is unique: no other address qualifies for A and no other
//     front for B.
//
// B's host is then merged into A's: A's roles (and their scores) stay as
// they were, B's addresses follow A's in Host.Addrs, its observations join
// A's (B's calls are listed as unexplained: no document names them), the
// host is seen forwarding, and Host.TiedBy says "B is the inside address
// of A, tied by forwarding: N of M of its connections to the servers
// behind it (roles) started within X ms after a client's connection to A
// began, while that was open (by chance: p = …); F of the W clients'
// connections it could pass on were followed". Spans are kept for the
// first flow.MaxServiceSpans (16) connections of each service, so M, N, F
// and W count those: a UAG's health checks of its Connection Server fill
// the spans of that service when they come first.
//
// An internal client that logs in and opens a session within a second
// after the only remote user did at the gateway, when the gateway's inside
// address is not in the capture, passes every test and is taken for it;
// with other remote users it follows few of them, and with the inside
// address in the capture the pairing is not unique: nothing is tied. A capture of only the DMZ side (the external address
// and no back-end calls) or only the inside (no client connections to the
// front) ties nothing, nor does a busy gateway whose clients' connections
// cover the capture's time: then anything follows one. A single-armed
// gateway or load balancer calls its servers from the address it answers
// on and is seen forwarding without this. The two sides captured by two
// taps must share a clock: a skew of more than a fraction of a second
// ties nothing.
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
// weight; calls alone never add a role. Up to Runners other roles scoring
// at least half of MinScore are kept as runners-up.
//
// Everything is deterministic: hosts come out sorted by address,
// observations by direction, protocol and port, and candidates by score,
// then (between roles scored with their peers) the products naming them,
// then explained weight, then role name.
//
// # Limits
//
// Roles that document the same items, without peers to tell them apart,
// tie (vCenter Server, VMware JMP Server and the cloud services that only
// answer tcp/443 to a host nobody recognised; several Citrix Cloud
// services). Roles that only call the web (User Device) are never
// proposed, and a host seen only calling infrastructure gets no role. A
// host seen only calling what a client calls (a Connection Server nobody
// called, a UAG's internal address not tied to its front, see Inside
// addresses) is taken for the client; a front seen only answering what
// its server answers (a UAG answering PCoIP, a HALB's virtual address
// not tied to its master) for the server. With one or two common ports,
// a role documenting few ports beats one documenting many by recall. A
// machine with two interfaces is two hosts unless it is a gateway seen
// passing its clients' connections on (Inside addresses), and a capture
// without MACs (raw IP, SLL, packets in tunnels) ties nothing by MAC. A
// router that forwards for a single off-segment IPv4 address and has an
// IPv6 address of its own would be taken for one dual-stack host.
// Distinctive services come from the catalog, not from a list: a generic
// port that only one product's table names, in two rules or more, still
// counts for that product (514/udp for Citrix, 3389/udp for RAS, 1434/udp
// for Lync), and two of them make it present.
package infer
