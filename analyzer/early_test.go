package analyzer

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/flow"
	"github.com/flowaudit/flowaudit/analyzer/pcapgen"
)

// TestEarly: a capture whose digest was begun before Run (StartEarly)
// gives the Result of one Run opened itself, in every position and kind
// (the first capture, a conn.log, with late digests, with --parallel);
// the early file is taken once and the handle closed at the end.
func TestEarly(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("files are memory-mapped on Linux only")
	}
	dir := filepath.Join("..", "testdata", "captures")
	pcapA := filepath.Join(dir, "link-ipv4.pcap")
	pcapB := filepath.Join(dir, "mpls.pcap")
	gz := filepath.Join(dir, "pcapng-le.pcapng.gz")
	csv := filepath.Join("testdata", "nfdump.csv")
	for _, tc := range []struct {
		name  string
		paths []string
		opts  Options
	}{
		{"one capture", []string{pcapA}, Options{}},
		{"late digests", []string{pcapA, pcapB}, Options{LateDigests: true}},
		{"gzip", []string{gz, pcapA}, Options{}},
		{"flow log", []string{csv}, Options{}},
		{"parallel", []string{pcapA, pcapB}, Options{Parallel: true}},
		{"given twice", []string{pcapA, pcapA}, Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, wantErr := Run(tc.paths, tc.opts)
			opts := tc.opts
			opts.Early = StartEarly(tc.paths[0], false)
			if opts.Early == nil {
				t.Fatal("not started")
			}
			got, gotErr := Run(tc.paths, opts)
			if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
				t.Fatalf("Run: %v\nwithout Early: %v", gotErr, wantErr)
			}
			if tc.opts.LateDigests {
				if err := want.WaitDigests(); err != nil {
					t.Fatal(err)
				}
				if err := got.WaitDigests(); err != nil {
					t.Fatal(err)
				}
			}
			if !reflect.DeepEqual(got.Captures, want.Captures) || !reflect.DeepEqual(got.Services, want.Services) {
				t.Errorf("with Early:\n%+v\nwithout:\n%+v", got.Captures, want.Captures)
			}
			data, err := os.ReadFile(tc.paths[0])
			if err != nil {
				t.Fatal(err)
			}
			if sum := sha256.Sum256(data); got.Captures[0].SHA256 != hex.EncodeToString(sum[:]) {
				t.Errorf("digest %s, want %x", got.Captures[0].SHA256, sum)
			}
			if !opts.Early.taken {
				t.Error("the early file was not taken")
			}
			if _, err := opts.Early.f.Stat(); err == nil {
				t.Error("the early file is still open after Run")
			}
		})
	}
}

// TestEarlyNotRead: an early file Run does not read (another path; Run
// failed before it read any; the command failed before Run) is given up: its digest stops, its handle
// is closed, and Close after that, or twice, does nothing.
func TestEarlyNotRead(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("files are memory-mapped on Linux only")
	}
	// Large enough that the digest is still running when it is stopped.
	path := filepath.Join(t.TempDir(), "big")
	data := make([]byte, 64<<20)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	e := StartEarly(path, false)
	if e == nil {
		t.Fatal("not started")
	}
	other := filepath.Join("..", "testdata", "captures", "link-ipv4.pcap")
	if _, err := Run([]string{other}, Options{Early: e}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.f.Stat(); err == nil {
		t.Error("the file Run did not read is still open")
	}
	select {
	case d := <-e.digest:
		if d.err != nil && !errors.Is(d.err, errStopped) {
			t.Errorf("digest: %v", d.err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the digest did not stop")
	}
	e.Close()
	// Nor when Run fails before it reads any file (a path that does not
	// exist after it): the file is given up, its shared map released.
	e = StartEarly(other, false)
	if e == nil {
		t.Fatal("not started")
	}
	if _, err := Run([]string{other, filepath.Join(t.TempDir(), "none")}, Options{Early: e}); err == nil {
		t.Fatal("no error for a missing file")
	}
	if _, err := e.f.Stat(); err == nil {
		t.Error("the file of a Run that read nothing is still open")
	}
	var nilEarly *Early
	nilEarly.Close()
	if StartEarly("-", false) != nil || StartEarly(t.TempDir(), false) != nil || StartEarly(filepath.Join(t.TempDir(), "none"), false) != nil {
		t.Error("started for standard input, a directory or a missing file")
	}
}

// TestStop: a Run whose Options.Stop is set ends with ErrStopped at its
// next check, before the next file when set between files, within 1,024
// packets when set while reading, and reads nothing when set before.
func TestStop(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mix.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := pcapgen.Mix{Seed: 1, Flows: 500}.Write(f, pcapgen.WriteOptions{})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	if st.Packets < 4*progressEvery {
		t.Fatalf("only %d packets", st.Packets)
	}
	t.Run("before", func(t *testing.T) {
		var stop atomic.Bool
		stop.Store(true)
		res, err := Run([]string{path, path}, Options{Stop: &stop})
		if !errors.Is(err, ErrStopped) || res.Packets != 0 {
			t.Errorf("%d packets read, %v", res.Packets, err)
		}
	})
	t.Run("parallel", func(t *testing.T) {
		// Each file read in parallel waits for its digest at its end:
		// the digests stop too, not hashing every file to its end
		// before the stopped Run returns.
		var stop atomic.Bool
		stop.Store(true)
		res, err := Run([]string{path, path, path}, Options{Stop: &stop, Parallel: true})
		if !errors.Is(err, ErrStopped) {
			t.Errorf("%v", err)
		}
		for _, c := range res.Captures {
			if c.SHA256 != "" {
				t.Errorf("%s: hashed to its end after the Run was stopped", c.Path)
			}
		}
	})
	t.Run("name logs", func(t *testing.T) {
		// The ssl.log beside a conn.log is read before the conn.log:
		// stopped, it is not read (and hashed) to its end either.
		dir := t.TempDir()
		conn, err := os.ReadFile(filepath.Join("..", "testdata", "zeek-baselines", "core.vlan-mpls.conn.log"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "conn.log"), conn, 0o644); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		b.WriteString("#separator \\x09\n#path\tssl\n#fields\tts\tuid\tserver_name\n#types\ttime\tstring\tstring\n")
		const lines = 10000
		for i := range lines {
			fmt.Fprintf(&b, "1.0\tC%07d\thost%d.example.com\n", i, i)
		}
		if err := os.WriteFile(filepath.Join(dir, "ssl.log"), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := Run([]string{filepath.Join(dir, "conn.log")}, Options{})
		if err != nil || res.ZeekNames == nil || res.ZeekNames.Names != lines {
			t.Fatalf("not stopped: %+v, %v", res.ZeekNames, err)
		}
		var stop atomic.Bool
		stop.Store(true)
		res, err = Run([]string{filepath.Join(dir, "conn.log")}, Options{Stop: &stop})
		if !errors.Is(err, ErrStopped) || res.ZeekNames == nil || res.ZeekNames.Names >= 1024 {
			t.Errorf("stopped: %+v, %v", res.ZeekNames, err)
		}
	})
	t.Run("while reading", func(t *testing.T) {
		var stop atomic.Bool
		conns := 0
		res, err := Run([]string{path, path}, Options{Stop: &stop, OnConnection: func(*flow.Connection) {
			if conns++; conns == 10 {
				stop.Store(true)
			}
		}})
		if !errors.Is(err, ErrStopped) || res.Packets == 0 || res.Packets >= uint64(st.Packets) {
			t.Errorf("%d of %d packets read, %v", res.Packets, st.Packets, err)
		}
	})
}

// TestEarlyFIFO: a named pipe given first is not opened by StartEarly:
// its open would wait for the writer, and closing it again (it is no
// regular file) would lose what the writer wrote, or end the writer, so
// that Run, opening it afterwards, waited for a writer forever. Run
// reads it as it would without StartEarly.
func TestEarlyFIFO(t *testing.T) {
	capPath := filepath.Join("..", "testdata", "captures", "link-ipv4.pcap")
	data, err := os.ReadFile(capPath)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Run([]string{capPath}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	go func() { // the writer, as `tcpdump -w fifo` or `zcat > fifo` is
		if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			f.Write(data)
			f.Close()
		}
	}()
	type result struct {
		res *Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		e := StartEarly(fifo, false)
		if e != nil {
			e.Close()
			done <- result{err: errors.New("StartEarly took a named pipe")}
			return
		}
		res, err := Run([]string{fifo}, Options{Early: e})
		done <- result{res, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatal(r.err)
		}
		if len(r.res.Captures) != 1 || r.res.Captures[0].Packets != want.Captures[0].Packets || !reflect.DeepEqual(r.res.Services, want.Services) {
			t.Errorf("read from the pipe: %+v\nfrom the file: %+v", r.res.Captures, want.Captures)
		}
	case <-time.After(20 * time.Second):
		// Unblock an open that waits for a writer, so the test ends.
		if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
		t.Fatal("analysing a named pipe given first hangs")
	}
}

// TestEarlyNameLog: an early file that turns out to be a Zeek name log
// (taken out of the files and read as names) is given up before the
// files are read, its digest stopped, not left hashing it on the other
// core the whole run.
func TestEarlyNameLog(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("files are memory-mapped on Linux only")
	}
	dir := t.TempDir()
	conn, err := os.ReadFile(filepath.Join("..", "testdata", "zeek-baselines", "core.vlan-mpls.conn.log"))
	if err != nil {
		t.Fatal(err)
	}
	connPath := filepath.Join(dir, "conn.log")
	if err := os.WriteFile(connPath, conn, 0o644); err != nil {
		t.Fatal(err)
	}
	ssl := filepath.Join(t.TempDir(), "names.log") // not beside the conn.log: given
	if err := os.WriteFile(ssl, []byte("#separator \\x09\n#path\tssl\n#fields\tts\tuid\tserver_name\n#types\ttime\tstring\tstring\n1.0\tCabc\texample.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e := StartEarly(ssl, false)
	if e == nil {
		t.Fatal("not started")
	}
	open := 0 // connections ended while the early file was still open
	res, err := Run([]string{ssl, connPath}, Options{Early: e, OnConnection: func(*flow.Connection) {
		if _, err := e.f.Stat(); err == nil {
			open++
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Records == 0 || res.ZeekNames == nil || len(res.ZeekNames.Files) != 1 {
		t.Fatalf("%d records, names %+v", res.Records, res.ZeekNames)
	}
	if open > 0 {
		t.Errorf("the name log's early digest still ran while %d connections were read", open)
	}
}
