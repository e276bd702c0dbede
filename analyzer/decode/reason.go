package decode

// Reason says why a frame was not turned into a Packet. The caller counts
// frames by reason; none of them is fatal.
type Reason uint8

// Reasons, in the order reports list them.
const (
	ReasonNone            Reason = iota // decoded
	ReasonUnknownLinkType               // the capture's link type is not one this package reads
	ReasonARP                           // ARP (reports summarize it as link-local housekeeping)
	ReasonNotIP                         // no IP inside: LLDP, STP and other LLC frames, PPPoE discovery, PPP control ...
	ReasonTruncated                     // the capture cut the frame before a header this package needs was complete
	ReasonMalformed                     // a header is impossible (bad IP version or lengths, bad TCP data offset ...)
	ReasonUnsupported                   // an encapsulation that may carry IP but is not followed (MPLS pseudowires, 802.11 A-MSDU ...)
	ReasonWiFiManagement                // an 802.11 management frame (beacon, probe, association, deauthentication ...)
	ReasonWiFiControl                   // an 802.11 control frame (RTS, CTS, ACK, block ack ...)
	ReasonEncrypted                     // an 802.11 data frame whose payload is encrypted (WEP, WPA)
	numReasons
)

var reasonNames = [numReasons]string{
	ReasonNone:            "none",
	ReasonUnknownLinkType: "unknown link type",
	ReasonARP:             "arp",
	ReasonNotIP:           "not IP",
	ReasonTruncated:       "truncated",
	ReasonMalformed:       "malformed",
	ReasonUnsupported:     "unsupported encapsulation",
	ReasonWiFiManagement:  "802.11 management",
	ReasonWiFiControl:     "802.11 control",
	ReasonEncrypted:       "encrypted 802.11",
}

// String is the reason as reports show it.
func (r Reason) String() string {
	if r < numReasons {
		return reasonNames[r]
	}
	return "reason " + string(rune('0'+r/100%10)) + string(rune('0'+r/10%10)) + string(rune('0'+r%10))
}

// Reasons lists every reason, for callers that keep one counter each.
func Reasons() []Reason {
	out := make([]Reason, numReasons)
	for i := range out {
		out[i] = Reason(i)
	}
	return out
}
