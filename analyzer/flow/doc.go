// Package flow turns decoded packet summaries (decode.Packet) into
// connections and per-service aggregates.
//
// A Tracker keeps one live entry per connection: the 5-tuple in both
// directions plus the VLAN tags (for ICMP the echo identifier or the message
// type instead of ports; for other IP protocols the protocol number alone).
// Each entry records who is the client (originator) and who the server
// (responder), packets and bytes each way, first and last packet time and
// frame, and for TCP a port of Zeek's endpoint state machine, so that the
// conn_state, history and missed_bytes columns read like Zeek's conn.log
// (content gaps are counted hole by hole, as Zeek's reassembler counts them,
// over a fixed set of holes per side: see maxHoles).
//
// The client is the sender of a SYN, the receiver of a SYN-ACK, the sender
// of an ICMP request; otherwise a ServerPorts implementation (the catalog)
// names the server port, then well-known ports (< 1024), then ephemeral
// ports (>= 32768), then the sender of the first packet. Connection.ClientBy
// records which rule decided.
//
// ICMP errors (unreachable, time exceeded, ...) are attached to the
// connection whose header they quote; an unreachable marks it rejected. An
// error quoting a connection the tracker has not seen becomes a one-way ICMP
// connection of its own, as in Zeek. Non-first IP fragments count toward the
// connection of their datagram's first fragment through a small bounded
// table, including fragments that arrive before the first one.
//
// Memory follows live connections, not capture size: a connection that
// closes, idles past its timeout, is replaced by a new SYN on the same ports,
// or is evicted because the table is full (oldest idle first) is handed to
// Config.OnConnection and folded into its Service at once. At the end of
// input, Flush emits the remaining connections sorted by first frame. The
// per-packet path on an existing connection does not allocate.
package flow
