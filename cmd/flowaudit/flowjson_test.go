package main

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestAppendJSONMatchesEncoding holds the hand-written encoder to
// encoding/json's output for the same record.
func TestAppendJSONMatchesEncoding(t *testing.T) {
	records := []flowRecord{
		{TS: "1.000001", OrigH: "192.0.2.1", OrigP: 40000, RespH: "2001:db8::1", RespP: 443, Proto: "tcp", Duration: "0.250000",
			OrigBytes: 10, RespBytes: 20, ConnState: "SF", History: "ShADadFf", OrigPkts: 5, OrigIPBytes: 300, RespPkts: 4, RespIPBytes: 400,
			VLAN: 10, InnerVLAN: 20, Tunnel: "vxlan", CommunityID: "1:abc+/=", Outcome: "established", ClientBy: "syn", ICMPErrors: 2,
			File: "a.pcap", FirstFrame: 1, LastFile: "b.pcap", LastFrame: 99},
		{TS: "-0.500000", OrigH: "::1", Proto: "vrrp", Duration: "0.000000", ConnState: "OTH", CommunityID: "", Outcome: "unanswered",
			ClientBy: "first-packet", File: "we\"ird\\ name\n\t\x01\u2028é\xff.pcap"},
	}
	for _, r := range records {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(&r); err != nil {
			t.Fatal(err)
		}
		got := append(r.appendJSON(nil), '\n')
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("appendJSON:\n%s\nencoding/json:\n%s", got, want.Bytes())
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "q\"b\\", "\x00\x1f\x7f", "é\u2028\u2029", "\xff\xfe", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// encoding/json escapes <, > and & unless told not to.
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(s)
		want := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	})
}
