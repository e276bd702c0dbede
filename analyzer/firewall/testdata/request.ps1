# flowaudit rules: a firewall change request to review, not a policy to apply blindly.
# Each line names the vendor documents' rules that justify it; check every one against the site's policy.
# A source written as any is Any in the documents: every client may open the connection.
# flowaudit test; inventory testdata/inventory.yaml; 14 of 17 catalog rules apply.
# Evidence: captures/pilot.pcapng.
# 11 lines (--only all, one address object per role).
# Left out, waived: fw-client-peer-9000 (ticket CHG-9000: not in the pilot's scope; blocked)
# Left out, waived: fw-client-server-8443 (ticket CHG-8443: blocked, and a waiver accepts it: the admin port stays closed to users; blocked)
# Remove them all with: Remove-NetFirewallRule -Group 'flowaudit'

# 1. Any → FW Server udp/53 [observed]
#    fw-any-server-53 [site rule testdata/catalog.yaml:61]: Name resolution "for everyone" — observed: 1 connection, first frame pilot.pcapng#30
# on FW Server: srv01, srv02
New-NetFirewallRule -DisplayName 'flowaudit 1: Any → FW Server udp/53' -Group 'flowaudit' -Direction Inbound -Action Allow -Protocol UDP -LocalPort 53 -RemoteAddress Any -Description 'fw-any-server-53 [site rule testdata/catalog.yaml:61]: Name resolution "for everyone" — observed: 1 connection, first frame pilot.pcapng#30'

# 2. FW Client → FW Client udp/50000-50059 [observed]
#    fw-client-client-p2p [site rule testdata/catalog.yaml:134]: Peer-to-peer media between clients of one address block — observed: 1 connection, first frame pilot.pcapng#99
# on FW Client: clients
New-NetFirewallRule -DisplayName 'flowaudit 2: FW Client → FW Client udp/50000-50059' -Group 'flowaudit' -Direction Inbound -Action Allow -Protocol UDP -LocalPort 50000-50059 -RemoteAddress 198.51.100.0/24,2001:db8:1::/64 -Description 'fw-client-client-p2p [site rule testdata/catalog.yaml:134]: Peer-to-peer media between clients of one address block — observed: 1 connection, first frame pilot.pcapng#99'

# 3. FW Client → FW Server icmp [missing]
#    fw-client-server-icmp [site rule testdata/catalog.yaml:54]: Echo — never seen
# on FW Server: srv01, srv02
New-NetFirewallRule -DisplayName 'flowaudit 3: FW Client → FW Server icmp' -Group 'flowaudit' -Direction Inbound -Action Allow -Protocol ICMPv4 -RemoteAddress 198.51.100.0/24,2001:db8:1::/64 -Description 'fw-client-server-icmp [site rule testdata/catalog.yaml:54]: Echo — never seen'

# 4. FW Client → FW Server tcp/443-445, 1000, 1002, 1004, 1006, 1008, 1010, 1012, 1014, 1016, 1018, 1020, 1022, 1024, 1026, 1028, 1030-1031, 1040 [observed+missing]
#    fw-client-server-443 [site rule testdata/catalog.yaml:22]: Login — observed: 3 connections, first frame pilot.pcapng#9
#    fw-client-server-444 [site rule testdata/catalog.yaml:30]: Contiguous with 443, merged into one range — never seen
#    fw-client-server-many [site rule testdata/catalog.yaml:46]: More ports than one multiport match takes — observed: 2 connections, first frame pilot.pcapng#90
# on FW Server: srv01, srv02
New-NetFirewallRule -DisplayName 'flowaudit 4: FW Client → FW Server tcp/443-445, 1000, 1002, 1004, 1006, 1008, 1010, 1012, 1014, 1016, 1018, 1020, 1022, 1024, 1026, 1028, 1030-1031, 1040' -Group 'flowaudit' -Direction Inbound -Action Allow -Protocol TCP -LocalPort 443-445,1000,1002,1004,1006,1008,1010,1012,1014,1016,1018,1020,1022,1024,1026,1028,1030-1031,1040 -RemoteAddress 198.51.100.0/24,2001:db8:1::/64 -Description 'fw-client-server-443 [site rule testdata/catalog.yaml:22]: Login — observed: 3 connections, first frame pilot.pcapng#9 | fw-client-server-444 [site rule testdata/catalog.yaml:30]: Contiguous with 443, merged into one range — never seen | fw-client-server-many [site rule testdata/catalog.yaml:46]: More ports than one multiport match takes — observed: 2 connections, first frame pilot.pcapng#90'

# 5. FW Client → FW Server udp/3389 [blocked]
#    fw-client-server-3389 [site rule testdata/catalog.yaml:38]: Display protocol over UDP — blocked: 3 connections, none established, first frame pilot.pcapng#20, blocked by ICMP 3/13 communication administratively prohibited from 192.0.2.1 (a router or firewall in the path)
# on FW Server: srv01, srv02
New-NetFirewallRule -DisplayName 'flowaudit 5: FW Client → FW Server udp/3389' -Group 'flowaudit' -Direction Inbound -Action Allow -Protocol UDP -LocalPort 3389 -RemoteAddress 198.51.100.0/24,2001:db8:1::/64 -Description 'fw-client-server-3389 [site rule testdata/catalog.yaml:38]: Display protocol over UDP — blocked: 3 connections, none established, first frame pilot.pcapng#20, blocked by ICMP 3/13 communication administratively prohibited from 192.0.2.1 (a router or firewall in the path)'

# 6. FW Edge → *.example.com tcp/443 [observed]
#    fw-edge-cloud-443 [site rule testdata/catalog.yaml:85]: Cloud service (outbound-only) — observed: 1 connection, first frame pilot.pcapng#100, names seen: api.example.com (sni) at 198.18.0.10
# not written: destination *.example.com is a host name, unresolved: resolve it to addresses (or a name-based object) before opening

# 7. FW Edge → update.example.net tcp/443 [missing]
#    fw-edge-update-443 [site rule testdata/catalog.yaml:94]: Updates — never seen
# not written: destination update.example.net is a host name, unresolved: resolve it to addresses (or a name-based object) before opening

# 8. FW Peer → FW Server tcp/8080 [missing]
#    fw-peer-server-8080 [site rule testdata/catalog.yaml:69]: Replication, either side opens — never seen
# on FW Server: srv01, srv02
New-NetFirewallRule -DisplayName 'flowaudit 8: FW Peer → FW Server tcp/8080' -Group 'flowaudit' -Direction Inbound -Action Allow -Protocol TCP -LocalPort 8080 -RemoteAddress 192.0.2.20,192.0.2.21 -Description 'fw-peer-server-8080 [site rule testdata/catalog.yaml:69]: Replication, either side opens — never seen'

# 9. FW Peer → 224.0.0.18 vrrp [observed]
#    fw-peer-peer-vrrp [site rule testdata/catalog.yaml:78]: VRRP between the peers — observed: 5 connections, first frame pilot.pcapng#50
# on FW Peer: peer01, peer02
New-NetFirewallRule -DisplayName 'flowaudit 9: FW Peer → 224.0.0.18 vrrp' -Group 'flowaudit' -Direction Outbound -Action Allow -Protocol 112 -RemoteAddress 224.0.0.18 -Description 'fw-peer-peer-vrrp [site rule testdata/catalog.yaml:78]: VRRP between the peers — observed: 5 connections, first frame pilot.pcapng#50'

# 10. FW Server → FW Peer tcp/8080 [observed]
#    fw-peer-server-8080 (reverse direction of a bidirectional rule) [site rule testdata/catalog.yaml:69]: Replication, either side opens — observed: 1 connection, first frame pilot.pcapng#40
# on FW Peer: peer01, peer02
New-NetFirewallRule -DisplayName 'flowaudit 10: FW Server → FW Peer tcp/8080' -Group 'flowaudit' -Direction Inbound -Action Allow -Protocol TCP -LocalPort 8080 -RemoteAddress 192.0.2.10,192.0.2.11,2001:db8::10 -Description 'fw-peer-server-8080 (reverse direction of a bidirectional rule) [site rule testdata/catalog.yaml:69]: Replication, either side opens — observed: 1 connection, first frame pilot.pcapng#40'

# 11. FW Server → 169.254.169.254 tcp/80 [observed]
#    fw-server-metadata-80 [site rule testdata/catalog.yaml:102]: Instance metadata — observed: 1 connection, first frame pilot.pcapng#80
# on FW Server: srv01, srv02
New-NetFirewallRule -DisplayName 'flowaudit 11: FW Server → 169.254.169.254 tcp/80' -Group 'flowaudit' -Direction Outbound -Action Allow -Protocol TCP -RemotePort 80 -RemoteAddress 169.254.169.254 -Description 'fw-server-metadata-80 [site rule testdata/catalog.yaml:102]: Instance metadata — observed: 1 connection, first frame pilot.pcapng#80'
