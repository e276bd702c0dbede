module github.com/flowaudit/flowaudit

go 1.26.8

require (
	github.com/google/gopacket v1.1.19 // indirect
	github.com/gopacket/gopacket v1.7.7 // indirect
	github.com/jedib0t/go-pretty/v6 v6.8.3 // indirect
	github.com/spf13/pflag v1.0.10 // indirect
	go.yaml.in/yaml/v3 v3.0.6 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/term v0.47.0 // indirect
)
