package main

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/report"
)

var inlineSVG = regexp.MustCompile(`(?s)<figure class="graph">(<svg width="(\d+)pt" height="(\d+)pt".*?</svg>)</figure>`)

// TestSampleGraphs: the HTML report of each sample pilot shows its graph
// as inline SVG with no two labels over each other, and -f dot is a graph
// Graphviz's own dot accepts (when it is installed).
func TestSampleGraphs(t *testing.T) {
	t.Chdir(sampleRoot)
	dot, dotErr := exec.LookPath("dot")
	for _, p := range samplePilots {
		t.Run(p.family, func(t *testing.T) {
			_, html, errs := analyzeCmd(t, p.args("html")...)
			m := inlineSVG.FindStringSubmatch(html)
			if m == nil {
				t.Fatalf("no inline SVG graph in the HTML report: %s", errs)
			}
			if w, _ := strconv.Atoi(m[2]); w < 200 || w > 1400 {
				t.Errorf("graph %spt wide, want 200-1400 (readable on a page)", m[2])
			}
			if err := report.LabelOverlaps([]byte(m[1])); err != nil {
				t.Error(err)
			}
			if strings.Contains(html, "<script") {
				t.Error("the HTML report has a script")
			}

			code, out, errs := analyzeCmd(t, p.args("dot")...)
			if code != exitFindings || !strings.HasPrefix(out, "// flowaudit role-to-role graph") || !strings.Contains(out, "digraph flowaudit {") {
				t.Fatalf("-f dot: exit %d: %.200s %s", code, out, errs)
			}
			if dotErr != nil {
				t.Skip("dot (Graphviz) not installed: -f dot not checked by Graphviz itself")
			}
			cmd := exec.Command(dot, "-Tsvg")
			cmd.Stdin = strings.NewReader(out)
			var svg, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &svg, &stderr
			if err := cmd.Run(); err != nil || stderr.Len() > 0 {
				t.Fatalf("dot -Tsvg: %v: %s", err, stderr.String())
			}
			if !bytes.Contains(svg.Bytes(), []byte("<svg")) || bytes.Count(svg.Bytes(), []byte(`class="edge"`)) != strings.Count(out, " -> ") {
				t.Errorf("dot -Tsvg drew %d edges, the DOT has %d", bytes.Count(svg.Bytes(), []byte(`class="edge"`)), strings.Count(out, " -> "))
			}
		})
	}
}

// browserCheck runs in the page Chromium loads: it measures every text of
// the graph as the browser drew it (its own fonts), looks for two labels
// of different nodes or edges over each other, and writes the result into
// the page, which --dump-dom prints.
const browserCheck = `<script>
(function () {
  var out = [];
  var svg = document.querySelector("figure.graph svg");
  if (!svg) { out.push("no svg"); } else {
    var r = svg.getBoundingClientRect();
    out.push("svg " + Math.round(r.width) + "x" + Math.round(r.height));
    var texts = Array.prototype.slice.call(svg.querySelectorAll("g.node text, g.edge text"));
    var boxes = texts.map(function (t) { return {g: t.closest("g.node, g.edge"), b: t.getBoundingClientRect(), s: t.textContent}; });
    var slack = 1;
    for (var i = 0; i < boxes.length; i++) for (var j = i + 1; j < boxes.length; j++) {
      var a = boxes[i], c = boxes[j];
      if (a.g === c.g) continue;
      if (a.b.left + slack < c.b.right - slack && c.b.left + slack < a.b.right - slack &&
          a.b.top + slack < c.b.bottom - slack && c.b.top + slack < a.b.bottom - slack)
        out.push("overlap: " + a.s + " / " + c.s);
    }
  }
  var pre = document.createElement("pre");
  pre.id = "flowaudit-check";
  pre.textContent = out.join("\n");
  document.body.appendChild(pre);
})();
</script>`

var checkResult = regexp.MustCompile(`(?s)<pre id="flowaudit-check">(.*?)</pre>`)

// TestSampleGraphsInBrowser opens each sample's HTML report in headless
// Chromium (when installed): the SVG is there and sized, no two labels
// overlap in the browser's own fonts, and a screenshot of the page is a
// real image. The check's script is added to a copy of the page; the
// report itself has none.
func TestSampleGraphsInBrowser(t *testing.T) {
	var browser string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		t.Skip("no Chromium installed (apt-get install chromium): the HTML reports are not checked in a browser")
	}
	if testing.Short() {
		t.Skip("-short: no browser")
	}
	t.Chdir(sampleRoot)
	tmp := t.TempDir()
	chrome := func(args ...string) ([]byte, error) {
		args = append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
			"--user-data-dir=" + filepath.Join(tmp, "profile"), "--window-size=1280,1600"}, args...)
		cmd := exec.Command(browser, args...)
		cmd.WaitDelay = 5 * time.Second
		var out bytes.Buffer
		cmd.Stdout = &out
		done := make(chan error, 1)
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			return out.Bytes(), err
		case <-time.After(90 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			return out.Bytes(), os.ErrDeadlineExceeded
		}
	}
	for i, p := range samplePilots {
		t.Run(p.family, func(t *testing.T) {
			_, html, _ := analyzeCmd(t, p.args("html")...)
			page := filepath.Join(tmp, p.family+".html")
			if err := os.WriteFile(page, []byte(strings.Replace(html, "</body>", browserCheck+"\n</body>", 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			dom, err := chrome("--dump-dom", "file://"+page)
			if err != nil {
				t.Fatalf("chromium --dump-dom: %v", err)
			}
			m := checkResult.FindSubmatch(dom)
			if m == nil {
				t.Fatalf("the check did not run: %.300s", dom)
			}
			lines := strings.Split(string(m[1]), "\n")
			var w, h int
			if _, err := fmt.Sscanf(lines[0], "svg %dx%d", &w, &h); err != nil || w < 200 || h < 100 {
				t.Errorf("graph drawn %q, want an SVG at least 200x100 px", lines[0])
			}
			for _, l := range lines[1:] {
				t.Error(l)
			}
			if i > 0 {
				return // one screenshot is enough
			}
			shot := filepath.Join(tmp, p.family+".png")
			if _, err := chrome("--screenshot="+shot, "--hide-scrollbars", "file://"+filepath.Join(tmp, p.family+".html")); err != nil {
				t.Fatalf("chromium --screenshot: %v", err)
			}
			f, err := os.Open(shot)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			img, err := png.Decode(f)
			if err != nil {
				t.Fatalf("screenshot: %v", err)
			}
			if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 1600 {
				t.Errorf("screenshot %v, want 1280x1600", b)
			}
		})
	}
}
