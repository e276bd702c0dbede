package report

import (
	"context"
	"html/template"
	"io"
)

// HTML writes a self-contained page: inline styles, no scripts, no fonts
// or images fetched, so it opens from an evidence folder or an e-mail.
func (r *Report) HTML(w io.Writer) error {
	data := struct {
		R          *Report
		Tables     []Table
		Gen        string
		Caps       string
		Incomplete []string
		Graph      template.HTML
		GraphError string
		GraphIntro string
	}{R: r, Tables: r.AllTables(), Gen: TS(r.Generated), Caps: captureList(r), Incomplete: r.Incomplete(), GraphIntro: graphIntro}
	// Graphviz escapes every label it writes into the SVG.
	if svg, err := r.Graph().SVG(context.Background()); err != nil {
		data.GraphError = err.Error()
	} else {
		data.Graph = template.HTML(svg)
	}
	return htmlPage.Execute(w, data)
}

var htmlPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"code": func(t Table, i int) bool { return t.Code[i] },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>flowaudit report</title>
{{template "style"}}
</head>
<body>
<h1>flowaudit report</h1>
<p class="meta">{{.R.Tool}} {{.R.Version}}, generated {{.Gen}}. Captures: {{.Caps}}.</p>
{{with .R.FrameNote}}<p class="meta">Note: {{.}}.</p>
{{end}}{{if .Incomplete}}<div class="incomplete" role="alert"><strong>Incomplete report: not every frame of the captures was analysed.</strong>
<ul>{{range .Incomplete}}<li>{{.}}</li>{{end}}</ul></div>
{{end}}<nav>{{range $i, $t := .Tables}}<a href="#{{$t.ID}}">{{$t.Title}}</a> {{if eq $i 0}}<a href="#graph">Graph</a> {{end}}{{end}}</nav>
{{template "tables" (slice .Tables 0 1)}}
<h2 id="graph" class="graph">Graph</h2>
<p class="intro">{{.GraphIntro}}</p>
<p class="legend"><span class="documented">documented</span> <span class="undocumented">undocumented</span> <span class="blocked">blocked</span> <span class="missing">never seen</span> <span class="waived">waived</span></p>
{{if .Graph}}<figure class="graph">{{.Graph}}</figure>{{else}}<p>The graph could not be laid out: {{.GraphError}}</p>{{end}}
{{template "tables" (slice .Tables 1)}}
</body>
</html>
{{define "style"}}<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em;color:#1d1d1f;background:#fff}
h1{font-size:1.6em;margin:0 0 .2em}
h2{font-size:1.15em;margin:1.8em 0 .4em;padding-left:.5em;border-left:4px solid #999}
h2.undocumented{border-color:#c62828}h2.blocked{border-color:#ef8f00}h2.missing{border-color:#8e24aa}
h2.optional-missing{border-color:#ce93d8}h2.documented{border-color:#2e7d32}h2.waived{border-color:#00838f}
p.meta,p.intro{color:#555;margin:.2em 0 .6em}
table{border-collapse:collapse;width:100%;margin:.3em 0 1em;font-size:13px}
th,td{border:1px solid #d0d0d0;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3;position:sticky;top:0}
tr:nth-child(even) td{background:#fafafa}
code{font:12px/1.3 ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
nav a{margin-right:1em}
div.incomplete{border:2px solid #c62828;background:#fdecea;color:#7f1d1d;padding:.6em 1em;margin:.8em 0}
div.incomplete ul{margin:.3em 0 0;padding-left:1.2em}
p.note{color:#7f1d1d;margin:.2em 0 .6em}
figure.graph{margin:.5em 0 1em;overflow-x:auto}
figure.graph svg{max-width:100%;height:auto}
p.legend span{display:inline-block;margin-right:1.2em;padding-left:2.2em;position:relative}
p.legend span::before{content:"";position:absolute;left:0;top:.7em;width:1.8em;border-top:2px solid}
p.legend .documented::before{border-color:#2e7d32}p.legend .undocumented::before{border-color:#c62828;border-top-width:3px}
p.legend .blocked::before{border-color:#ef6c00;border-top-width:3px}p.legend .missing::before{border-color:#8e24aa;border-top-style:dashed}
p.legend .waived::before{border-color:#00838f;border-top-style:dotted}
@media print{th{position:static}body{margin:0}figure.graph{overflow:visible;break-inside:avoid}figure.graph svg{max-height:95vh}}
</style>{{end}}{{define "tables"}}{{range $t := .}}
<h2 id="{{$t.ID}}" class="{{$t.ID}}">{{$t.Title}}</h2>
{{if $t.Intro}}<p class="intro">{{$t.Intro}}</p>{{end}}
{{- if $t.Note}}<p class="note"><strong>Note:</strong> {{$t.Note}}</p>{{end}}
{{if $t.Rows}}<table>
<thead><tr>{{range $t.Header}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range $t.Rows}}<tr>{{range $i, $c := .}}<td>{{if code $t $i}}<code>{{$c}}</code>{{else}}{{$c}}{{end}}</td>{{end}}</tr>
{{end}}</tbody>
</table>{{else}}<p>None.</p>{{end}}
{{end}}{{end}}`))
